"""Events of the permission center."""

from pydantic import BaseModel

GRANT_CHANGED = "access.grant.changed"


class GrantChanged(BaseModel):
    person_id: int
