"""Input and output models of the API center."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from campus.kernel.i18n import _

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,58}[a-z0-9]$"
GROUP_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
HOST_PATTERN = r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
Method = Literal["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
METHODS: tuple[Method, ...] = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
CredentialKind = Literal["key", "hmac"]
# How apps reach a service on the developer platform (see models.GatewayService).
SubscriptionMode = Literal["none", "open", "approval"]
OfferedMode = Literal["open", "approval"]


class ServiceIn(BaseModel):
    """A gateway service: a registry service name or a fixed upstream URL, not both."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=NAME_PATTERN, description="服务名，网关地址 /gw/<name>/…")
    registry_service: str | None = Field(default=None, pattern=NAME_PATTERN)
    registry_module: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]{0,59}$",
        description="只转发到提供该模块的实例（模块拆分部署时）",
    )
    url: str | None = Field(default=None, max_length=255, description="固定上游地址")
    connect_timeout_ms: int = Field(default=2000, ge=50, le=60_000)
    read_timeout_ms: int = Field(default=10_000, ge=50, le=300_000)
    retries: int = Field(default=2, ge=0, le=5)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    title: str = Field(default="", max_length=100, description="在开发平台上显示的名称")
    description: str = Field(default="", max_length=500)
    owner_id: int | None = Field(default=None, ge=1, description="负责人（审批订阅）的人员 id")
    subscription: SubscriptionMode = Field(
        default="none", description="none 不上架；open 订阅即用；approval 订阅需负责人审批"
    )
    docs_url: str = Field(default="", max_length=255, description="OpenAPI 文档地址")

    @field_validator("url")
    @classmethod
    def http_url(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("docs_url")
    @classmethod
    def optional_docs_url(cls, value: str) -> str:
        return (_http_url(value) or "") if value else ""

    @model_validator(mode="after")
    def one_upstream(self) -> ServiceIn:
        if (self.registry_service is None) == (self.url is None):
            raise ValueError(str(_("注册中心服务名与固定上游地址须填且只填一项")))
        if self.registry_module is not None and self.registry_service is None:
            raise ValueError(str(_("按模块转发需要注册中心服务名")))
        if self.subscription == "approval" and self.owner_id is None:
            raise ValueError(str(_("订阅需审批的服务须指定负责人")))
        return self


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(str(_("应为 http:// 或 https:// 开头的地址")))
    return value.rstrip("/")


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    registry_service: str | None
    registry_module: str | None
    url: str | None
    connect_timeout_ms: int
    read_timeout_ms: int
    retries: int
    max_body_bytes: int
    title: str
    description: str
    owner_id: int | None
    subscription: str
    docs_url: str
    created_at: datetime


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=NAME_PATTERN)
    service: str = Field(pattern=NAME_PATTERN, description="网关服务名")
    path_prefix: str = Field(
        default="/", pattern=r"^/[A-Za-z0-9._~/-]{0,199}$", description="路径前缀，如 /books"
    )
    methods: list[Method] = Field(default_factory=lambda: list(METHODS), min_length=1)
    strip_prefix: bool = True
    public: bool = Field(default=False, description="公开：无需消费者凭据")
    hosts: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="按域名转发：请求的 Host 为其中之一时，在站点根路径上直接匹配本路由",
    )
    allow_groups: list[str] = Field(default_factory=list, max_length=50)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    timeout_ms: int | None = Field(default=None, ge=50, le=300_000)

    @field_validator("allow_groups")
    @classmethod
    def group_names(cls, value: list[str]) -> list[str]:
        return _groups(value)

    @field_validator("hosts")
    @classmethod
    def host_names(cls, value: list[str]) -> list[str]:
        names = sorted({v.strip().lower().rstrip(".") for v in value})
        if any(not re.match(HOST_PATTERN, name) for name in names):
            raise ValueError(str(_("域名应为小写字母、数字、连字符和点组成的主机名")))
        return names

    @field_validator("methods")
    @classmethod
    def distinct_methods(cls, value: list[Method]) -> list[Method]:
        return sorted(set(value))

    @field_validator("path_prefix")
    @classmethod
    def no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/") or "/"


def _groups(value: list[str]) -> list[str]:
    if any(not re.match(GROUP_PATTERN, group) for group in value):
        raise ValueError(str(_("分组名应为小写字母开头的字母、数字、下划线或连字符")))
    return sorted(set(value))


class RouteOut(BaseModel):
    id: int
    name: str
    service: str
    path_prefix: str
    methods: list[str]
    strip_prefix: bool
    public: bool
    hosts: list[str]
    allow_groups: list[str]
    rate_limit_per_minute: int | None
    timeout_ms: int | None
    created_at: datetime


class ConsumerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(pattern=NAME_PATTERN, description="应用名")
    description: str = Field(default="", max_length=200)
    groups: list[str] = Field(default_factory=list, max_length=50)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    quota_per_day: int | None = Field(default=None, ge=1, le=100_000_000, description="每日配额")

    @field_validator("groups")
    @classmethod
    def group_names(cls, value: list[str]) -> list[str]:
        return _groups(value)


class CredentialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    hint: str
    created_at: datetime
    revoked_at: datetime | None


class ConsumerOut(BaseModel):
    id: int
    username: str
    description: str
    groups: list[str]
    rate_limit_per_minute: int | None
    quota_per_day: int | None
    title: str
    owner_id: int | None
    oauth_client_id: str | None
    created_at: datetime
    credentials: list[CredentialOut]


class CredentialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CredentialKind = "key"


class CredentialIssued(CredentialOut):
    """A new credential; its secret is shown only here."""

    consumer: str
    key: str | None = Field(default=None, description="API 密钥（请求头 apikey），只返回一次")
    key_id: str | None = Field(default=None, description="HMAC 密钥 id")
    secret: str | None = Field(default=None, description="HMAC 签名密钥，只返回一次")


class MinuteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    minute: datetime
    route: str
    consumer: str
    status_class: str
    requests: int
    total_ms: int
    max_ms: int


class LimitsIn(BaseModel):
    """An administrator's change of a consumer's limits (null lifts one)."""

    model_config = ConfigDict(extra="forbid")

    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    quota_per_day: int | None = Field(default=None, ge=1, le=100_000_000)


class OAuthClientIssued(BaseModel):
    """A consumer's OAuth client; the secret is shown only here."""

    client_id: str
    client_secret: str = Field(description="只返回一次")
    token_endpoint: str = Field(description="用客户端凭据换取访问令牌的地址")


# ---------------------------------------------------------------- the developer platform


class AppIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=60, description="应用名称")
    description: str = Field(default="", max_length=200, description="用途说明")


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service: str = Field(pattern=NAME_PATTERN, description="网关服务名")
    note: str = Field(default="", max_length=300, description="用途说明（需审批的服务必填）")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    approve: bool
    note: str = Field(default="", max_length=300, description="意见（驳回时必填）")

    @model_validator(mode="after")
    def reason_for_refusal(self) -> DecisionIn:
        if not self.approve and not self.note:
            raise ValueError(str(_("驳回时请写明理由")))
        return self


class SubscriptionOut(BaseModel):
    id: int
    app_id: int
    app: str  # the consumer's username
    app_title: str
    service: str
    service_title: str
    status: str
    note: str
    decision_note: str
    requested_by: int | None
    requested_at: datetime
    decided_at: datetime | None


class AppOut(BaseModel):
    id: int
    username: str
    title: str
    description: str
    owner_id: int | None
    rate_limit_per_minute: int | None
    quota_per_day: int | None
    oauth_client_id: str | None
    created_at: datetime
    credentials: list[CredentialOut]
    subscriptions: list[SubscriptionOut]


class OfferedServiceOut(BaseModel):
    """A service as the developer platform offers it."""

    name: str
    title: str
    description: str
    subscription: str
    owner_id: int | None
    owner_name: str | None
    routes: list[RouteOut]


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=NAME_PATTERN, description="服务名，上线后为 /gw/<name>/…")
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=500)
    url: str = Field(max_length=255, description="上游地址")
    subscription: OfferedMode = "approval"
    docs_url: str = Field(default="", max_length=255, description="接口文档（OpenAPI）地址")

    @field_validator("url")
    @classmethod
    def http_url(cls, value: str) -> str:
        return _http_url(value) or ""

    @field_validator("docs_url")
    @classmethod
    def optional_http_url(cls, value: str) -> str:
        return (_http_url(value) or "") if value else ""


class ProposalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    title: str
    description: str
    url: str
    subscription: str
    docs_url: str
    status: str
    proposed_by: int
    proposed_at: datetime
    review_note: str
    reviewed_at: datetime | None


class UsageDay(BaseModel):
    day: str  # YYYY-MM-DD, campus time
    ok: int  # 1xx-3xx
    client_errors: int
    server_errors: int
    average_ms: float | None


class UsageOut(BaseModel):
    """An app's calls as the gateway's request log has them, and today's quota."""

    days: list[UsageDay]
    by_route: dict[str, int]
    quota_per_day: int | None
    used_today: int
    rate_limit_per_minute: int | None


# ---------------------------------------------------------------- the API catalog


class ApiSourceOut(BaseModel):
    name: str
    kind: str
    url: str
    title: str | None
    version: str | None
    operation_count: int
    versions: int
    fetched_at: datetime | None
    last_checked_at: datetime
    last_error: str


class ApiVersionOut(BaseModel):
    id: int
    version: str
    digest: str
    operation_count: int
    fetched_at: datetime
    current: bool


class ApiOperationOut(BaseModel):
    source: str
    method: str
    path: str
    summary: str
    tags: list[str]
    operation_id: str


class ApiChangesOut(BaseModel):
    """What a version added and removed against the one before it (by method and path)."""

    version_id: int
    previous_id: int | None
    added: list[str]
    removed: list[str]


class ApiSourceDetail(BaseModel):
    source: ApiSourceOut
    versions: list[ApiVersionOut]
    operations: list[ApiOperationOut]
    changes: ApiChangesOut | None


class RefreshOut(BaseModel):
    checked: int
    new_versions: list[str]
    failed: dict[str, str]
