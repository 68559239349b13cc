"""Input and output models of the user center."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

PersonType = Literal["undergraduate", "postgraduate", "faculty", "staff", "external"]
PersonStatus = Literal["active", "suspended", "graduated", "left", "retired"]
OrgKind = Literal["university", "college", "department", "major", "office"]
IdentityKind = Literal["student_no", "staff_no"]


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
    kind: OrgKind
    parent_id: int | None
    discipline_code: str | None = None
    sort_order: int = 0
    active: bool = True


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
