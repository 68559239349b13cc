"""Values filled in for the applicant before they start (``ui:prefill``).

The applicant's own record is read in full (their own phone is not masked to them). A text field
gets names (``person.college`` → "计算机学院"); an org picker gets the unit's id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campus.platform.users import service as users
from campus.platform.users.schemas import OrgUnitOut, PersonDetail
from campus.platform.workflow.forms.schemas import FormVersionOut

COLLEGE = "college"


def college_of(detail: PersonDetail) -> OrgUnitOut | None:
    """The nearest org unit of kind college up the person's org path (their own unit first)."""
    return next((u for u in reversed(detail.org_path) if u.kind == COLLEGE), None)


def _own_unit(detail: PersonDetail) -> OrgUnitOut | None:
    return next((u for u in reversed(detail.org_path) if u.id == detail.org_unit_id), None)


def _value(name: str, detail: PersonDetail, as_id: bool) -> Any:
    if name in ("person.college", "person.org_unit"):
        unit = college_of(detail) if name == "person.college" else _own_unit(detail)
        if unit is None:
            return None
        return unit.id if as_id else unit.name
    return {
        "person.name": detail.name,
        "person.number": detail.number,
        "person.class": detail.class_name,
        "person.phone": detail.phone,
        "person.email": detail.email,
    }.get(name)


async def prefill(session: AsyncSession, person_id: int, version: FormVersionOut) -> dict[str, Any]:
    """The prefilled values for ``person_id`` by field key; fields with nothing to fill in
    (no class, no phone on record…) are left out."""
    wanted = [f for f in version.fields if f.prefill]
    if not wanted:
        return {}
    detail = await users.person_detail(session, person_id, users.PersonAccess.FULL)
    if detail is None:
        return {}
    values: dict[str, Any] = {}
    for f in wanted:
        value = _value(str(f.prefill), detail, as_id=f.widget == "org")
        if value not in (None, ""):
            values[f.key] = value
    return values
