"""Tables of the API center (private to this module)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class GatewayService(Base):
    """Where a service's requests go: the healthy instances of a registry service, or a fixed
    upstream URL."""

    __tablename__ = "gw_service"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    registry_service: Mapped[str | None] = mapped_column(String(60), nullable=True)
    url: Mapped[str | None] = mapped_column(String(255), nullable=True)
    connect_timeout_ms: Mapped[int] = mapped_column(Integer)
    read_timeout_ms: Mapped[int] = mapped_column(Integer)
    retries: Mapped[int] = mapped_column(Integer)
    max_body_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GatewayRoute(Base):
    __tablename__ = "gw_route"
    __table_args__ = (UniqueConstraint("service_id", "path_prefix"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    service_id: Mapped[int] = mapped_column(BigId, ForeignKey("gw_service.id"), index=True)
    path_prefix: Mapped[str] = mapped_column(String(200))
    methods: Mapped[list[str]] = mapped_column(JSON)
    strip_prefix: Mapped[bool] = mapped_column(Boolean)
    public: Mapped[bool] = mapped_column(Boolean)
    allow_groups: Mapped[list[str]] = mapped_column(JSON)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timeout_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GatewayConsumer(Base):
    """An application calling through the gateway."""

    __tablename__ = "gw_consumer"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(String(200))
    groups: Mapped[list[str]] = mapped_column(JSON)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GatewayCredential(Base):
    """An API key (only its SHA-256 kept) or an HMAC key id with its secret."""

    __tablename__ = "gw_credential"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("gw_consumer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "key" | "hmac"
    key_id: Mapped[str] = mapped_column(String(64), unique=True)  # key hash, or HMAC key id
    hint: Mapped[str] = mapped_column(String(12))
    secret: Mapped[str | None] = mapped_column(String(100), nullable=True)  # HMAC only
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class GatewayMinute(Base):
    """Requests of one minute by route, consumer and status class: the bounded request log."""

    __tablename__ = "gw_minute"
    __table_args__ = (UniqueConstraint("minute", "route", "consumer", "status_class"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    route: Mapped[str] = mapped_column(String(60))
    consumer: Mapped[str] = mapped_column(String(60))
    status_class: Mapped[str] = mapped_column(String(3))
    requests: Mapped[int] = mapped_column(Integer)
    total_ms: Mapped[int] = mapped_column(BigId)
    max_ms: Mapped[int] = mapped_column(Integer)
