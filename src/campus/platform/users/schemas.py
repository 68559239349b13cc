"""Input and output models of the user center."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from campus.kernel.pagination import Page

PersonType = Literal["undergraduate", "postgraduate", "faculty", "staff", "external"]
PersonStatus = Literal["active", "suspended", "graduated", "left", "retired"]
OrgKind = Literal["university", "college", "department", "major", "office"]
IdentityKind = Literal["student_no", "staff_no"]
PositionKind = Literal[
    "president",
    "party_secretary",
    "dean",
    "vice_dean",
    "head",
    "counselor",
    "head_teacher",
]

STUDENT_TYPES: tuple[PersonType, ...] = ("undergraduate", "postgraduate")
STAFF_TYPES: tuple[PersonType, ...] = ("faculty", "staff")
PersonAudience = Literal["student", "staff"]


def audience_of(person_type: str) -> PersonAudience:
    """Whom a person's own pages are for: students, or everyone else (teachers and staff, and
    external people, who are offered the staff's)."""
    return "student" if person_type in STUDENT_TYPES else "staff"


NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
ORG_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
PHONE_PATTERN = r"^1[3-9]\d{9}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"


def primary_identity_kind(person_type: str) -> IdentityKind:
    """Students are known by their student number, everyone else by a staff number."""
    return "student_no" if person_type in STUDENT_TYPES else "staff_no"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonRef(BaseModel):
    """What other modules usually need to know about a person."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    person_type: PersonType
    status: PersonStatus
    org_unit_id: int
    class_id: int | None = None
    number: str | None = None


class OrgUnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    name_en: str = ""
    kind: OrgKind
    parent_id: int | None
    discipline_code: str | None = None
    sort_order: int = 0
    active: bool = True


class OrgTreeNode(OrgUnitOut):
    """An org unit with its children (empty when not loaded) and how many it has."""

    child_count: int = 0
    children: list[OrgTreeNode] = Field(default_factory=list)


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    gender: str
    birth_date: date | None
    id_type: str
    id_number: str | None
    ethnicity: str | None
    political_status: str | None
    native_place: str | None
    person_type: PersonType
    status: PersonStatus
    org_unit_id: int
    class_id: int | None
    phone: str | None
    email: str | None
    number: str | None = None


class PositionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    kind: PositionKind
    title: str
    org_unit_id: int | None
    class_id: int | None
    person_name: str | None = None


class PersonDetail(PersonOut):
    """A person as the detail page and API show them; ``masked`` tells whether the identity
    number and phone were masked for this reader."""

    student_no: str | None = None
    staff_no: str | None = None
    gender_name: str | None = None
    ethnicity_name: str | None = None
    political_status_name: str | None = None
    native_place_name: str | None = None
    org_unit_name: str | None = None
    org_path: list[OrgUnitOut] = Field(default_factory=list)
    class_name: str | None = None
    positions: list[PositionOut] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    masked: bool = False


class PersonListItem(BaseModel):
    id: int
    name: str
    gender: str
    gender_name: str | None
    number: str | None
    person_type: PersonType
    status: PersonStatus
    org_unit_id: int
    org_unit_name: str | None
    class_id: int | None
    class_name: str | None
    phone: str | None
    created_at: datetime


class PersonPage(Page[PersonListItem]):
    """A page of the people list, with the order it is sorted in."""

    sort: str


class PersonCreate(_Input):
    name: str = Field(min_length=1, max_length=60)
    gender: str = Field(min_length=1, max_length=1, description="GB/T 2261.1 性别代码")
    person_type: PersonType
    org_unit_id: int | None = Field(None, description="所属单位；填了行政班时可省略")
    class_id: int | None = None
    student_no: str | None = Field(None, pattern=NUMBER_PATTERN)
    staff_no: str | None = Field(None, pattern=NUMBER_PATTERN)
    id_number: str | None = Field(None, max_length=32, description="居民身份证号（GB 11643）")
    birth_date: date | None = None
    ethnicity: str | None = Field(None, max_length=2, description="GB/T 3304 民族代码")
    political_status: str | None = Field(None, max_length=2, description="GB/T 4762 政治面貌代码")
    native_place: str | None = Field(None, max_length=6, description="GB/T 2260 行政区划代码")
    phone: str | None = Field(None, pattern=PHONE_PATTERN)
    email: str | None = Field(None, max_length=120, pattern=EMAIL_PATTERN)


class PersonUpdate(_Input):
    """Fields to change; fields left out stay as they are, ``null`` clears an optional one."""

    name: str | None = Field(None, min_length=1, max_length=60)
    gender: str | None = Field(None, min_length=1, max_length=1)
    person_type: PersonType | None = None
    org_unit_id: int | None = None
    class_id: int | None = None
    student_no: str | None = Field(None, pattern=NUMBER_PATTERN)
    staff_no: str | None = Field(None, pattern=NUMBER_PATTERN)
    id_number: str | None = Field(None, max_length=32)
    birth_date: date | None = None
    ethnicity: str | None = Field(None, max_length=2)
    political_status: str | None = Field(None, max_length=2)
    native_place: str | None = Field(None, max_length=6)
    phone: str | None = Field(None, pattern=PHONE_PATTERN)
    email: str | None = Field(None, max_length=120, pattern=EMAIL_PATTERN)


class StatusChange(_Input):
    status: PersonStatus
    reason: str = Field(min_length=1, max_length=200)


class OrgUnitCreate(_Input):
    code: str = Field(pattern=ORG_CODE_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field("", max_length=200, description="英文名称（英文成绩单等使用）")
    kind: OrgKind
    parent_id: int | None = None
    discipline_code: str | None = Field(None, pattern=r"^\d{2}(\d{2}(\d{2})?)?[TK]{0,2}$")
    sort_order: int = Field(0, ge=0, le=1_000_000)


class OrgUnitUpdate(_Input):
    code: str | None = Field(None, pattern=ORG_CODE_PATTERN)
    name: str | None = Field(None, min_length=1, max_length=100)
    name_en: str | None = Field(None, max_length=200)
    kind: OrgKind | None = None
    discipline_code: str | None = Field(None, pattern=r"^\d{2}(\d{2}(\d{2})?)?[TK]{0,2}$")
    sort_order: int | None = Field(None, ge=0, le=1_000_000)
    active: bool | None = None


class OrgUnitMove(_Input):
    parent_id: int


class ClassCreate(_Input):
    code: str = Field(pattern=ORG_CODE_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    org_unit_id: int
    grade: int = Field(ge=1949, le=2100, description="入学年级，如 2024")


class ClassOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    org_unit_id: int
    grade: int
    student_count: int = 0


class PositionAssign(_Input):
    person_id: int
    kind: PositionKind
    org_unit_id: int | None = None
    class_id: int | None = None
    title: str | None = Field(None, min_length=1, max_length=60)


class CodeOut(BaseModel):
    code: str
    name: str
    full_name: str


class CodeTableOut(BaseModel):
    table: str
    standard: str
    title: str
    version: str
    source: str
    effective: str | None
    count: int
    codes: list[CodeOut] = Field(default_factory=list)


class ImportProblem(BaseModel):
    row: int = Field(description="Excel 行号（表头为第 1 行）")
    column: str = Field(description="列名")
    field: str
    reason: str


class ImportReport(BaseModel):
    total_rows: int
    valid_rows: int
    invalid_rows: int
    imported: int
    problems: list[ImportProblem]
    status: Literal["imported", "validated", "rejected"]


class PersonContact(BaseModel):
    """Where the messaging center reaches a person outside the site (unmasked: it sends)."""

    id: int
    name: str
    number: str | None
    email: str | None
    phone: str | None
