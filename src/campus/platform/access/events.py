"""Events of the permission center. Both carry whom the change may concern, computed before
the change (a deleted role's grants are gone afterwards), so that a handler can drop exactly
their cached decisions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

GRANT_CHANGED = "access.grant.changed"
ROLE_CHANGED = "access.role.changed"


class GrantChanged(BaseModel):
    grant_id: int | None = None
    change: Literal["created", "revoked"] = "created"
    role: str | None = None
    person_id: int | None = None  # set for a grant to one person
    position_kind: str | None = None  # set for a grant to every holder of a kind of post


class RoleChanged(BaseModel):
    role_id: int
    code: str
    change: Literal["created", "updated", "deleted"]
    person_ids: list[int] = []  # people holding the role through a grant of their own
    position_kinds: list[str] = []  # kinds of post holding it
