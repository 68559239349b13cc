"""Tables of subscription push (private to messaging.accounts).

People, org units and files belong to other modules: they are plain id columns here. An account's
audience and mandatory audience are rules (person types × org units), evaluated when asked, so a
person who joins the audience later is covered without a row being written for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Account(Base):
    """A service account (服务号): who publishes, for whom."""

    __tablename__ = "msg_account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    category: Mapped[str] = mapped_column(String(20), index=True)
    icon: Mapped[str] = mapped_column(String(40), default="speakerphone")
    avatar_file_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, index=True)  # the owning unit
    # {"person_types": [...], "org_unit_ids": [...]}: empty lists mean no restriction.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The same shape, or None: these people are subscribed and cannot unsubscribe.
    mandatory: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccountEditor(Base):
    """A person who may write and publish for the account."""

    __tablename__ = "msg_account_editor"
    __table_args__ = (Index("ix_msg_account_editor_person", "person_id"),)

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("msg_account.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)


class Subscription(Base):
    """A voluntary subscription (mandatory ones are the account's rule, not rows)."""

    __tablename__ = "msg_account_subscription"
    __table_args__ = (Index("ix_msg_account_subscription_person", "person_id", "account_id"),)

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("msg_account.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscribed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Post(Base):
    """One post of an account: a draft, scheduled for ``publish_at``, or published."""

    __tablename__ = "msg_account_post"
    __table_args__ = (
        Index("ix_msg_account_post_timeline", "account_id", "status", "published_at"),
        Index("ix_msg_account_post_due", "status", "publish_at"),
        Index("ix_msg_account_post_feed", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("msg_account.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(120), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered without raw HTML
    cover_file_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12))  # draft, scheduled, published
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    author_id: Mapped[int] = mapped_column(BigId, index=True)
    # Unique readers and likes, kept with the rows that make them (one per person).
    read_count: Mapped[int] = mapped_column(Integer, default=0)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    # Taken down by a moderator's decision on a report: gone for readers, kept (marked) for
    # the account's editors. The status stays "published": that is what it was.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    hidden_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    hidden_note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PostRead(Base):
    """The first reading of a post by a person."""

    __tablename__ = "msg_account_post_read"
    __table_args__ = (Index("ix_msg_account_post_read_day", "post_id", "read_at"),)

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("msg_account_post.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PostLike(Base):
    __tablename__ = "msg_account_post_like"

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("msg_account_post.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    liked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PushSubscription(Base):
    """A browser's Web Push subscription (one per device and browser profile)."""

    __tablename__ = "msg_push_subscription"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    # Endpoints are long URLs; uniqueness is kept on their SHA-256.
    endpoint_hash: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint: Mapped[str] = mapped_column(Text)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PushKey(Base):
    """The server's VAPID key pair, generated once (the browsers' subscriptions are bound to
    its public key: replacing it orphans every subscription)."""

    __tablename__ = "msg_push_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    private_pem: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(120))  # base64url, uncompressed P-256 point
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
