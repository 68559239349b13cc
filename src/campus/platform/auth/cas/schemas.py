"""Input and output models of the CAS service registry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from campus.platform.auth.cas.urls import MatchKind


class Attribute(StrEnum):
    """Attributes a registered service may receive about the person (``/p3/serviceValidate``)."""

    NAME = "name"
    NUMBER = "number"
    PERSON_TYPE = "person_type"
    STUDENT_NO = "student_no"
    STAFF_NO = "staff_no"
    GENDER = "gender"
    ORG_UNIT = "org_unit"
    ORG_UNIT_CODE = "org_unit_code"
    CLASS_NAME = "class_name"
    EMAIL = "email"
    PHONE = "phone"
    ROLES = "roles"


class CasServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="应用名称，如“图书馆”")
    description: str = Field(default="", max_length=500)
    match_kind: MatchKind = Field(
        default=MatchKind.PREFIX,
        description="exact 完全相同；prefix 网址前缀；regex 正则（整串匹配）",
    )
    url_pattern: str = Field(min_length=1, max_length=500, description="服务网址或其模式")
    evaluation_order: int = Field(default=100, ge=0, le=10000, description="多条匹配时小者优先")
    released_attributes: list[Attribute] = Field(default_factory=list, max_length=20)
    proxy_allowed: bool = Field(default=False, description="允许取得代理票据（PGT/PT）")
    slo_enabled: bool = Field(default=True, description="注销时向该应用发送后端单点登出请求")
    enabled: bool = True


class CasServicePatch(BaseModel):
    """The fields to change; those left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    match_kind: MatchKind | None = None
    url_pattern: str | None = Field(default=None, min_length=1, max_length=500)
    evaluation_order: int | None = Field(default=None, ge=0, le=10000)
    released_attributes: list[Attribute] | None = Field(default=None, max_length=20)
    proxy_allowed: bool | None = None
    slo_enabled: bool | None = None
    enabled: bool | None = None


class CasServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    match_kind: MatchKind
    url_pattern: str
    evaluation_order: int
    released_attributes: list[Attribute]
    proxy_allowed: bool
    slo_enabled: bool
    enabled: bool
    created_at: datetime
    updated_at: datetime


class ServiceMatch(BaseModel):
    """Which registered service a URL belongs to, as /cas/login would decide."""

    url: str
    acceptable: bool = Field(description="网址本身是否可被接受（完整的 http(s) 网址等）")
    service: CasServiceOut | None


class AttributeOut(BaseModel):
    name: Attribute
    title: str
