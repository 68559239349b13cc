"""Who a step goes to: an assignee rule resolved against the applicant and the form data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.workflow.models import Delegation
from campus.platform.workflow.schemas import (
    ApplicantAssignee,
    Assignee,
    FieldAssignee,
    OrgAssignee,
    PersonAssignee,
    PositionAssignee,
    RoleAssignee,
    UnionAssignee,
)

# When a rule finds nobody (a college without a dean, say), the step goes to the holders of this
# role instead of being skipped: an approval is never passed over silently.
FALLBACK_ROLE = "workflow_admin"


async def resolve(
    session: AsyncSession, assignee: Assignee, applicant_id: int, data: dict[str, Any]
) -> list[int]:
    """The people a rule names, each once, in a stable order (active people only)."""
    ids = list(dict.fromkeys(await _candidates(session, assignee, applicant_id, data)))
    active = await users.existing_person_ids(session, ids, status="active") if ids else set()
    return [pid for pid in ids if pid in active]


async def _candidates(
    session: AsyncSession, assignee: Assignee, applicant_id: int, data: dict[str, Any]
) -> list[int]:
    match assignee:
        case PersonAssignee(ids=ids):
            return list(ids)
        case ApplicantAssignee():
            return [applicant_id]
        case FieldAssignee(field=field):
            value = data.get(field)
            values = value if isinstance(value, list) else [value]
            return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        case PositionAssignee(position=position):
            return [p.id for p in await users.nearest_holders(session, applicant_id, position)]
        case OrgAssignee(org_unit_id=org_unit_id, position=position):
            return [
                p.id for p in await users.holders_of(session, position, org_unit_id=org_unit_id)
            ]
        case RoleAssignee(role=role):
            path = await users.org_path_of(session, applicant_id)
            return await access.holders_of_role(session, role, path)
        case UnionAssignee(of=rules):
            found: list[int] = []
            for rule in rules:
                found += await _candidates(session, rule, applicant_id, data)
            return found
    return []


async def fallback(session: AsyncSession, applicant_id: int) -> list[int]:
    path = await users.org_path_of(session, applicant_id)
    return await access.holders_of_role(session, FALLBACK_ROLE, path)


async def delegates(
    session: AsyncSession, person_ids: list[int], process_key: str, at: datetime
) -> dict[int, int]:
    """For each person away at ``at``, whom their new tasks of ``process_key`` go to."""
    if not person_ids:
        return {}
    rows = await session.execute(
        select(Delegation.person_id, Delegation.delegate_id, Delegation.process_key)
        .where(
            Delegation.person_id.in_(person_ids),
            Delegation.starts_at <= at,
            Delegation.ends_at > at,
        )
        .order_by(Delegation.id)
    )
    found: dict[int, int] = {}
    for person_id, delegate_id, key in rows:
        if key in (None, process_key):
            found.setdefault(person_id, delegate_id)
    return found
