"""Tables of the permission center (private to this module)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Role(Base):
    """A named set of permission codes (``*`` stands for every code)."""

    __tablename__ = "access_role"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(200), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON)
    builtin: Mapped[bool] = mapped_column(default=False)


class Grant(Base):
    """A role given to one person or to every holder of a kind of position, with the data it
    reaches: ``scope`` is self, org, subtree, all or custom. ``org_unit_id`` anchors org and
    subtree scopes; on a position grant it may be empty, and the holder's post anchors them.
    ``person_id`` and ``org_unit_id`` are the user center's ids (plain columns)."""

    __tablename__ = "access_grant"
    __table_args__ = (
        CheckConstraint("(person_id IS NULL) <> (position_kind IS NULL)", name="one_subject"),
        Index("ix_access_grant_position_kind", "position_kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    role_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("access_role.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    position_kind: Mapped[str | None] = mapped_column(String(30), nullable=True)
    scope: Mapped[str] = mapped_column(String(12))
    org_unit_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    custom_org_unit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
