"""Tables of the authentication center (private to this module)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Credential(Base):
    """A person's password (argon2id); person_id is the user center's id."""

    __tablename__ = "auth_credential"

    person_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
