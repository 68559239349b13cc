"""Tables of the academic calendar (校历): terms, their holidays and make-up days, and the daily
period grid (作息时间). Private to the academic module."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Term(Base):
    """学期: weeks are counted from ``start_date`` (a Monday, the first day of week 1)."""

    __tablename__ = "acad_term"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # 2026-2027-1
    name: Mapped[str] = mapped_column(String(60))  # 2026-2027学年第一学期
    academic_year: Mapped[int] = mapped_column(Integer, index=True)  # 2026 for 2026-2027
    season: Mapped[int] = mapped_column(Integer)  # 1 autumn, 2 spring, 3 summer (小学期)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    teaching_weeks: Mapped[int] = mapped_column(Integer)  # weeks 1..teaching_weeks are taught
    exam_week_from: Mapped[int] = mapped_column(Integer)  # first exam week
    exam_week_to: Mapped[int] = mapped_column(Integer)  # last exam week
    days_per_week: Mapped[int] = mapped_column(Integer, default=5)  # teaching days, Monday on
    current: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TermDay(Base):
    """A holiday (no teaching) or a make-up day (调休: a weekend day taught as ``as_weekday``)."""

    __tablename__ = "acad_term_day"
    __table_args__ = (UniqueConstraint("term_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))  # holiday | makeup
    name: Mapped[str] = mapped_column(String(40))  # 国庆节
    as_weekday: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0 Monday, for makeup


class Period(Base):
    """节次: one period of a teaching day. Periods sharing a ``block`` (大节, e.g. 第1-2节) form
    one slot of the timetable: a lecture occupies a whole block."""

    __tablename__ = "acad_period"
    __table_args__ = (UniqueConstraint("term_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)  # 1-based, 第N节
    block: Mapped[int] = mapped_column(Integer)  # 1-based 大节
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
    part: Mapped[str] = mapped_column(String(10))  # morning | afternoon | evening
