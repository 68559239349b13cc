"""Tables of the CAS server (private to the auth module)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class CasService(Base):
    """An application allowed to use the CAS server, recognised by its URL."""

    __tablename__ = "auth_cas_service"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    # exact | prefix | regex; see campus.platform.auth.cas.urls
    match_kind: Mapped[str] = mapped_column(String(10))
    url_pattern: Mapped[str] = mapped_column(String(1000))
    # Lower numbers are tried first when several patterns match one URL.
    evaluation_order: Mapped[int] = mapped_column(Integer, default=100)
    released_attributes: Mapped[list[str]] = mapped_column(JSON, default=list)
    proxy_allowed: Mapped[bool] = mapped_column(default=False)
    slo_enabled: Mapped[bool] = mapped_column(default=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CasTicket(Base):
    """A service, proxy or proxy-granting ticket.

    Only the SHA-256 of the ticket is the key, so a database dump yields no usable ticket. A
    service or proxy ticket is claimed once (``consumed_at``); its text is kept in
    ``session_index`` only after that claim, when it is worthless, because single logout names
    it to the service. The rows of one SSO session (``session_id``) are the services to sign out.
    """

    __tablename__ = "auth_cas_ticket"
    __table_args__ = (
        Index("ix_auth_cas_ticket_session", "session_id", "kind"),
        Index("ix_auth_cas_ticket_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(3))  # ST, PT or PGT
    service: Mapped[str] = mapped_column(Text)  # the URL the ticket is bound to (PGT: its pgtUrl)
    service_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("auth_cas_service.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    user: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(String(64))
    from_new_login: Mapped[bool] = mapped_column(default=False)
    long_term: Mapped[bool] = mapped_column(default=False)
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Proxy chain, most recent first: a PT's proxies, or the chain a PGT hands on to its PTs.
    proxies: Mapped[list[str]] = mapped_column(JSON, default=list)
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    session_index: Mapped[str | None] = mapped_column(String(64), nullable=True)

    def audit_view(self) -> dict[str, Any]:
        return {"kind": self.kind, "service": self.service, "person_id": self.person_id}
