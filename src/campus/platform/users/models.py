"""Tables of the user center (private to this module)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class OrgUnit(Base):
    __tablename__ = "users_org_unit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # As transcripts and certificates in English print it; empty: not translated.
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(20), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users_org_unit.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    # Materialised path of ids, "/1/4/17/": subtree queries are one indexed LIKE.
    path: Mapped[str] = mapped_column(String(400), index=True)
    discipline_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class AdminClass(Base):
    """行政班: an administrative class of one major and one intake year."""

    __tablename__ = "users_class"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    org_unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users_org_unit.id", ondelete="RESTRICT"), index=True
    )
    grade: Mapped[int] = mapped_column(Integer, index=True)


class Person(Base):
    __tablename__ = "users_person"
    __table_args__ = (
        Index("ix_users_person_type_status", "person_type", "status"),
        UniqueConstraint("id_type", "id_number"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    id_type: Mapped[str] = mapped_column(String(2), default="1")
    id_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ethnicity: Mapped[str | None] = mapped_column(String(2), nullable=True)
    political_status: Mapped[str | None] = mapped_column(String(2), nullable=True)
    native_place: Mapped[str | None] = mapped_column(String(6), nullable=True)
    person_type: Mapped[str] = mapped_column(String(20))
    org_unit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users_org_unit.id", ondelete="RESTRICT"), index=True
    )
    class_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users_class.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="active")
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    email: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Identity(Base):
    """A number a person is known by: student number (学号), staff number (工号)."""

    __tablename__ = "users_identity"
    # A number names one person; a person holds at most one number of each kind.
    __table_args__ = (UniqueConstraint("kind", "value"), UniqueConstraint("person_id", "kind"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users_person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(32), index=True)


class Position(Base):
    """A post a person holds: counselor of a class, dean of a college, head of an office."""

    __tablename__ = "users_position"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users_person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users_org_unit.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    class_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users_class.id", ondelete="CASCADE"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
