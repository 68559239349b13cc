"""Who is who, asked of the user center: the org tree as paths, a reader's place in it, the
people an audience stands for, and whether a grant reaches every unit a notice addresses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory
from campus.platform.users.schemas import STAFF_TYPES, STUDENT_TYPES, PersonRef


@dataclass(frozen=True)
class Reader:
    """A person as audiences match them: their kind, their unit's path and their class."""

    person_id: int
    name: str
    person_type: str
    org_unit_id: int
    org_path: tuple[int, ...]
    class_id: int | None

    @property
    def is_student(self) -> bool:
        return self.person_type in STUDENT_TYPES

    @property
    def is_staff(self) -> bool:
        return self.person_type in STAFF_TYPES


async def reader_of(
    session: AsyncSession, person_id: int, directory: OrgDirectory | None = None
) -> Reader | None:
    person = await users.get_person_ref(session, person_id)
    if person is None:
        return None
    directory = directory or await users.org_directory(session)
    return Reader(
        person_id=person.id,
        name=person.name,
        person_type=person.person_type,
        org_unit_id=person.org_unit_id,
        org_path=tuple(directory.path(person.org_unit_id)),
        class_id=person.class_id,
    )


def fits_people(person_type: str, people: str) -> bool:
    """Whether a person of ``person_type`` is among ``people`` (all, students, staff)."""
    if people == "students":
        return person_type in STUDENT_TYPES
    if people == "staff":
        return person_type in STAFF_TYPES
    return True


async def members_of_targets(
    session: AsyncSession,
    targets: Iterable[tuple[str, int | None, bool]],
    directory: OrgDirectory,
    people: str = "all",
) -> dict[int, PersonRef]:
    """The active people a list of (kind, id, subtree) targets stands for, each once."""
    found: dict[int, PersonRef] = {}
    for kind, target_id, subtree in targets:
        if kind == "campus":
            members = [
                p
                for root in directory.roots
                for p in await users.members_of_org(session, root, subtree=True)
            ]
        elif kind == "org" and target_id is not None:
            members = await users.members_of_org(session, target_id, subtree=subtree)
        elif kind == "class" and target_id is not None:
            members = await users.members_of_class(session, target_id)
        else:
            members = []
        for person in members:
            if fits_people(person.person_type, people):
                found.setdefault(person.id, person)
    return found


def reaches_units(
    principal: Principal, code: str, unit_ids: Iterable[int], directory: OrgDirectory
) -> bool:
    """Whether ``code`` reaches every one of the units for the principal."""
    return all(access.allows(principal, code, directory.path(u)) for u in unit_ids)


def group_units(directory: OrgDirectory, unit_ids: Iterable[int]) -> dict[int, int]:
    """The unit each person's unit is counted under in a summary: their college or office when
    the people span several, else their own unit (a notice to one college is counted by
    major)."""
    units = set(unit_ids)
    tops = {u: directory.top_unit(u) for u in units}
    if len(set(tops.values())) > 1:
        return tops
    return {u: u for u in units}
