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
    # Only the registry service's instances serving this module (a split deployment).
    registry_module: Mapped[str | None] = mapped_column(String(60), nullable=True)
    url: Mapped[str | None] = mapped_column(String(255), nullable=True)
    connect_timeout_ms: Mapped[int] = mapped_column(Integer)
    read_timeout_ms: Mapped[int] = mapped_column(Integer)
    retries: Mapped[int] = mapped_column(Integer)
    max_body_bytes: Mapped[int] = mapped_column(Integer)
    # The developer platform's view: what it is called there, who answers for it (and decides
    # subscriptions), and whether apps must subscribe: "none" (not offered there; any consumer
    # the routes admit), "open" (subscribed at once) or "approval" (the owner decides).
    title: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(String(500), default="")
    owner_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    subscription: Mapped[str] = mapped_column(String(10), default="none")
    docs_url: Mapped[str] = mapped_column(String(255), default="")  # its OpenAPI document
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
    # Host names this route also answers at the site's root (api.library.example.edu.cn/…);
    # such a route is reached through /gw/<service>/… only with one of them as the Host.
    hosts: Mapped[list[str]] = mapped_column(JSON, default=list)
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
    quota_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # An app of the developer platform: its display name and the developer who owns it.
    title: Mapped[str] = mapped_column(String(60), default="")
    owner_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    # The identity center's client whose bearer tokens identify this consumer.
    oauth_client_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GatewayCredential(Base):
    """An API key (only its SHA-256 kept) or an HMAC key id with its secret."""

    __tablename__ = "gw_credential"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("gw_consumer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "key" | "hmac"
    key_id: Mapped[str] = mapped_column(String(64), unique=True)  # key hash, or HMAC key id
    hint: Mapped[str] = mapped_column(String(12))
    secret: Mapped[str | None] = mapped_column(String(200), nullable=True)  # HMAC, sealed
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


class GatewaySubscription(Base):
    """An app's subscription to a service offered on the developer platform; one row per pair,
    re-requested after a rejection or a cancellation."""

    __tablename__ = "gw_subscription"
    __table_args__ = (UniqueConstraint("consumer_id", "service_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("gw_consumer.id"), index=True)
    service_id: Mapped[int] = mapped_column(BigId, ForeignKey("gw_service.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))  # pending|approved|rejected|cancelled
    note: Mapped[str] = mapped_column(String(300))  # what the developer wants it for
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    requested_by: Mapped[int | None] = mapped_column(BigId, nullable=True)  # None: imported
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class GatewayProposal(Base):
    """A service a developer (a vendor, a department) asks to publish through the gateway,
    reviewed by the gateway's administrators before it exists."""

    __tablename__ = "gw_proposal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(255))
    subscription: Mapped[str] = mapped_column(String(10))  # open|approval
    docs_url: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10))  # pending|approved|rejected
    proposed_by: Mapped[int] = mapped_column(BigId, index=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    review_note: Mapped[str] = mapped_column(String(300), default="")
    reviewed_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiSource(Base):
    """Where the API catalog reads one service's OpenAPI document: Campus's own modules, a
    registry service's instance, or a gateway service's documentation URL."""

    __tablename__ = "gw_api_source"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # campus|registry|gateway
    url: Mapped[str] = mapped_column(String(255))  # "" for Campus's own document
    current_doc_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    last_checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(String(300), default="")


class ApiDocument(Base):
    """One version of a source's document: a new row whenever its content changes."""

    __tablename__ = "gw_api_doc"
    __table_args__ = (UniqueConstraint("source_id", "digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(BigId, ForeignKey("gw_api_source.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(60))  # the document's info.version
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical JSON
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    operation_count: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiOperation(Base):
    """An operation of a document version, for searching the catalog."""

    __tablename__ = "gw_api_operation"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    doc_id: Mapped[int] = mapped_column(BigId, ForeignKey("gw_api_doc.id"), index=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(String(300))
    tags: Mapped[str] = mapped_column(String(200))
    operation_id: Mapped[str] = mapped_column(String(200))
