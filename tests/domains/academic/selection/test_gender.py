"""A section open to one gender only (体育 sections for men or for women): the rule refuses the
other gender with its reason, on every selection, counted for the dashboard and writing nothing;
the course search marks the section shut to the student and offers no 选课 button for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from campus.domains.academic.offering.models import Section
from campus.domains.academic.selection import rules
from campus.domains.academic.selection.live import seats_key
from campus.domains.academic.selection.queries import refusal_key
from campus.domains.academic.selection.rules import Meeting, Offer, Student, Window
from campus.kernel import clock
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.domains.academic.conftest import HTML
from tests.domains.academic.selection.conftest import Student as StudentMaker
from tests.domains.academic.selection.conftest import World, choose
from tests.domains.academic.selection.test_pages import card_of
from tests.domains.academic.selection.test_selection import places, refusal

NOW = datetime(2026, 9, 1, 9, tzinfo=UTC)
WINDOW = Window(1, NOW - timedelta(hours=1), NOW + timedelta(hours=1), (), (), Decimal(30))
MAJOR = 7


def offer(gender: str) -> Offer:
    meeting = Meeting(frozenset({1}), frozenset({(0, 1)}))
    return Offer(1, 1, 1, "体育Ⅰ（01班）", 30, Decimal(1), True, meeting, ((MAJOR, None),), gender)


def someone(gender: str, major_id: int = MAJOR) -> Student:
    return Student(1, major_id, 2024, True, gender)


def test_a_section_for_women_refuses_men_and_those_of_unknown_gender() -> None:
    refused = rules.refusal(WINDOW, someone("1"), offer("2"), [], NOW)
    assert refused is not None
    assert (refused.reason, refused.message) == ("gender", "该教学班仅限女生")
    unknown = rules.refusal(WINDOW, someone(""), offer("2"), [], NOW)
    assert unknown is not None and unknown.reason == "gender"
    assert rules.refusal(WINDOW, someone("2"), offer("2"), [], NOW) is None


def test_a_section_for_men_and_an_open_one() -> None:
    refused = rules.refusal(WINDOW, someone("2"), offer("1"), [], NOW)
    assert refused is not None and refused.message == "该教学班仅限男生"
    assert rules.refusal(WINDOW, someone("1"), offer("1"), [], NOW) is None
    assert rules.refusal(WINDOW, someone("2"), offer(""), [], NOW) is None
    # Another major is told about the major first.
    other = rules.refusal(WINDOW, someone("1", major_id=MAJOR + 1), offer("2"), [], NOW)
    assert other is not None and other.reason == "restricted"


async def refused_for_gender(db: Runtime, world: World) -> int:
    return int(await db.cache.get(refusal_key(world.round_id, "gender")) or 0)


async def only_for(db: Runtime, section_id: int, gender: str) -> None:
    async with db.db.transaction() as session:
        section = await session.get(Section, section_id)
        assert section is not None
        section.gender, section.updated_at = gender, clock.now()


async def test_a_man_is_refused_a_section_for_women_and_a_woman_takes_it(
    db: Runtime, world: World, student: StudentMaker
) -> None:
    z = world.sections["z"]
    await only_for(db, z, "2")
    man, _ = await student()
    woman, her = await student(female=True)
    counted = await refused_for_gender(db, world)
    detail = refusal(await choose(man, z), "gender")
    assert detail == "该教学班仅限女生"
    assert await places(db, z) == set()
    assert await db.cache.claimed(seats_key(z)) == set()
    assert await refused_for_gender(db, world) == counted + 1
    # Checked again on every request, not only the first.
    refusal(await choose(man, z), "gender")
    taken = await choose(woman, z)
    assert taken.status_code == 200 and taken.json()["status"] == "selected", taken.text
    assert await places(db, z) == {her}


async def test_an_edit_of_the_restriction_applies_to_the_next_request(
    db: Runtime, world: World, student: StudentMaker
) -> None:
    x1 = world.sections["x1"]
    man, me = await student()
    await only_for(db, x1, "2")
    refusal(await choose(man, x1), "gender")
    await only_for(db, x1, "")
    assert (await choose(man, x1)).status_code == 200
    assert await places(db, x1) == {me}


async def test_the_search_marks_a_section_shut_to_the_student(
    db: Runtime, world: World, student: StudentMaker, login_as: LoginAs
) -> None:
    z = world.sections["z"]
    await only_for(db, z, "2")
    man, _ = await student()
    woman, _ = await student(female=True)
    page = await man.get("/academic/selection", headers=HTML)
    card = card_of(page.text, z)
    assert 'data-testid="offer-gender">仅限女生' in card
    assert 'data-testid="offer-barred"' in card and "该教学班仅限女生" in card
    assert 'data-testid="select"' not in card
    assert 'data-testid="select"' in card_of(page.text, world.sections["x1"])
    hers = card_of((await woman.get("/academic/selection", headers=HTML)).text, z)
    assert 'data-testid="select"' in hers and 'data-testid="offer-barred"' not in hers
    # The refusal is counted under its own reason on the registrar's dashboard.
    refusal(await choose(man, z), "gender")
    counted = await refused_for_gender(db, world)
    assert counted >= 1
    registrar = await login_as("staff")
    board = await registrar.get(f"/academic/selection/rounds/{world.round_id}", headers=HTML)
    row = f'data-testid="refusal-gender"><td>限定性别</td><td class="text-end">{counted}<'
    assert row in board.text
