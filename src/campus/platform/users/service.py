"""The user center's public interface. Other modules call these; they return schemas."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.platform.users.models import Identity, Person
from campus.platform.users.schemas import PersonRef


async def find_person_by_login(session: AsyncSession, login: str) -> PersonRef | None:
    """The person whose student number, staff number, phone or email is ``login``."""
    login = login.strip()
    if not login:
        return None
    row = (
        await session.execute(
            select(Person, Identity.value)
            .join(Identity, Identity.person_id == Person.id)
            .where(Identity.value == login)
            .limit(1)
        )
    ).first()
    if row is None:
        row = (
            await session.execute(
                select(Person, Identity.value)
                .outerjoin(Identity, Identity.person_id == Person.id)
                .where(or_(Person.phone == login, Person.email == login.lower()))
                .limit(1)
            )
        ).first()
    if row is None:
        return None
    person, number = row
    return _ref(person, number)


async def get_person_ref(session: AsyncSession, person_id: int) -> PersonRef | None:
    row = (
        await session.execute(
            select(Person, Identity.value)
            .outerjoin(Identity, Identity.person_id == Person.id)
            .where(Person.id == person_id)
            .limit(1)
        )
    ).first()
    return None if row is None else _ref(row[0], row[1])


def _ref(person: Person, number: str | None) -> PersonRef:
    ref = PersonRef.model_validate(person)
    ref.number = number
    return ref


async def all_person_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Person.id).order_by(Person.id)))
