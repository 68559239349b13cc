"""The org tree as academic affairs reads it (through the user center's service): majors, their
colleges, paths for scope checks, and the administrative classes of a major and grade."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.platform.users import service as users
from campus.platform.users.schemas import ClassOut

GRADUATE_MARKS = ("硕士", "博士", "研究生")


def undergraduate(admin_class: ClassOut) -> bool:
    """Programmes here are undergraduate ones; the user center marks graduate classes by name
    (其专业2025级硕士1班)."""
    return not any(mark in admin_class.name for mark in GRADUATE_MARKS)


async def classes(session: AsyncSession) -> list[ClassOut]:
    """Every administrative class with its student count, by code."""
    return sorted(await users.list_classes(session), key=lambda c: c.code)
