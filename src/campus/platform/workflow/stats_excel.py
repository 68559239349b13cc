"""The service hall's statistics as Excel (.xlsx), in the house style of the user center's
sheets: a bold header row, fixed column widths, the header frozen."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from campus.kernel.i18n import translate
from campus.platform.workflow.schemas import HallStats

SERVICE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("服务", 20),
    ("申请数", 10),
    ("已办结", 10),
    ("通过", 8),
    ("驳回", 8),
    ("办理中", 10),
    ("平均办理时长（小时）", 20),
)
STEP_COLUMNS: tuple[tuple[str, int], ...] = (
    ("流程", 20),
    ("流程标识", 22),
    ("审批节点", 20),
    ("已处理", 10),
    ("待处理", 10),
    ("超时待办", 10),
    ("平均审批时长（小时）", 20),
)


def workbook(result: HallStats, process_names: dict[str, str]) -> bytes:
    """Two sheets: one row per service, one row per process step, for the last ``days``."""
    book = Workbook(write_only=True)
    _sheet(
        book,
        translate("按服务"),
        SERVICE_COLUMNS,
        [
            [s.name, s.applied, s.finished, s.approved, s.rejected, s.running, s.avg_hours]
            for s in result.services
        ],
    )
    _sheet(
        book,
        translate("按审批节点"),
        STEP_COLUMNS,
        [
            [
                process_names.get(s.process_key, s.process_key),
                s.process_key,
                s.step_name,
                s.decided,
                s.waiting,
                s.overdue,
                s.avg_hours,
            ]
            for s in result.steps
        ],
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet(
    book: Workbook,
    title: str,
    columns: Sequence[tuple[str, int]],
    rows: list[list[Any]],
) -> None:
    sheet = book.create_sheet(title)
    for index, (_header, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_bold(sheet, translate(text)) for text, _width in columns])
    for row in rows:
        sheet.append(row)


def _bold(sheet: Any, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell
