"""Tables of instant messaging (private to the messaging module).

A conversation's ``last_seq`` is its message counter: sending increments it with
``UPDATE … RETURNING`` in the transaction that stores the message, so sequence numbers are
gap-free and unique per conversation however many senders race."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId

Seq = BigInteger().with_variant(Integer(), "sqlite")


class Conversation(Base):
    __tablename__ = "msg_im_conversation"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))  # direct, group, class, section
    name: Mapped[str] = mapped_column(String(60), default="")
    announcement: Mapped[str] = mapped_column(String(1000), default="")
    owner_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # "small:large" person ids of a direct conversation: at most one per pair.
    direct_key: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    # What an automatic group mirrors, e.g. "class:12", "section:7".
    source_key: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    last_seq: Mapped[int] = mapped_column(Seq, default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dissolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Member(Base):
    """A person in a conversation. They see the messages after ``joined_seq``; ``read_seq``
    is the last one they have read (their read receipt)."""

    __tablename__ = "msg_im_member"
    __table_args__ = (Index("ix_msg_im_member_person", "person_id", "conversation_id"),)

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("msg_im_conversation.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    role: Mapped[str] = mapped_column(String(8), default="member")  # owner, admin, member
    joined_seq: Mapped[int] = mapped_column(Seq, default=0)
    read_seq: Mapped[int] = mapped_column(Seq, default=0)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Message(Base):
    __tablename__ = "msg_im_message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        # A client's retry of the same message is found, never stored twice.
        UniqueConstraint("sender_id", "client_id"),
        Index("ix_msg_im_message_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("msg_im_conversation.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Seq)
    sender_id: Mapped[int | None] = mapped_column(BigId, nullable=True)  # None: the system
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # text, image, file, system (a notice such as "X joined"), recall (marks ref_seq recalled)
    kind: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text, default="")
    file_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_size: Mapped[int] = mapped_column(BigInteger, default=0)
    mentions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    mention_all: Mapped[bool] = mapped_column(Boolean, default=False)
    ref_seq: Mapped[int | None] = mapped_column(Seq, nullable=True)
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
