"""Events and the transactional outbox.

An action calls ``emit`` inside its transaction: the event is a row in ``outbox``, committed or
rolled back together with the change it describes. The relay (``campus.kernel.relay``) publishes
committed rows to the bus (``campus.kernel.bus``). Each handler remembers the event ids it has
processed in ``event_processed``, written in the same transaction as the handler's own writes, so
a redelivered event changes nothing twice. A delivery that keeps failing lands in
``event_dead_letter`` for an administrator to replay.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel import clock, context
from campus.kernel.db import Base, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Event(BaseModel):
    """The envelope every event travels in."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    name: str
    payload: dict[str, Any]
    occurred_at: datetime = Field(default_factory=clock.now)
    actor_id: int | None = None
    request_id: str | None = None


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    def to_event(self) -> Event:
        return Event(
            id=self.event_id,
            name=self.name,
            payload=self.payload,
            occurred_at=self.occurred_at,
            actor_id=self.actor_id,
            request_id=self.request_id,
        )


class ProcessedEvent(Base):
    """An event a handler has processed; the primary key makes a second processing impossible."""

    __tablename__ = "event_processed"
    __table_args__ = (Index("ix_event_processed_processed_at", "processed_at"),)

    handler: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeadLetter(Base):
    """A delivery that failed every attempt: the whole event, kept until it is replayed."""

    __tablename__ = "event_dead_letter"
    __table_args__ = (
        UniqueConstraint("handler", "event_id"),
        Index("ix_event_dead_letter_failed_at", "failed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    handler: Mapped[str] = mapped_column(String(120), index=True)
    event_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120), index=True)
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replayed_by: Mapped[int | None] = mapped_column(BigId, nullable=True)

    def to_event(self) -> Event:
        return Event.model_validate(self.event)


async def emit(
    session: AsyncSession,
    name: str,
    payload: BaseModel | dict[str, Any],
    *,
    anonymous: bool = False,
) -> Event:
    """Record an event in the outbox of the current transaction. ``anonymous``: the envelope
    names neither the actor nor the request (an anonymous ballot must not lead back to whoever
    cast it)."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    if anonymous:
        actor_id, request_id = None, None
    else:
        actor_id, request_id = context.actor_id(), context.current().request_id
    event = Event(name=name, payload=data, actor_id=actor_id, request_id=request_id)
    session.add(
        OutboxRow(
            event_id=event.id,
            name=event.name,
            payload=event.payload,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            request_id=event.request_id,
            attempts=0,
        )
    )
    return event


def matches(pattern: str, name: str) -> bool:
    """Topic matching as RabbitMQ does it: ``*`` is one dotted word, ``#`` is zero or more."""
    return _match(pattern.split("."), name.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head in ("*", words[0])) and _match(rest, words[1:])
