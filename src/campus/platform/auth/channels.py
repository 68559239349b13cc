"""Channels that deliver verification codes: e-mail over SMTP, and SMS through an adapter.

A channel knows which of a person's addresses it uses and how to send a code there. The SMS
adapter interface (``SmsSender``) is what a carrier's gateway implements; the demo's
``LoggingSmsSender`` writes the message to the log instead of sending it, marked as such.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import structlog

from campus.kernel.config import Settings
from campus.kernel.i18n import _
from campus.kernel.mail import send_mail
from campus.platform.users.schemas import PersonDetail


class CodeChannel(ABC):
    name: str
    title: str

    @abstractmethod
    def address_of(self, person: PersonDetail) -> str | None:
        """Where this channel reaches the person, or None when they have no such address."""

    @abstractmethod
    async def send_code(self, address: str, code: str, ttl_minutes: int, site: str) -> None:
        """Deliver the code; raises on failure (the caller logs it: the answer stays the same)."""


def code_text(code: str, ttl_minutes: int, site: str) -> str:
    return str(
        _(
            "【{site}】您的密码重置验证码是 {code}，{minutes} 分钟内有效。"
            "如非本人操作，请忽略并留意账号安全。",
            site=site,
            code=code,
            minutes=ttl_minutes,
        )
    )


class EmailChannel(CodeChannel):
    name = "email"
    title = "邮箱"

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("the e-mail channel needs CAMPUS_SMTP_HOST")
        self.settings = settings

    def address_of(self, person: PersonDetail) -> str | None:
        return person.email or None

    async def send_code(self, address: str, code: str, ttl_minutes: int, site: str) -> None:
        subject = str(_("【{site}】密码重置验证码", site=site))
        await send_mail(self.settings, address, subject, code_text(code, ttl_minutes, site))


class SmsSender(ABC):
    """A carrier's SMS gateway (阿里云短信, 腾讯云短信, a campus SMS cat...)."""

    @abstractmethod
    async def send_text(self, phone: str, text: str) -> None: ...


class LoggingSmsSender(SmsSender):
    """The demo's SMS gateway: nothing is sent; the message goes to the log, at warning level
    so that an operator who left it configured in production notices."""

    async def send_text(self, phone: str, text: str) -> None:
        # A logger per call: the log configuration of the moment applies (tests capture it).
        structlog.get_logger("campus.auth.sms").warning(
            "demo_sms_not_sent", note="DEMO SMS — not sent, logged only", phone=phone, text=text
        )


class SmsChannel(CodeChannel):
    name = "sms"
    title = "手机短信"

    def __init__(self, sender: SmsSender) -> None:
        self.sender = sender

    def address_of(self, person: PersonDetail) -> str | None:
        return person.phone or None

    async def send_code(self, address: str, code: str, ttl_minutes: int, site: str) -> None:
        await self.sender.send_text(address, code_text(code, ttl_minutes, site))


def _sms_sender(settings: Settings) -> SmsSender:
    if settings.sms_backend == "log":
        return LoggingSmsSender()
    raise ValueError(f"unknown CAMPUS_SMS_BACKEND: {settings.sms_backend}")


def available_channels(settings: Settings) -> dict[str, CodeChannel]:
    """The channels this deployment offers: SMS always, e-mail when an SMTP server is set."""
    channels: dict[str, CodeChannel] = {"sms": SmsChannel(_sms_sender(settings))}
    if settings.smtp_host:
        channels["email"] = EmailChannel(settings)
    return channels


def mask_address(address: str) -> str:
    """Enough of an address for the person to recognise it, not enough to harvest it."""
    if "@" in address:
        local, domain = address.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return f"{address[:3]}****{address[-4:]}" if len(address) >= 7 else "****"
