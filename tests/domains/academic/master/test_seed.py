"""The demo master data at small scale: a consistent calendar (two terms, one current, holidays
inside their terms, make-up days on weekends), a period grid of 12 periods in 6 blocks, rooms of
every type, and a catalogue with the national general courses and courses for every major."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from campus.domains.academic import service
from campus.domains.academic.calendar import seed as calendar_seed
from campus.domains.academic.calendar.models import Term, TermDay
from campus.domains.academic.calendar.queries import term_out
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.rooms import seed as room_seed
from campus.domains.academic.rooms.models import ROOM_TYPES, Room
from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users


async def test_the_calendar_is_consistent(db: Runtime, demo: SeedContext) -> None:
    async with db.db.read() as session:
        every = list(await session.scalars(select(Term).order_by(Term.start_date)))
        year = calendar_seed.academic_year_of(clock.today())
        # The calendar's year has both terms; earlier years' terms (results of earlier
        # cohorts are recorded in them) all lie before it and none is current.
        terms = [t for t in every if t.academic_year == year]
        assert len(terms) == 2
        assert [t.current for t in every].count(True) == 1
        assert all(t.end_date < terms[0].start_date for t in every if t.academic_year < year)
        autumn, spring = terms
        assert (autumn.code, spring.code) == (f"{year}-{year + 1}-1", f"{year}-{year + 1}-2")
        assert autumn.start_date.weekday() == spring.start_date.weekday() == 0
        assert autumn.start_date.month == 9 and spring.start_date.month in (2, 3)
        assert autumn.end_date < spring.start_date
        current = await service.current_term(session)
        assert current is not None
        assert current.code == (autumn.code if clock.today() < spring.start_date else spring.code)
        for term in terms:
            days = list(await session.scalars(select(TermDay).where(TermDay.term_id == term.id)))
            assert all(term.start_date <= d.day <= term.end_date for d in days)
            for d in days:
                if d.kind == "makeup":
                    assert d.day.weekday() >= 5 and d.as_weekday is not None and d.as_weekday < 5
            grid = await service.period_grid(session, term.id)
            assert len(grid.periods) == 12 and len(grid.blocks) == 6
            assert grid.blocks[0].starts.strftime("%H:%M") == "08:00"
        names = {
            d.name
            for d in await session.scalars(select(TermDay).where(TermDay.term_id == autumn.id))
        }
        assert "国庆节" in names or "国庆节、中秋节" in names
        teaching = await service.teaching_days(session, term_out(autumn))
        national = date(autumn.start_date.year, 10, 2)
        assert national not in {t.day for t in teaching}


def test_holidays_follow_the_rules() -> None:
    found = calendar_seed.holidays_between(date(2026, 9, 7), date(2027, 7, 11))
    by_day = {d: (kind, name, wd) for d, kind, name, wd in found}
    assert all(by_day[date(2026, 10, d)][0] == "holiday" for d in range(1, 8))
    makeups = [(d, wd) for d, (kind, _n, wd) in by_day.items() if kind == "makeup"]
    assert makeups and all(d.weekday() >= 5 for d, _wd in makeups)
    assert by_day[date(2027, 1, 1)][1] == "元旦"
    assert by_day[date(2027, 6, 9)][1] == "端午节"
    # A Tuesday holiday takes the Monday off too, made up the weekend before.
    tuesday = calendar_seed.single_holiday(date(2030, 4, 2), "测试", set())
    assert [(d, k) for d, k, _n, _w in tuesday] == [
        (date(2030, 4, 1), "holiday"),
        (date(2030, 4, 2), "holiday"),
        (date(2030, 3, 31), "makeup"),
    ]
    assert tuesday[2][3] == 0
    assert calendar_seed.first_monday_on_or_after(date(2026, 9, 1)) == date(2026, 9, 7)
    assert calendar_seed.academic_year_of(date(2027, 3, 1)) == 2026
    assert calendar_seed.academic_year_of(date(2026, 8, 20)) == 2026


async def test_rooms_are_enough_and_of_every_type(db: Runtime) -> None:
    async with db.db.read() as session:
        rooms = [
            (r.room_type, r.capacity, r.exam_capacity) for r in await session.scalars(select(Room))
        ]
        students = await users.count_people(session, ["undergraduate", "postgraduate"])
    kinds = Counter(kind for kind, _c, _e in rooms)
    assert set(kinds) == set(ROOM_TYPES)
    general = sum(kinds[k] for k in ("ordinary", "multimedia", "hall", "language"))
    assert general >= room_seed.general_rooms(students)
    assert all(0 < exam <= seats for _k, seats, exam in rooms)
    assert max(seats for kind, seats, _e in rooms if kind == "hall") >= 150
    # Medium scale: 20,000 students need some 4,000 lectures a week; rooms x 25 slots hold them.
    assert room_seed.general_rooms(20_000) * 25 * room_seed.USE >= 20_000 * 8 * 1.5 / 60


async def test_the_catalogue(db: Runtime) -> None:
    async with db.db.read() as session:
        courses = [
            SimpleNamespace(
                code=c.code,
                name=c.name,
                org_unit_id=c.org_unit_id,
                room_type=c.room_type,
                credits=c.credits,
                lecture_hours=c.lecture_hours,
                lab_hours=c.lab_hours,
            )
            for c in await session.scalars(select(Course))
        ]
        tree = await users.org_tree(session)
    by_code = {c.code: c for c in courses}
    units = {}
    stack = list(tree)
    while stack:
        node = stack.pop()
        units[node.id] = node
        stack += node.children
    assert units[by_code["GE001"].org_unit_id].name == "法学院"
    assert units[by_code["GE011"].org_unit_id].name == "外国语学院"
    assert units[by_code["GE021"].org_unit_id].name == "数学与统计学院"
    assert units[by_code["GE051"].org_unit_id].name == "体育学院"
    assert by_code["GE051"].room_type == "sports"
    assert units[by_code["GE061"].org_unit_id].kind == "office"
    majors = [
        u for u in units.values() if u.kind == "major" and u.code.isalnum() and len(u.code) >= 6
    ]
    assert majors
    for major in majors:
        prefix = major.code
        own = [c for c in courses if c.code.startswith(prefix) and len(c.code) == len(prefix) + 2]
        assert 15 <= len(own) <= 25, (major.name, len(own))
        assert {units[c.org_unit_id].id for c in own} == {major.parent_id}
    cs = [c.name for c in courses if c.code.startswith("080901") and len(c.code) == 8]
    assert {"数据结构", "操作系统", "计算机网络"} <= set(cs)
    assert all(c.credits * 2 == int(c.credits * 2) and c.credits > 0 for c in courses)
    ours = [c for c in courses if c.code.startswith("GE") or c.code[:6].isdigit()]
    assert [c.code for c in ours if c.lecture_hours + c.lab_hours <= 0] == []


def test_generic_major_courses() -> None:
    from campus.domains.academic.catalog import disciplines

    names = disciplines.major_courses("999999", "考古学")
    assert len(names) >= 15 and names[0] == "考古学导论"
    assert disciplines.room_type_of("程序设计基础") == "computer"
    assert disciplines.room_type_of("篮球") == "sports"


def test_dates_are_mondays() -> None:
    for year in range(2024, 2032):
        autumn, spring = calendar_seed.term_dates(year)
        assert autumn.weekday() == spring.weekday() == 0
        assert autumn + timedelta(weeks=calendar_seed.WEEKS) <= spring
