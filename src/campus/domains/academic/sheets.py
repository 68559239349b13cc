"""Excel (.xlsx) sheets of academic affairs' lists: one header row of Chinese column names (a
trailing ``*`` marks a required column), one record a row. The export and the import template
share the columns, so an export can be edited and imported again."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from fastapi import Request
from fastapi.responses import Response
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from campus.kernel.errors import FieldError, InvalidInput, PayloadTooLarge, Problem
from campus.kernel.i18n import _
from campus.kernel.templating import (
    errors_of_validation,
    flash,
    form_errors,
    go_to,
    is_htmx,
    render,
)

MAX_ROWS = 20_000


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    required: bool = False
    width: int = 14


@dataclass
class SheetRow:
    number: int  # the Excel row number, the header being row 1
    values: dict[str, str]


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers without ``.0``, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_rows(data: bytes, columns: Sequence[Column]) -> list[SheetRow]:
    """The data rows of the first sheet as text by field; a wrong header or an unreadable file
    is a 422 on ``file``, an empty sheet too."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput.on("file", _("文件不是有效的 Excel（.xlsx）文件")) from exc
    try:
        if not book.worksheets:
            raise InvalidInput.on("file", _("文件中没有工作表"))
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        by_header = {c.header: c for c in columns}
        names = [cell_text(v).rstrip("*").strip() for v in (header or ())]
        missing = [c.header for c in columns if c.required and c.header not in names]
        unknown = [n for n in names if n and n not in by_header]
        if header is None or missing or unknown:
            reasons = []
            if missing:
                reasons.append(str(_("缺少必填列：{names}", names="、".join(missing))))
            if unknown:
                reasons.append(str(_("无法识别的列：{names}", names="、".join(unknown))))
            detail = _(
                "表头不正确（{reasons}）。请下载导入模板，按模板的列填写",
                reasons="；".join(reasons) or "空表",
            )
            raise InvalidInput(detail, errors=[FieldError("file", detail)])
        fields = [by_header[n].field if n in by_header else None for n in names]
        found: list[SheetRow] = []
        for number, raw in enumerate(rows, start=2):
            values = {
                f: cell_text(raw[i]) for i, f in enumerate(fields) if f is not None and i < len(raw)
            }
            if not any(values.values()):
                continue
            if len(found) >= MAX_ROWS:
                raise PayloadTooLarge(_("一次最多导入 {n} 行，请拆分文件后分批导入", n=MAX_ROWS))
            found.append(SheetRow(number, values))
    finally:
        book.close()
    if not found:
        raise InvalidInput.on("file", _("表格中没有数据行"))
    return found


def workbook(
    title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], notes: Sequence[str] = ()
) -> bytes:
    """A sheet with the columns' header (required ones shaded) and the rows; ``notes`` go to
    a second sheet of instructions."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    bold, shade = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(
            row=1, column=index, value=column.header + ("*" if column.required else "")
        )
        cell.font = bold
        if column.required:
            cell.fill = shade
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append(list(row))
    if notes:
        help_sheet = book.create_sheet("填写说明")
        help_sheet.column_dimensions["A"].width = 100
        for line in notes:
            help_sheet.append([line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def problems_detail(total: int, bad: int) -> Any:
    return _("共 {total} 行，其中 {bad} 行有错误，未导入任何数据", total=total, bad=bad)


def validation_problems(
    exc: ValidationError,
    values: dict[str, str],
    already: list[FieldError],
    columns: Sequence[Column],
    renamed: dict[str, str] | None = None,
) -> list[FieldError]:
    """Pydantic's complaints about a row, by sheet field: "必填" for an empty required cell,
    fields already reported left out."""
    renamed = renamed or {}
    required = {c.field for c in columns if c.required}
    flagged = {e.field for e in already}
    found = []
    for name, reason in errors_of_validation(exc).items():
        key = renamed.get(name, name.split(".")[0])
        if key in flagged:
            continue
        flagged.add(key)
        empty = not values.get(key)
        found.append(FieldError(key, _("必填") if empty and key in required else reason))
    return found


class _Coded(Protocol):
    code: str


Coded = TypeVar("Coded", bound=_Coded)


def checked_rows(
    rows: Sequence[SheetRow],
    parse: Callable[[SheetRow], tuple[Coded | None, list[FieldError]]],
    taken: set[str],
    taken_message: Callable[[str], Any],
    headers: dict[str, str],
) -> list[Coded]:
    """Every row parsed, its code neither taken nor repeated in the sheet; if any row is bad,
    a 422 whose ``report`` lists each problem by row and column, and nothing is imported."""
    from campus.domains.academic.schemas import ImportProblem, ImportReport

    problems: list[ImportProblem] = []
    valid: list[Coded] = []
    seen: dict[str, int] = {}
    for row in rows:
        body, errors = parse(row)
        if body is not None:
            if body.code in taken:
                errors.append(FieldError("code", taken_message(body.code)))
            elif body.code in seen:
                errors.append(FieldError("code", _("与第 {row} 行重复", row=seen[body.code])))
            else:
                seen[body.code] = row.number
        problems += [
            ImportProblem(
                row=row.number, column=headers.get(e.field, e.field), reason=str(e.reason)
            )
            for e in errors
        ]
        if body is not None and not errors:
            valid.append(body)
    if problems:
        report = ImportReport(total_rows=len(rows), imported=0, problems=problems)
        raise InvalidInput(
            problems_detail(len(rows), len({p.row for p in problems})),
            extra={"report": report.model_dump(mode="json")},
        )
    return valid


# ---------------------------------------------------------------- the import pages
# Their forms upload with htmx: a plain multipart post carries the CSRF token only in its
# body, which the CSRF check does not read, while htmx sends it as a header.


def import_refused(request: Request, template: str, problem: Problem) -> Response:
    """The import page again with the refusal: the problems by row, else the file's error.
    htmx swaps only a 2xx answer, so its upload gets the page with a 200."""
    report = problem.extra.get("report")
    return render(
        request,
        template,
        200 if is_htmx(request) else problem.status,
        report=report,
        errors={"_": str(problem.detail)} if report else form_errors(problem),
    )


def import_done(request: Request, url: str, message: Any) -> Response:
    """On to ``url`` with ``message`` after an import."""
    response = go_to(request, url)
    flash(request, response, message)
    return response
