"""The term's sections as Excel (.xlsx), and teacher assignments read back from the same sheet
(教学班编号 and 主讲/辅讲 staff numbers, and the 性别限制 column when the sheet has it)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from campus.domains.academic.offering.schemas import SectionOut
from campus.kernel.errors import FieldError, InvalidInput
from campus.kernel.i18n import _

COLUMNS = (
    ("教学班编号", 26),
    ("教学班名称", 28),
    ("课程代码", 12),
    ("学分", 6),
    ("开课单位", 20),
    ("主讲教师工号", 14),
    ("辅讲教师工号", 18),
    ("教师姓名", 18),
    ("上课班级", 36),
    ("人数", 6),
    ("容量", 6),
    ("周次数", 8),
    ("上课周", 10),
    ("教室类型", 10),
    ("性别限制", 10),
)
PARITY = {"all": "", "odd": "单", "even": "双"}
GENDER_COLUMN = "性别限制"
# The sheet's words for a section's gender restriction (GB/T 2261.1 codes); blank: anyone.
GENDER_WORDS = {"男": "1", "女": "2"}
GENDER_READ = {"": "", "不限": "", "仅限男生": "1", "仅限女生": "2", "1": "1", "2": "2"}


@dataclass(frozen=True)
class SheetRow:
    """One filled row read back: the section, its staff numbers (main first) and, when the
    sheet has the column, its gender restriction ("" anyone)."""

    code: str
    numbers: list[str]
    gender: str | None = None


def sections_workbook(term_name: str, sections: list[SectionOut]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("教学班")
    for index, (_title, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([c for c, _w in COLUMNS])
    for s in sections:
        mains = [t for t in s.teachers if t.main]
        others = [t for t in s.teachers if not t.main]
        sheet.append(
            [
                s.code,
                s.name,
                s.course_code,
                s.credits,
                s.org_unit_name,
                ",".join(t.number or "" for t in mains),
                ",".join(t.number or "" for t in others),
                "、".join(t.name for t in s.teachers),
                "、".join(c.name for c in s.classes),
                s.students,
                s.capacity,
                s.lectures_per_week,
                f"{s.week_from}-{s.week_to}{PARITY.get(s.week_parity, '')}",
                s.room_type,
                next((w for w, code in GENDER_WORDS.items() if code == s.gender), ""),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def teacher_rows(data: bytes) -> list[SheetRow]:
    """Each filled row of the export's sheet; a 422 naming the rows whose 性别限制 is not
    男, 女 or blank."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is no workbook
        raise InvalidInput.on("file", _("无法读取该文件，请上传 .xlsx 文件")) from exc
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(c or "").strip() for c in rows[0]] if rows else []
    if header[:7] != [c for c, _w in COLUMNS[:7]]:
        raise InvalidInput.on("file", _("表头应与导出的教学班表一致"))
    gender_at = header.index(GENDER_COLUMN) if GENDER_COLUMN in header else None
    found: list[SheetRow] = []
    errors: list[FieldError] = []
    for index, row in enumerate(rows[1:], start=2):
        code = str(row[0] or "").strip()
        if not code:
            continue
        main = [n.strip() for n in str(row[5] or "").split(",") if n.strip()]
        others = [n.strip() for n in str(row[6] or "").split(",") if n.strip()]
        try:
            gender = _gender_cell(row, gender_at)
        except KeyError:
            message = _("第 {n} 行：性别限制应为“男”“女”或留空", n=index)
            errors.append(FieldError(f"rows.{index}", message))
            continue
        found.append(SheetRow(code, main + [n for n in others if n not in main], gender))
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    return found


def _gender_cell(row: tuple[object, ...], at: int | None) -> str | None:
    """The row's gender code (``None`` when the sheet has no such column); a ``KeyError`` for
    a word it does not know."""
    if at is None:
        return None
    text = str(row[at] if at < len(row) and row[at] is not None else "").strip()
    return GENDER_WORDS[text] if text in GENDER_WORDS else GENDER_READ[text]
