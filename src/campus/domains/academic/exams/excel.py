"""The exam schedule as an Excel workbook (one row per exam and room)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.exams import queries
from campus.kernel.downloads import xlsx_response

HEADERS = ("课程代码", "课程名称", "教学班", "时长（分钟）", "日期", "时间", "考场", "人数")


async def schedule_response(session: AsyncSession, term: Term) -> Response:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "考试安排"
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in await queries.schedule_rows(session, term.id):
        sheet.append(row)
    for column, width in zip("ABCDEFGH", (12, 24, 40, 12, 12, 14, 24, 8), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return xlsx_response(out.getvalue(), f"{term.name}考试安排.xlsx", f"exams-{term.code}.xlsx")
