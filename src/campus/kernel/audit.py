"""The audit log: who changed what, from where, when, and how it looked before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel import clock, context
from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_request_id", "request_id"),  # the monitor finds a request's writes
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(120), index=True)
    target_type: Mapped[str] = mapped_column(String(60))
    target_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


def record(
    session: AsyncSession,
    action: str,
    target_type: str,
    target_id: object | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the current transaction (it commits with the change)."""
    ctx = context.current()
    session.add(
        AuditEntry(
            at=clock.now(),
            actor_id=context.actor_id(),
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            before=before,
            after=after,
            ip=ctx.ip,
            request_id=ctx.request_id or None,
        )
    )
