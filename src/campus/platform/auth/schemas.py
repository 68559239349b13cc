"""Input and output models of the authentication center."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

# A step a session must complete before it carries permissions.
PendingStep = Literal["change_password", "enrol_mfa"]
Channel = Literal["email", "sms"]


class LoginIn(BaseModel):
    login: str = Field(min_length=1, max_length=64, description="学号、工号、手机号或邮箱")
    password: str = Field(min_length=1, max_length=128)
    remember: bool = Field(default=False, description="记住我：会话保持 30 天（可配置）")


class SecondFactorIn(BaseModel):
    mfa_token: str = Field(min_length=1, max_length=100)
    code: str = Field(min_length=1, max_length=20, description="动态验证码或恢复码")


class MeOut(BaseModel):
    person_id: int
    name: str
    login: str
    permissions: list[str]


class LoginOut(MeOut):
    session_id: str
    amr: list[str]
    # What the person must do next before the session carries permissions, if anything.
    next_step: PendingStep | None = None


class MfaChallengeOut(BaseModel):
    """The password was right; the second factor is asked for next."""

    mfa_required: Literal[True] = True
    mfa_token: str
    expires_in: int


class OpenedSession(BaseModel):
    """A session just opened: the cookie token is returned this once and stored nowhere."""

    token: str
    session_id: str
    person_id: int
    expires_at: datetime
    max_age: int | None = Field(description="Cookie max-age: set only with remember-me")
    amr: list[str]
    pending: PendingStep | None = None


class SessionOut(BaseModel):
    """A session as "my devices" and other modules see it."""

    session_id: str
    person_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    auth_time: datetime
    amr: list[str]
    remember: bool
    pending: PendingStep | None = None
    user_agent: str | None
    device: str
    ip: str | None
    current: bool = False
    ended_at: datetime | None = None
    end_reason: str | None = None


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class AdminPasswordResetIn(BaseModel):
    password: str | None = Field(
        default=None,
        max_length=128,
        description="临时密码；留空则由系统生成。对方下次登录后须修改",
    )


class AdminPasswordResetOut(BaseModel):
    person_id: int
    temporary_password: str | None = Field(
        default=None, description="系统生成的临时密码（仅此一次返回）"
    )
    sessions_ended: int


class ResetCodeRequestIn(BaseModel):
    login: str = Field(min_length=1, max_length=64, description="学号、工号、手机号或邮箱")
    channel: Channel = "sms"


class ResetCodeRequestOut(BaseModel):
    detail: str
    expires_in: int


class ResetCodeConfirmIn(BaseModel):
    login: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=12)
    new_password: str = Field(min_length=1, max_length=128)


class TotpStatusOut(BaseModel):
    enabled: bool
    required: bool
    recovery_codes_left: int


class TotpEnrolmentOut(BaseModel):
    secret: str = Field(description="手动输入用的密钥（Base32）")
    otpauth_uri: str
    qr_data_uri: str = Field(description="二维码（SVG data URL），在本站生成")


class TotpCodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=20)


class TotpDisableIn(BaseModel):
    password: str = Field(min_length=1, max_length=128)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="一次性恢复码，仅此一次显示")


class AccountOut(BaseModel):
    """The security state of one account, for administrators."""

    person_id: int
    name: str
    login: str
    status: str
    has_password: bool
    must_change: bool
    failed_logins: int
    locked_until: datetime | None
    mfa_enabled: bool
    mfa_required: bool
    active_sessions: int
