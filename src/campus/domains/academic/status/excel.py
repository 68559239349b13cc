"""The roster (学生名册) as an .xlsx, the way registrars pass lists around."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font

from campus.domains.academic.status.schemas import LEVEL_LABELS, RecordOut

HEADERS = (
    "学号",
    "姓名",
    "层次",
    "学院",
    "专业",
    "班级",
    "年级",
    "学制",
    "入学日期",
    "预计毕业",
    "学籍状态",
    "是否在校",
)


def roster(rows: Sequence[RecordOut]) -> bytes:
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = "学生名册"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in rows:
        sheet.append(
            (
                r.student_no,
                r.name,
                LEVEL_LABELS.get(r.level, r.level),
                r.college_name,
                r.major_name,
                r.class_name,
                r.grade,
                r.years,
                r.enrolled_on.isoformat(),
                r.expected_graduation.isoformat(),
                r.status_label,
                "是" if r.in_school else "否",
            )
        )
    sheet.freeze_panes = "A2"
    for column, width in zip(
        "ABCDEFGHIJKL", (14, 10, 8, 20, 20, 24, 8, 6, 12, 12, 10, 8), strict=True
    ):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
