"""People as Excel (.xlsx): the import template, reading and checking an uploaded sheet row by
row, and the export. Reads only; the import itself is written by ``actions.do_import_people``.

The sheet has one header row with Chinese column names (a trailing ``*`` marks a required
column); the template and the export share the same columns, so an export can be edited and
imported again.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import FieldError, InvalidInput, PayloadTooLarge
from campus.kernel.i18n import _, translate
from campus.platform.users import idcard, queries, standards, validation
from campus.platform.users.labels import PERSON_TYPE_LABELS, STATUS_ALIASES, STATUS_LABELS
from campus.platform.users.schemas import ImportProblem, primary_identity_kind
from campus.platform.users.validation import PersonFields

MAX_ROWS = 50_000
SHEET_TITLE = "人员"


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    required: bool = False
    # Shown for people reading the sheet; ignored when the sheet is imported.
    informational: bool = False
    width: int = 14
    text: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("姓名", "name", required=True, width=10),
    Column("性别", "gender", required=True, width=6),
    Column("人员类型", "person_type", required=True, width=10),
    Column("学号/工号", "number", required=True, width=14, text=True),
    Column("身份证号", "id_number", width=21, text=True),
    Column("出生日期", "birth_date", width=12),
    Column("民族", "ethnicity", width=10),
    Column("政治面貌", "political_status", width=12),
    Column("籍贯", "native_place", width=20),
    Column("所属单位代码", "org_code", required=True, width=14, text=True),
    Column("所属单位", "org_name", informational=True, width=20),
    Column("行政班代码", "class_code", width=14, text=True),
    Column("行政班", "class_name", informational=True, width=16),
    Column("手机号", "phone", width=13, text=True),
    Column("电子邮箱", "email", width=24),
    Column("状态", "status", width=8),
)
BY_HEADER = {c.header: c for c in COLUMNS}
BY_FIELD = {c.field: c for c in COLUMNS}
TYPE_BY_LABEL = {label: code for code, label in PERSON_TYPE_LABELS.items()}
STATUS_BY_LABEL = {
    **{label: code for code, label in STATUS_LABELS.items()},
    **STATUS_ALIASES,
}


def header_text(column: Column) -> str:
    return column.header + ("*" if column.required else "")


# ---------------------------------------------------------------- reading


@dataclass
class SheetRow:
    number: int  # the Excel row number, the header being row 1
    values: dict[str, Any]


@dataclass
class CheckedSheet:
    """An uploaded sheet after checking: the rows that can be imported and the problems."""

    total_rows: int
    valid: list[tuple[int, PersonFields]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def invalid_rows(self) -> int:
        return len({p.row for p in self.problems})


def read_rows(data: bytes, max_rows: int | None = None) -> list[SheetRow]:
    """The data rows of the first sheet; wrong headers and unreadable files are 422, more than
    ``max_rows`` (MAX_ROWS by default) data rows are 413."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput.on("file", _("文件不是有效的 Excel（.xlsx）文件")) from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise InvalidInput.on("file", _("文件中没有工作表"))
        rows = sheet.iter_rows(values_only=True)
        columns = _columns_of(next(rows, None))
        return list(_data_rows(rows, columns, max_rows or MAX_ROWS))
    finally:
        book.close()


def _columns_of(header: tuple[Any, ...] | None) -> list[Column | None]:
    if header is None:
        raise InvalidInput.on("file", _("表格是空的：第 1 行应为表头"))
    names = [_cell_text(v).rstrip("*").strip() if v is not None else "" for v in header]
    while names and not names[-1]:
        names.pop()
    unknown = [n for n in names if n and n not in BY_HEADER]
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    missing = [c.header for c in COLUMNS if c.required and c.header not in names]
    reasons = []
    if missing:
        reasons.append(str(_("缺少必填列：{names}", names="、".join(missing))))
    if unknown:
        reasons.append(str(_("无法识别的列：{names}", names="、".join(unknown))))
    if repeated:
        reasons.append(str(_("重复的列：{names}", names="、".join(repeated))))
    if reasons:
        detail = _(
            "表头不正确（{reasons}）。请下载导入模板，按模板的列填写", reasons="；".join(reasons)
        )
        raise InvalidInput(detail, errors=[FieldError("file", detail)])
    return [BY_HEADER.get(n) if n else None for n in names]


def _data_rows(
    rows: Iterator[tuple[Any, ...]], columns: list[Column | None], max_rows: int
) -> Iterator[SheetRow]:
    count = 0
    for index, raw in enumerate(rows, start=2):
        values = {
            column.field: raw[i]
            for i, column in enumerate(columns)
            if column is not None and not column.informational and i < len(raw)
        }
        if all(_blank(v) for v in values.values()):
            continue
        count += 1
        if count > max_rows:
            raise PayloadTooLarge(_("一次最多导入 {n} 行，请拆分文件后分批导入", n=max_rows))
        yield SheetRow(index, values)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell_text(value: Any) -> str:
    """A cell as text: whole numbers without ``.0``, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


# ---------------------------------------------------------------- checking


@dataclass
class Lookups:
    """What checking a sheet needs from the database, fetched once for all its rows."""

    orgs: dict[str, tuple[int, str]]
    classes: dict[str, tuple[int, int]]
    org_paths: dict[int, str]
    taken_numbers: dict[str, set[str]]
    taken_id_numbers: set[str]


async def load_lookups(session: AsyncSession, rows: list[SheetRow]) -> Lookups:
    orgs = await queries.org_codes(session)
    by_kind: dict[str, list[str]] = {"student_no": [], "staff_no": []}
    id_numbers = []
    for row in rows:
        number = _cell_text(row.values.get("number"))
        kind = primary_identity_kind(
            TYPE_BY_LABEL.get(_cell_text(row.values.get("person_type")), "")
        )
        if number:
            by_kind[kind].append(number)
        id_number = validation.normalise_id_number(_cell_text(row.values.get("id_number")))
        if id_number:
            id_numbers.append(id_number)
    return Lookups(
        orgs=orgs,
        classes=await queries.class_codes(session),
        org_paths={unit_id: path for unit_id, path in orgs.values()},
        taken_numbers={
            kind: await queries.taken_numbers(session, kind, values)
            for kind, values in by_kind.items()
        },
        taken_id_numbers=await queries.taken_id_numbers(session, id_numbers),
    )


async def check_sheet(session: AsyncSession, rows: list[SheetRow]) -> CheckedSheet:
    """Check every row as the API would check one person, plus duplicates inside the file."""
    lookups = await load_lookups(session, rows)
    checked = CheckedSheet(total_rows=len(rows))
    seen_numbers: dict[tuple[str, str], int] = {}
    seen_ids: dict[str, int] = {}
    for row in rows:
        fields, errors = _parse_row(row, lookups)
        # Every problem of a row is reported at once, one per field.
        flagged = {e.field for e in errors}
        errors += [e for e in validation.problems(fields) if e.field not in flagged]
        if not errors:
            errors = _duplicates(row.number, fields, lookups, seen_numbers, seen_ids)
        if errors:
            checked.problems += [_problem(row.number, e) for e in errors]
        else:
            validation.complete_from_id_number(fields)
            checked.valid.append((row.number, fields))
    return checked


def _problem(row: int, error: FieldError) -> ImportProblem:
    column = BY_FIELD.get(_SHEET_FIELD.get(error.field, error.field))
    return ImportProblem(
        row=row,
        column=column.header if column else error.field,
        field=error.field,
        reason=str(error.reason),
    )


# Fields of a person that a sheet column fills under another name.
_SHEET_FIELD = {
    "student_no": "number",
    "staff_no": "number",
    "org_unit_id": "org_code",
    "class_id": "class_code",
}


def _parse_row(row: SheetRow, lookups: Lookups) -> tuple[PersonFields, list[FieldError]]:
    text = {name: _cell_text(value) for name, value in row.values.items()}
    errors: list[FieldError] = []
    for column in COLUMNS:
        if column.required and column.field != "org_code" and not text.get(column.field):
            errors.append(FieldError(column.field, _("必填")))
    person_type = TYPE_BY_LABEL.get(text.get("person_type", ""), "")
    if text.get("person_type") and not person_type:
        errors.append(
            FieldError(
                "person_type", _("应为以下之一：{expected}", expected="、".join(TYPE_BY_LABEL))
            )
        )
    gender = _coded(text, "gender", standards.gender(), errors, _("性别应为“男”或“女”"))
    fields = PersonFields(
        name=text.get("name", ""),
        gender=gender or "",
        person_type=person_type,
        numbers={primary_identity_kind(person_type): text["number"]} if text.get("number") else {},
        id_number=validation.normalise_id_number(text.get("id_number")),
        birth_date=_date(row.values.get("birth_date"), errors),
        ethnicity=_coded(
            text, "ethnicity", standards.ethnicity(), errors, _("不在 GB/T 3304 民族代码表中")
        ),
        political_status=_coded(
            text,
            "political_status",
            standards.political_status(),
            errors,
            _("不在 GB/T 4762 政治面貌代码表中"),
        ),
        native_place=_coded(
            text,
            "native_place",
            standards.divisions(),
            errors,
            _("应为 GB/T 2260 行政区划代码或完整名称，如 110105 或 北京市朝阳区"),
        ),
        phone=text.get("phone") or None,
        email=(text.get("email") or "").lower() or None,
        status=_status(text.get("status", ""), errors),
    )
    _place(text, fields, lookups, errors)
    return fields, errors


def _coded(
    text: dict[str, str],
    name: str,
    table: standards.CodeTable,
    errors: list[FieldError],
    reason: Any,
) -> str | None:
    value = text.get(name, "")
    if not value:
        return None
    code = table.resolve(value)
    if code is None:
        errors.append(FieldError(name, reason))
    return code


def _status(value: str, errors: list[FieldError]) -> str:
    if not value:
        return "active"
    status = STATUS_BY_LABEL.get(value) or (value if value in STATUS_LABELS else None)
    if status is None:
        errors.append(
            FieldError(
                "status", _("应为以下之一：{expected}", expected="、".join(STATUS_LABELS.values()))
            )
        )
        return "active"
    return status


def _date(value: Any, errors: list[FieldError]) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(FieldError("birth_date", _("日期格式不正确，应为 YYYY-MM-DD")))
        return None


def _place(
    text: dict[str, str], fields: PersonFields, lookups: Lookups, errors: list[FieldError]
) -> None:
    org_code, class_code = text.get("org_code", ""), text.get("class_code", "")
    class_org: int | None = None
    if class_code:
        found = lookups.classes.get(class_code)
        if found is None:
            errors.append(FieldError("class_id", _("行政班代码 {code} 不存在", code=class_code)))
        else:
            fields.class_id, class_org = found
    if org_code:
        unit = lookups.orgs.get(org_code)
        if unit is None:
            errors.append(FieldError("org_unit_id", _("单位代码 {code} 不存在", code=org_code)))
            return
        fields.org_unit_id = unit[0]
        if class_org is not None and not lookups.org_paths.get(class_org, "").startswith(unit[1]):
            errors.append(FieldError("class_id", _("行政班不属于所填的所属单位")))
    elif class_org is not None:
        fields.org_unit_id = class_org
    elif not class_code:
        errors.append(FieldError("org_unit_id", _("必须填写所属单位代码或行政班代码")))


def _duplicates(
    row: int,
    fields: PersonFields,
    lookups: Lookups,
    seen_numbers: dict[tuple[str, str], int],
    seen_ids: dict[str, int],
) -> list[FieldError]:
    errors = []
    for kind, value in fields.numbers.items():
        if value in lookups.taken_numbers.get(kind, set()):
            errors.append(FieldError(kind, _("{value} 已被他人使用", value=value)))
        elif (kind, value) in seen_numbers:
            errors.append(FieldError(kind, _("与第 {row} 行重复", row=seen_numbers[(kind, value)])))
        else:
            seen_numbers[(kind, value)] = row
    if fields.id_number:
        if fields.id_number in lookups.taken_id_numbers:
            errors.append(FieldError("id_number", _("该身份证号已被他人使用")))
        elif fields.id_number in seen_ids:
            errors.append(
                FieldError("id_number", _("与第 {row} 行重复", row=seen_ids[fields.id_number]))
            )
        else:
            seen_ids[fields.id_number] = row
    return errors


# ---------------------------------------------------------------- writing


def _styled_header(sheet: Any) -> None:
    bold = Font(bold=True)
    required = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=header_text(column))
        cell.font = bold
        if column.required:
            cell.fill = required
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"


def template(org_units: Iterable[tuple[str, str]], classes: Iterable[tuple[str, str]]) -> bytes:
    """The import template: the people sheet with drop-down lists, a sheet of instructions and
    code tables, and the codes of org units and classes."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_TITLE
    _styled_header(sheet)
    for index, column in enumerate(COLUMNS, start=1):
        if column.text:
            letter = get_column_letter(index)
            for row in range(2, 1002):
                sheet[f"{letter}{row}"].number_format = "@"
    codes = book.create_sheet("代码表")
    lists = {
        "gender": ["男", "女"],
        "person_type": list(PERSON_TYPE_LABELS.values()),
        "ethnicity": [c.name for c in standards.ethnicity().codes],
        "political_status": [c.name for c in standards.political_status().codes],
        "status": list(STATUS_LABELS.values()),
    }
    for col, (name, values) in enumerate(lists.items(), start=1):
        codes.cell(row=1, column=col, value=header_text(BY_FIELD[name])).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            codes.cell(row=row, column=col, value=value)
        letter = get_column_letter(col)
        target = get_column_letter(list(BY_FIELD).index(name) + 1)
        rule = DataValidation(
            type="list",
            formula1=f"'代码表'!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True,
        )
        rule.add(f"{target}2:{target}50001")
        sheet.add_data_validation(rule)
    _code_sheet(book, "单位代码", ("单位代码", "单位名称"), org_units)
    _code_sheet(book, "行政班代码", ("行政班代码", "行政班名称"), classes)
    _instructions(book)
    return _bytes(book)


def _code_sheet(
    book: Workbook, title: str, headers: tuple[str, str], rows: Iterable[tuple[str, str]]
) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 30


def _instructions(book: Workbook) -> None:
    sheet = book.create_sheet("填写说明")
    lines = [
        "带 * 的列必须填写；第 1 行表头不要修改，从第 2 行开始每行一人。",
        "性别：男 / 女（GB/T 2261.1）。人员类型：" + "、".join(PERSON_TYPE_LABELS.values()) + "。",
        "学号/工号：学生填学号，教职工填工号，不能与已有人员重复。",
        "身份证号：18 位居民身份证号，校验位须正确（GB 11643）；出生日期可不填，由身份证号得出。",
        "民族（GB/T 3304）、政治面貌（GB/T 4762）：填名称或代码，见“代码表”。",
        "籍贯（GB/T 2260）：填 6 位行政区划代码或完整名称，如 110105 或 北京市朝阳区。",
        "所属单位代码、行政班代码：见“单位代码”“行政班代码”两张表；填了行政班可不填所属单位。",
        "“所属单位”“行政班”两列只供阅读，导入时不读取。",
        f"一次最多导入 {MAX_ROWS} 行。任何一行有错时整批不导入，可选择只导入校验通过的行。",
    ]
    sheet.column_dimensions["A"].width = 100
    for line in lines:
        sheet.append([line])


def export(rows: Iterable[queries.PersonRow], *, full: bool) -> bytes:
    """People as a sheet with the template's columns; identity numbers and phones are masked
    unless ``full``."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.append([header_text(c) for c in COLUMNS])
    ethnicity, political, places = (
        standards.ethnicity(),
        standards.political_status(),
        standards.divisions(),
    )
    for row in rows:
        p = row.person
        id_number = p.id_number if full else idcard.mask(p.id_number)
        phone = p.phone if full else validation.mask_phone(p.phone)
        sheet.append(
            [
                p.name,
                standards.gender().name_of(p.gender),
                PERSON_TYPE_LABELS.get(p.person_type, p.person_type),
                row.number,
                id_number,
                p.birth_date.isoformat() if p.birth_date else None,
                ethnicity.name_of(p.ethnicity),
                political.name_of(p.political_status),
                places.full_name_of(p.native_place),
                row.org_code,
                row.org_name,
                row.class_code,
                row.class_name,
                phone,
                p.email,
                STATUS_LABELS.get(p.status, p.status),
            ]
        )
    return _bytes(book)


def _bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def problems_as_text(problems: Iterable[ImportProblem]) -> list[str]:
    return [
        translate("第 {row} 行 {column}：{reason}", row=p.row, column=p.column, reason=p.reason)
        for p in problems
    ]
