"""Tables of moderation (private to the messaging module)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class SensitiveWord(Base):
    """A word the filter looks for: ``block`` refuses the text, ``mask`` replaces it by ＊."""

    __tablename__ = "msg_sensitive_word"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Stored folded (lower case) so that matching ignores case.
    word: Mapped[str] = mapped_column(String(60), unique=True)
    level: Mapped[str] = mapped_column(String(8))  # block, mask
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Report(Base):
    """One person's report of one piece of content, queued for a moderator.

    ``target_kind`` names the content type and its module, e.g. ``im.message``,
    ``community.post``; ``target_id`` is that module's id as text."""

    __tablename__ = "msg_report"
    __table_args__ = (
        UniqueConstraint("reporter_id", "target_kind", "target_id"),
        Index("ix_msg_report_queue", "status", "created_at"),
        Index("ix_msg_report_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reporter_id: Mapped[int] = mapped_column(BigId, index=True)
    target_kind: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    # What the reported content said when it was reported, and where a moderator sees it.
    excerpt: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    author_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    status: Mapped[str] = mapped_column(
        String(10), default="pending"
    )  # pending, removed, dismissed
    moderator_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Block(Base):
    """``blocker_id`` does not want messages from ``blocked_id``."""

    __tablename__ = "msg_block"

    blocker_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    blocked_id: Mapped[int] = mapped_column(BigId, primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModerationSetting(Base):
    """Settings administrators change at run time (e.g. how long chat messages are kept)."""

    __tablename__ = "msg_moderation_setting"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
