"""Input and output models of the service center."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from campus.kernel.i18n import _

NAME_PATTERN = r"^[a-z][a-z0-9-]{1,58}[a-z0-9]$"
MIN_TTL, MAX_TTL, DEFAULT_TTL = 5, 300, 30
METADATA_MAX_KEYS = 32

ChangeKind = Literal["registered", "deregistered", "evicted", "healthy", "unhealthy"]


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(str(_("应为 http:// 或 https:// 开头的地址")))
    return value.rstrip("/")


class InstanceIn(BaseModel):
    """A registration: what an instance says about itself."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service: str = Field(pattern=NAME_PATTERN, description="服务名：小写字母、数字和连字符")
    instance_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._:-]{1,64}$", description="实例 id，缺省时生成"
    )
    version: str = Field(min_length=1, max_length=40)
    address: str = Field(max_length=255, description="基础地址，如 http://10.0.0.5:8000")
    namespace: str = Field(default="prod", pattern=r"^[a-z][a-z0-9-]{0,29}$")
    weight: int = Field(default=100, ge=0, le=10000)
    modules: list[str] = Field(default_factory=list, max_length=200)
    metadata: dict[str, str] = Field(default_factory=dict)
    ttl_seconds: int = Field(default=DEFAULT_TTL, ge=MIN_TTL, le=MAX_TTL)
    health_url: str | None = Field(default=None, max_length=255)

    @field_validator("address", "health_url")
    @classmethod
    def http_url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("metadata")
    @classmethod
    def bounded_metadata(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > METADATA_MAX_KEYS:
            raise ValueError(str(_("最多 {n} 项", n=METADATA_MAX_KEYS)))
        if any(len(k) > 60 or len(v) > 255 for k, v in value.items()):
            raise ValueError(str(_("键不能超过 60 个字符，值不能超过 255 个字符")))
        return value

    @field_validator("modules")
    @classmethod
    def module_names(cls, value: list[str]) -> list[str]:
        if any(not name or len(name) > 60 for name in value):
            raise ValueError(str(_("模块名不能为空，且不能超过 60 个字符")))
        return sorted(set(value))


class InstanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    service: str
    version: str
    address: str | None
    namespace: str
    weight: int
    modules: list[str]
    metadata: dict[str, Any]
    health_url: str | None
    ttl_seconds: int
    registered_at: datetime
    last_heartbeat_at: datetime
    expires_at: datetime
    healthy: bool
    alive: bool = Field(description="租约未过期")


class Registered(BaseModel):
    instance: InstanceOut
    index: int = Field(description="注册后的变更序号")


class LeaseOut(BaseModel):
    id: str
    expires_at: datetime


class Discovery(BaseModel):
    """The healthy, unexpired instances of a service at a change index."""

    service: str
    index: int
    instances: list[InstanceOut]


class ServiceSummary(BaseModel):
    name: str
    owner: str | None
    instances: int
    healthy: int
    namespaces: list[str]


class HealthCheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str


class ChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    index: int = Field(validation_alias="change_index")
    at: datetime
    service: str
    instance_id: str
    kind: str


class Removal(BaseModel):
    """An instance gone from the registry, at a change index."""

    service: str
    instance_id: str
    index: int


# A change stream says it is alive (None, an SSE comment) after this long without a change.
KEEPALIVE_SECONDS = 15.0


class Reset(BaseModel):
    """A stream asked to replay from an index the store no longer holds (etcd compacted it):
    the watcher reads the instances afresh and follows on from ``index``."""

    index: int
    compacted: int


class CredentialIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    owner: str = Field(pattern=NAME_PATTERN, description="凭据所有者（服务的负责方）")
    description: str = Field(default="", max_length=200)


class CredentialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner: str
    description: str
    token_hint: str
    created_at: datetime
    revoked_at: datetime | None


class CredentialIssued(CredentialOut):
    token: str = Field(description="注册令牌，只在创建时返回一次")
