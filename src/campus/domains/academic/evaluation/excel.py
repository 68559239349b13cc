"""Evaluation completion (评教完成情况) as an .xlsx: a sheet per college and one per section,
the way the registrar sends it round the colleges."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from campus.domains.academic.evaluation.schemas import CompletionOut


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def completion(found: CompletionOut, form_name: str) -> bytes:
    book = Workbook()
    colleges = book.active
    assert colleges is not None
    colleges.title = "按开课单位"
    colleges.append((form_name, "", "", "", ""))
    colleges.append(("开课单位", "教学班数", "应评人次", "已评人次", "完成率"))
    for c in found.colleges:
        colleges.append((c.college_name, c.sections, c.students, c.completed, _percent(c.rate)))
    colleges.append(
        ("合计", len(found.sections), found.students, found.completed, _percent(found.rate))
    )
    sections = book.create_sheet("按教学班")
    sections.append(
        (
            "教学班代码",
            "教学班",
            "开课单位",
            "任课教师",
            "应评人数",
            "已评人数",
            "完成率",
            "低于阈值",
        )
    )
    for s in found.sections:
        sections.append(
            (
                s.section_code,
                s.section_name,
                s.college_name,
                "、".join(s.teachers),
                s.students,
                s.completed,
                _percent(s.rate),
                "是" if s.students and s.rate < found.threshold else "",
            )
        )
    for sheet, widths, header_row in (
        (colleges, (24, 10, 10, 10, 10), 2),
        (sections, (26, 30, 20, 20, 10, 10, 10, 10), 1),
    ):
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
        for index, width in enumerate(widths):
            sheet.column_dimensions["ABCDEFGH"[index]].width = width
        sheet.freeze_panes = f"A{header_row + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
