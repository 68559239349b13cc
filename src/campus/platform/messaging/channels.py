"""External channels: e-mail over SMTP, and adapters for SMS and WeCom (企业微信).

An adapter is what a vendor integration implements (``SmsAdapter.send_text``,
``WecomAdapter.send_text``); the deployment chooses one by a setting. The demo's logging
adapters send nothing: they log the message, and the delivery log records what would have been
sent, marked with the adapter's name ("log"), so nobody mistakes it for a real delivery.

Sends run in the delivery job after the notification committed, never inside a request.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import structlog
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from campus.kernel.config import Settings
from campus.kernel.mail import send_mail
from campus.platform.users.schemas import PersonContact


class MessagingSettings(BaseSettings):
    """``CAMPUS_MESSAGING_*``: what the kernel's settings do not already say (SMTP and the SMS
    backend are the kernel's ``CAMPUS_SMTP_*`` and ``CAMPUS_SMS_BACKEND``)."""

    model_config = SettingsConfigDict(
        env_prefix="CAMPUS_MESSAGING_", env_file=".env", extra="ignore"
    )

    wecom_backend: Literal["log"] = Field(
        default="log", description="WeCom adapter; 'log' records the message only (demo)"
    )
    site_url: str = Field(
        default="", description="Prefix of site links in e-mail/SMS, e.g. https://i.example.edu.cn"
    )
    heartbeat_seconds: float = Field(default=15.0, gt=0, description="SSE keep-alive comment")
    delivery_batch: int = Field(default=200, ge=1, description="Sends per delivery job run")
    delivery_max_attempts: int = Field(default=5, ge=1, description="Tries before 'failed'")
    delivery_retry_seconds: float = Field(
        default=60.0, ge=0, description="Wait after a failed send; doubles each attempt"
    )


@lru_cache
def messaging_settings() -> MessagingSettings:
    return MessagingSettings()


@dataclass(frozen=True)
class Outgoing:
    subject: str
    text: str


class ChannelAdapter(ABC):
    """One external channel: where it reaches a person, and how a message gets there."""

    channel: str
    adapter: str  # recorded with each delivery: "smtp", "log", a vendor's name

    @abstractmethod
    def address_of(self, contact: PersonContact) -> str | None: ...

    @abstractmethod
    async def send(self, address: str, message: Outgoing) -> None:
        """Deliver; raises on failure (the job records the error and retries)."""


class SmtpEmail(ChannelAdapter):
    channel = "email"
    adapter = "smtp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def address_of(self, contact: PersonContact) -> str | None:
        return contact.email or None

    async def send(self, address: str, message: Outgoing) -> None:
        if not self.settings.smtp_host:
            raise RuntimeError("CAMPUS_SMTP_HOST is not set")
        await send_mail(self.settings, address, message.subject, message.text)


class SmsAdapter(ChannelAdapter):
    """A carrier's SMS gateway (阿里云短信, 腾讯云短信…) implements ``send_text``."""

    channel = "sms"

    def address_of(self, contact: PersonContact) -> str | None:
        return contact.phone or None

    async def send(self, address: str, message: Outgoing) -> None:
        await self.send_text(address, f"【{message.subject}】{message.text}")

    @abstractmethod
    async def send_text(self, phone: str, text: str) -> None: ...


class WecomAdapter(ChannelAdapter):
    """WeCom's message API (应用消息 to a member's userid) implements ``send_text``; the
    member's userid is their student or staff number, as campus WeCom directories use."""

    channel = "wecom"

    def address_of(self, contact: PersonContact) -> str | None:
        return contact.number or None

    async def send(self, address: str, message: Outgoing) -> None:
        await self.send_text(address, f"{message.subject}\n{message.text}")

    @abstractmethod
    async def send_text(self, userid: str, text: str) -> None: ...


class LoggingSms(SmsAdapter):
    adapter = "log"

    async def send_text(self, phone: str, text: str) -> None:
        structlog.get_logger("campus.messaging.sms").warning(
            "demo_sms_not_sent", note="DEMO SMS — not sent, logged only", phone=phone, text=text
        )


class LoggingWecom(WecomAdapter):
    adapter = "log"

    async def send_text(self, userid: str, text: str) -> None:
        structlog.get_logger("campus.messaging.wecom").warning(
            "demo_wecom_not_sent",
            note="DEMO WeCom — not sent, logged only",
            userid=userid,
            text=text,
        )


def adapters(settings: Settings) -> dict[str, ChannelAdapter]:
    """The external channels of this deployment: e-mail when an SMTP server is set; SMS and
    WeCom through the adapters the settings name."""
    found: dict[str, ChannelAdapter] = {}
    if settings.smtp_host:
        found["email"] = SmtpEmail(settings)
    if settings.sms_backend == "log":
        found["sms"] = LoggingSms()
    else:  # pragma: no cover - the Literal admits no other value yet
        raise ValueError(f"unknown CAMPUS_SMS_BACKEND: {settings.sms_backend}")
    wecom = messaging_settings().wecom_backend
    if wecom == "log":
        found["wecom"] = LoggingWecom()
    else:  # pragma: no cover
        raise ValueError(f"unknown CAMPUS_MESSAGING_WECOM_BACKEND: {wecom}")
    return found


def outgoing(title: str, body: str, link: str | None, site: str) -> Outgoing:
    """The text every external channel sends: the title, the body, and where to read it."""
    lines = [body.strip()] if body.strip() else []
    if link:
        prefix = messaging_settings().site_url.rstrip("/")
        lines.append(prefix + link if link.startswith("/") else link)
    return Outgoing(subject=f"{site}：{title}", text="\n\n".join(lines) or title)
