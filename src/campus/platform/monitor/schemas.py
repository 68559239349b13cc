"""Input and output models of the monitoring center."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from campus.kernel.pagination import PageParams
from campus.platform.monitor.traffic import KEEP_ERRORS, KEEP_MINUTES

# Campus time (China has one time zone and no daylight saving): times typed without an offset
# mean this, and pages show times in it.
CAMPUS_TZ = timezone(timedelta(hours=8), "CST")

DeadLetterState = Literal["pending", "replayed", "all"]


class _Filter(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def blank_is_absent(cls, data: Any) -> Any:
        # Empty boxes of a filter form arrive as "": they mean "any" (or the default).
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value != ""}
        return data


class DeadLetterFilter(_Filter, PageParams):
    handler: str | None = Field(default=None, max_length=120, description="处理器名称")
    event: str | None = Field(
        default=None, max_length=120, description="事件名，或其前缀（如 users 匹配 users.*）"
    )
    state: DeadLetterState | None = Field(default=None, description="pending、replayed 或 all")

    @property
    def effective_state(self) -> DeadLetterState:
        return self.state or "pending"


class AuditFilter(_Filter, PageParams):
    actor_id: int | None = Field(default=None, ge=1, description="操作人的人员 id")
    actor: str | None = Field(
        default=None, max_length=64, description="操作人的账号（学号、工号…）"
    )
    action: str | None = Field(
        default=None, max_length=120, description="操作，或其前缀（如 auth 匹配 auth.*）"
    )
    target_type: str | None = Field(default=None, max_length=60, description="对象类型")
    target_id: str | None = Field(default=None, max_length=64, description="对象 id")
    request_id: str | None = Field(
        default=None, max_length=64, description="请求 id（响应头 X-Request-ID）"
    )
    since: datetime | None = Field(default=None, description="起始时间（含），无时区时按北京时间")
    until: datetime | None = Field(default=None, description="结束时间（不含），无时区时按北京时间")

    @field_validator("since", "until")
    @classmethod
    def campus_time(cls, value: datetime | None) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=CAMPUS_TZ)


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    handler: str
    event_id: str
    name: str
    attempts: int
    failed_at: datetime
    replayed_at: datetime | None
    replayed_by: int | None


class DeadLetterDetail(DeadLetterOut):
    event: dict[str, Any]
    error: str
    handler_known: bool = Field(description="本进程是否注册了该处理器（能否在此重放）")


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None = None
    actor_login: str | None = None
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None
    request_id: str | None


# -- the overview: health, this process's traffic, recent errors -----------------------------

PartState = Literal["ok", "timeout", "down"]
InstanceState = Literal["healthy", "unhealthy", "expired"]


class TrafficFilter(_Filter):
    minutes: int = Field(
        default=KEEP_MINUTES, ge=1, le=KEEP_MINUTES, description="统计最近几分钟（1–15）"
    )
    route: str | None = Field(
        default=None, max_length=300, description="只看一个路由模板，如 /api/v1/auth/me"
    )


class ErrorFilter(_Filter):
    limit: int = Field(default=50, ge=1, le=KEEP_ERRORS, description="最多返回几条（1–100）")


class PartHealth(BaseModel):
    name: str = Field(description="database、cache 或 broker")
    backend: str = Field(description="所用部件，如 postgresql、sqlite、redis、memory、amqp")
    state: PartState


class InstanceHealth(BaseModel):
    id: str
    service: str
    version: str
    address: str | None
    namespace: str
    modules: list[str]
    last_heartbeat_at: datetime
    expires_at: datetime
    state: InstanceState = Field(
        description="healthy、unhealthy（健康检查失败）或 expired（租约已过期）"
    )
    this_process: bool = Field(default=False, description="是否就是回答本请求的进程")


class HealthOut(BaseModel):
    checked_at: datetime
    ready: bool = Field(description="数据库、缓存、消息总线都可用")
    parts: list[PartHealth]
    instances: list[InstanceHealth]
    outbox_unsent: int = Field(description="已提交、尚未发布的事件数")
    dead_letters_pending: int = Field(description="待重放的死信事件数")


class Figures(BaseModel):
    requests: int
    errors: int = Field(description="5xx 响应数")
    error_ratio: float = Field(description="5xx 占请求的比例（0–1）")
    p50_ms: float | None = Field(description="延迟中位数（毫秒，约 ±10 %）")
    p95_ms: float | None = Field(description="95 分位延迟（毫秒，约 ±10 %）")


class RouteFigures(Figures):
    method: str
    route: str
    module: str
    per_minute: float = Field(description="每分钟请求数（窗口内平均）")


class MinuteFigures(Figures):
    minute: datetime = Field(description="这一分钟的起点")


class TrafficOut(BaseModel):
    minutes: int
    route: str | None
    since: datetime
    until: datetime
    routes: list[RouteFigures] = Field(description="按请求数从多到少")
    per_minute: list[MinuteFigures]


class RecentErrorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    request_id: str
    method: str
    route: str
    module: str
    path: str
    status: int
    error: str | None = Field(description="未处理异常的类型与消息；处理过的 5xx 为空")


class RecentErrorsOut(BaseModel):
    items: list[RecentErrorOut] = Field(description="从新到旧")
    kept: int = Field(description="本进程最多保留几条")
