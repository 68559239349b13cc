"""Issued transcripts: what each one said (its content, kept as issued) and the code that
verifies it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Transcript(Base):
    __tablename__ = "acad_transcript"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)  # the verification code
    person_id: Mapped[int] = mapped_column(BigId, index=True)  # users_person.id
    language: Mapped[str] = mapped_column(String(2))  # zh | en
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # TranscriptContent, as issued
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the results it lists
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
