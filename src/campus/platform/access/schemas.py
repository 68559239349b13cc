"""Input and output of the permission center's API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from campus.kernel.pagination import Page
from campus.platform.access.scopes import ScopeKind

ROLE_CODE_PATTERN = r"^[a-z][a-z0-9_]{1,59}$"
MAX_CODES = 500
MAX_CUSTOM_UNITS = 200


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RoleCreate(_Input):
    code: str = Field(
        pattern=ROLE_CODE_PATTERN, description="角色代码：小写字母开头，字母数字下划线"
    )
    name: str = Field(min_length=1, max_length=60)
    description: str = Field("", max_length=200)
    permissions: list[str] = Field(default_factory=list, max_length=MAX_CODES)


class RoleUpdate(_Input):
    name: str | None = Field(None, min_length=1, max_length=60)
    description: str | None = Field(None, max_length=200)
    permissions: list[str] | None = Field(None, max_length=MAX_CODES)


class RoleOut(BaseModel):
    id: int
    code: str
    name: str
    description: str
    permissions: list[str]
    builtin: bool
    grant_count: int = 0


class GrantCreate(_Input):
    """A role for one person (``person_id``) or for every holder of a kind of post
    (``position_kind``), reaching the data ``scope`` says."""

    role: str = Field(min_length=1, max_length=60, description="角色代码")
    person_id: int | None = None
    position_kind: str | None = Field(None, min_length=1, max_length=30)
    scope: ScopeKind
    org_unit_id: int | None = Field(
        None, description="本单位、本单位及下级的锚点单位；岗位授权可留空，表示任职单位"
    )
    custom_org_unit_ids: list[int] = Field(default_factory=list, max_length=MAX_CUSTOM_UNITS)


class OrgUnitRef(BaseModel):
    id: int
    name: str


class GrantOut(BaseModel):
    id: int
    role: str
    role_name: str
    person_id: int | None
    person_name: str | None = None
    person_number: str | None = None
    position_kind: str | None
    position_title: str | None = None
    scope: ScopeKind
    scope_label: str
    org_unit: OrgUnitRef | None = None
    custom_org_units: list[OrgUnitRef] = []
    where: str = Field(description="数据范围的文字说明")
    created_at: datetime | None = None


class GrantPage(Page[GrantOut]):
    pass


class PermissionOut(BaseModel):
    code: str
    title: str
    module: str
    module_title: str


class ModulePermissions(BaseModel):
    module: str
    module_title: str
    permissions: list[PermissionOut]


class Where(BaseModel):
    """One place a code reaches, and the grant it comes through."""

    scope: ScopeKind
    scope_label: str
    where: str
    grant_id: int
    role: str
    role_name: str
    via: str = Field(description="授权方式：本人，或岗位")


class HeldPermission(BaseModel):
    code: str
    title: str
    module: str
    where: list[Where]


class PersonBrief(BaseModel):
    id: int
    name: str
    number: str | None = None


class PersonPermissions(BaseModel):
    """What a person can do: each code with where, and through which grant."""

    person: PersonBrief
    positions: list[str]
    roles: list[str]
    everything: bool = Field(description="持有全部权限（*）")
    permissions: list[HeldPermission]


class Holder(BaseModel):
    person: PersonBrief
    grant_ids: list[int]


class CodeHolders(BaseModel):
    """Who can do one thing, and where: the grants that carry the code and their people."""

    code: str
    title: str
    roles: list[str]
    grants: list[GrantOut]
    people: list[Holder]
    people_total: int
