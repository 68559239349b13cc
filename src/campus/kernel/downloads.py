"""Downloads that pages and APIs make (exports), named so that a Chinese file name arrives
intact."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(data: bytes, filename: str, ascii_name: str) -> Response:
    """An .xlsx download; browsers use the (Chinese) file name, old clients the ASCII one."""
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": disposition})
