"""Tables of teaching buildings and classrooms (教学楼, 教室). Private to the academic module."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base
from campus.kernel.events import BigId


class Building(Base):
    __tablename__ = "acad_building"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # J1
    name: Mapped[str] = mapped_column(String(60))  # 第一教学楼
    campus: Mapped[str] = mapped_column(String(40))  # 校区, e.g. 南湖校区
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Room(Base):
    """A room lectures and exams are held in. ``room_type`` is one of ``ROOM_TYPES``."""

    __tablename__ = "acad_room"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # J1-101
    name: Mapped[str] = mapped_column(String(60))
    building_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_building.id", ondelete="RESTRICT"), index=True
    )
    floor: Mapped[int] = mapped_column(Integer, default=1)
    room_type: Mapped[str] = mapped_column(String(20), index=True)
    capacity: Mapped[int] = mapped_column(Integer)  # seats for teaching
    exam_capacity: Mapped[int] = mapped_column(Integer)  # seats for exams (every other seat)
    active: Mapped[bool] = mapped_column(default=True)


# 普通教室, 多媒体教室, 阶梯教室, 实验室, 机房, 语音室, 体育场馆, 画室/琴房
ROOM_TYPES = ("ordinary", "multimedia", "hall", "lab", "computer", "language", "sports", "studio")
