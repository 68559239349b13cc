"""Rules a person's fields must satisfy, without the database: code tables, identity number
(GB 11643), formats, and agreement between type, numbers and class. The API's actions and the
Excel import both use them, so a row is accepted exactly when the same person typed into the
API would be."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from campus.kernel.errors import FieldError
from campus.kernel.i18n import LazyText, _
from campus.platform.users import idcard, standards
from campus.platform.users.schemas import (
    EMAIL_PATTERN,
    NUMBER_PATTERN,
    PHONE_PATTERN,
    STAFF_TYPES,
    STUDENT_TYPES,
)

PHONE = re.compile(PHONE_PATTERN)
EMAIL = re.compile(EMAIL_PATTERN)
NUMBER = re.compile(NUMBER_PATTERN)
RESIDENT_ID_CARD = "1"  # 居民身份证: the identity document type whose numbers follow GB 11643


@dataclass
class PersonFields:
    """A person's fields after parsing, before they are written."""

    name: str
    gender: str
    person_type: str
    org_unit_id: int | None = None
    class_id: int | None = None
    numbers: dict[str, str] = field(default_factory=dict)
    id_number: str | None = None
    birth_date: date | None = None
    ethnicity: str | None = None
    political_status: str | None = None
    native_place: str | None = None
    phone: str | None = None
    email: str | None = None
    status: str = "active"


def normalise_id_number(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    return value or None


def problems(p: PersonFields) -> list[FieldError]:
    """Everything wrong with ``p`` that can be known without the database."""
    found: list[FieldError] = []
    if not p.name.strip():
        found.append(FieldError("name", _("必填")))
    elif len(p.name) > 60:
        found.append(FieldError("name", _("长度不能超过 {max_length} 个字符", max_length=60)))
    found += _code_problems(p)
    found += _id_number_problems(p)
    found += _number_problems(p)
    if p.class_id is not None and p.person_type not in STUDENT_TYPES:
        found.append(FieldError("class_id", _("只有学生可以编入行政班")))
    if p.phone is not None and not PHONE.match(p.phone):
        found.append(FieldError("phone", _("手机号应为 11 位数字，以 1 开头")))
    if p.email is not None and (len(p.email) > 120 or not EMAIL.match(p.email)):
        found.append(FieldError("email", _("电子邮箱格式不正确")))
    if p.birth_date is not None and p.birth_date > date.today():
        found.append(FieldError("birth_date", _("出生日期不能晚于今天")))
    return found


def _code_problems(p: PersonFields) -> list[FieldError]:
    found = []
    checks: tuple[tuple[str, str, str | None, LazyText], ...] = (
        ("gender", "gender", p.gender, _("性别代码不在 GB/T 2261.1 代码表中")),
        ("ethnicity", "ethnicity", p.ethnicity, _("民族代码不在 GB/T 3304 代码表中")),
        (
            "political_status",
            "political_status",
            p.political_status,
            _("政治面貌代码不在 GB/T 4762 代码表中"),
        ),
        (
            "native_place",
            standards.DIVISIONS,
            p.native_place,
            _("籍贯不是 GB/T 2260 中的行政区划代码"),
        ),
    )
    for field_name, table, value, reason in checks:
        if value is not None and not standards.is_valid(table, value):
            found.append(FieldError(field_name, reason))
    return found


def _id_number_problems(p: PersonFields) -> list[FieldError]:
    if p.id_number is None:
        return []
    problem = idcard.problem_with(p.id_number)
    if problem is not None:
        return [FieldError("id_number", _(problem))]
    found = []
    if p.birth_date is not None and p.birth_date != idcard.birth_date_of(p.id_number):
        found.append(FieldError("birth_date", _("出生日期与身份证号不一致")))
    if p.gender in ("1", "2") and p.gender != idcard.gender_of(p.id_number):
        found.append(FieldError("gender", _("性别与身份证号不一致")))
    return found


def _number_problems(p: PersonFields) -> list[FieldError]:
    found = []
    for kind, value in p.numbers.items():
        if not NUMBER.match(value):
            found.append(FieldError(kind, _("编号只能包含字母、数字、下划线和连字符，最长 32 位")))
    if p.person_type in STUDENT_TYPES and "student_no" not in p.numbers:
        found.append(FieldError("student_no", _("学生必须有学号")))
    if p.person_type in STAFF_TYPES and "staff_no" not in p.numbers:
        found.append(FieldError("staff_no", _("教职工必须有工号")))
    return found


def complete_from_id_number(p: PersonFields) -> None:
    """Fill the birth date from a well-formed identity number when it was left out."""
    if p.id_number and p.birth_date is None and idcard.problem_with(p.id_number) is None:
        p.birth_date = idcard.birth_date_of(p.id_number)


def mask_phone(phone: str | None) -> str | None:
    """138****5678: the first three and last four digits."""
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"
