"""Tables of the permission center (private to this module)."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base
from campus.kernel.events import BigId


class Role(Base):
    __tablename__ = "access_role"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    permissions: Mapped[list[str]] = mapped_column(JSON)
    builtin: Mapped[bool] = mapped_column(default=False)


class Grant(Base):
    """A role given to a person (person_id is the user center's id)."""

    __tablename__ = "access_grant"
    __table_args__ = (UniqueConstraint("person_id", "role_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    role_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("access_role.id", ondelete="CASCADE"), index=True
    )
