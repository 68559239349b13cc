"""Tables of the service center (private to this module).

The change index lives in ``registry_state`` (one row, bumped under its row lock, so indexes
commit in order) and every change is kept in ``registry_change`` under its index.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Credential(Base):
    """A service owner's registry token; only its SHA-256 is stored."""

    __tablename__ = "registry_credential"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(60), index=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Service(Base):
    """A service name, owned by the owner whose credential first registered it. Campus's own
    processes register in-process as the owner ``campus`` (split processes use a credential of
    that owner)."""

    __tablename__ = "registry_service"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    owner: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Instance(Base):
    __tablename__ = "registry_instance"
    __table_args__ = (Index("ix_registry_instance_service", "service_id", "namespace"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[int] = mapped_column(BigId, ForeignKey("registry_service.id"))
    version: Mapped[str] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    namespace: Mapped[str] = mapped_column(String(30))
    weight: Mapped[int] = mapped_column(Integer)
    modules: Mapped[list[str]] = mapped_column(JSON)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    health_url: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ttl_seconds: Mapped[int] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    healthy: Mapped[bool] = mapped_column(Boolean, default=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HealthCheck(Base):
    """One probe of an instance's health URL; the last HEALTH_HISTORY per instance are kept."""

    __tablename__ = "registry_health_check"
    __table_args__ = (Index("ix_registry_health_check_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(300), default="")


class State(Base):
    """The registry's change index (one row, id 1)."""

    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_index: Mapped[int] = mapped_column(BigId)


class Change(Base):
    """One change of what discovery answers: registered, deregistered, evicted, healthy,
    unhealthy. Kept for the SSE stream to replay from an index; old ones are purged."""

    __tablename__ = "registry_change"

    change_index: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    service: Mapped[str] = mapped_column(String(60), index=True)
    instance_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
