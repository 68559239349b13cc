"""Read receipts as Excel (.xlsx): a summary sheet per unit and the list of every recipient,
read or not, as offices pass them around."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from campus.domains.oa.schemas import ReceiptPerson, ReceiptSummary
from campus.kernel.clock import fmt

SUMMARY_COLUMNS = (("单位", 28), ("应读人数", 10), ("已读", 8), ("未读", 8), ("已读比例", 10))
PEOPLE_COLUMNS = (("姓名", 10), ("学号/工号", 14), ("单位", 28), ("状态", 8), ("阅读时间", 18))


def receipts_workbook(title: str, summary: ReceiptSummary, people: list[ReceiptPerson]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("汇总")
    _widths(sheet, SUMMARY_COLUMNS)
    sheet.append([title])
    sheet.append([c for c, _w in SUMMARY_COLUMNS])
    for unit in summary.units:
        sheet.append(
            [
                unit.name,
                unit.total,
                unit.read,
                unit.total - unit.read,
                _ratio(unit.read, unit.total),
            ]
        )
    sheet.append(
        ["合计", summary.total, summary.read, summary.unread, _ratio(summary.read, summary.total)]
    )
    detail = book.create_sheet("名单")
    _widths(detail, PEOPLE_COLUMNS)
    detail.append([c for c, _w in PEOPLE_COLUMNS])
    for person in people:
        detail.append(
            [
                person.name,
                person.number,
                person.org_unit_name,
                "已读" if person.read_at else "未读",
                fmt(person.read_at) or None,
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _widths(sheet: object, columns: tuple[tuple[str, int], ...]) -> None:
    for index, (_title, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width  # type: ignore[attr-defined]


def _ratio(read: int, total: int) -> str:
    return f"{read / total:.0%}" if total else "—"
