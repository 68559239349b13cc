"""Input and output models of the monitoring center."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from campus.kernel.pagination import PageParams

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
