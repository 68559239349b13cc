"""Events of the user center: names and payloads. Payloads carry ids and changed field names,
never identity numbers or phones; a handler that needs more asks ``service.py``."""

from __future__ import annotations

from pydantic import BaseModel

PERSON_CREATED = "users.person.created"
PERSON_UPDATED = "users.person.updated"
PERSON_STATUS_CHANGED = "users.person.status_changed"
ORG_UNIT_CREATED = "users.org_unit.created"
ORG_UNIT_UPDATED = "users.org_unit.updated"
ORG_UNIT_MOVED = "users.org_unit.moved"
CLASS_CREATED = "users.class.created"
POSITION_ASSIGNED = "users.position.assigned"
POSITION_ENDED = "users.position.ended"


class PersonCreated(BaseModel):
    person_id: int
    person_type: str
    status: str
    org_unit_id: int
    class_id: int | None
    number: str | None
    imported: bool = False


class PersonUpdated(BaseModel):
    person_id: int
    changed: list[str]


class PersonStatusChanged(BaseModel):
    person_id: int
    from_status: str
    to_status: str
    reason: str


class OrgUnitCreated(BaseModel):
    org_unit_id: int
    parent_id: int | None
    kind: str
    code: str


class OrgUnitUpdated(BaseModel):
    org_unit_id: int
    changed: list[str]


class OrgUnitMoved(BaseModel):
    org_unit_id: int
    from_parent_id: int | None
    to_parent_id: int
    subtree_size: int


class ClassCreated(BaseModel):
    class_id: int
    org_unit_id: int
    grade: int
    code: str


class PositionAssigned(BaseModel):
    position_id: int
    person_id: int
    kind: str
    org_unit_id: int | None
    class_id: int | None


class PositionEnded(BaseModel):
    position_id: int
    person_id: int
    kind: str
