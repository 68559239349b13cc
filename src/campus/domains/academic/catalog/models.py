"""The course catalogue (课程库). Private to the academic module."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, FixedDecimal, UTCDateTime
from campus.kernel.events import BigId


class Course(Base):
    """A course as the catalogue defines it; sections of it open per term."""

    __tablename__ = "acad_course"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # 08090101
    name: Mapped[str] = mapped_column(String(100), index=True)
    name_en: Mapped[str] = mapped_column(String(200))
    credits: Mapped[Decimal] = mapped_column(FixedDecimal(1))  # 0.5 steps, e.g. 3.5
    lecture_hours: Mapped[int] = mapped_column(Integer)  # 理论学时 in the term
    lab_hours: Mapped[int] = mapped_column(Integer, default=0)  # 实验/上机学时
    assessment: Mapped[str] = mapped_column(String(10))  # exam (考试) | check (考查)
    org_unit_id: Mapped[int] = mapped_column(BigId, index=True)  # owning department (开课单位)
    room_type: Mapped[str] = mapped_column(String(20), default="multimedia")  # usual room need
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
