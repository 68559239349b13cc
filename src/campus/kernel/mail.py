"""E-mail over SMTP, with the server the settings name (``CAMPUS_SMTP_*``)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from campus.kernel.config import Settings


async def send_mail(settings: Settings, to: str, subject: str, text: str) -> None:
    """Send a plain-text mail from ``smtp_from``; raises on failure (the caller decides
    whether to retry). ``smtp_host`` must be set."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        use_tls=settings.smtp_security == "tls",
        start_tls=settings.smtp_security == "starttls",
        timeout=settings.smtp_timeout_seconds,
    )
