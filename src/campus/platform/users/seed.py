"""The user center's part of the demo university: the organisation tree (colleges, majors,
offices), administrative classes, students, faculty and staff, their numbers and posts.

The same seed gives the same university within an academic year: every random choice comes
from ``ctx.rng("users")`` and a Faker instance seeded from it. Rows go in with bulk inserts
(lists of dicts, RETURNING the new ids), never one ORM object per row, so that the medium
university (≈ 22,000 people) seeds in seconds.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from faker import Faker
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.seeding import DemoLogin, Scale, SeedContext
from campus.platform.users import idcard
from campus.platform.users.demo_data import (
    COLLEGES,
    ENGLISH_NAMES,
    ETHNIC_GROUPS,
    HOME_PROVINCE,
    MOBILE_PREFIXES,
    OFFICES,
    REGIONS,
    STAFF_MAIL_DOMAIN,
    STUDENT_MAIL_DOMAIN,
    UNIVERSITY_CODE,
    UNIVERSITY_NAME,
    YOUNG_GIVEN_NAMES_FEMALE,
    YOUNG_GIVEN_NAMES_MALE,
    College,
    Major,
)
from campus.platform.users.models import AdminClass, Identity, OrgUnit, Person, Position

Row = dict[str, Any]

CLASS_SIZE = (30, 40)
GRADUATE_YEARS = 3
CHUNK = 5000
ADMIN_LOGIN = "A0001"
ADMIN_PASSWORD = "Admin@2026"  # noqa: S105 (the demo's published password)
DEMO_PASSWORDS = {  # published with the demo logins
    "user_admin": "Users@2026",
    "staff": "Staff@2026",
    "teacher": "Teacher@2026",
    "counselor": "Counselor@2026",
    "student": "Student@2026",
}
DEMO_MAJOR = "080901"  # the demo student and their counselor come from 计算机科学与技术
DEMO_COLLEGE = "12"
DEMO_OFFICE = {"staff": "803", "user_admin": "815"}  # 教务处, 信息化建设与管理中心
ADMIN_OFFICE = "815"


@dataclass(frozen=True)
class ScaleSpec:
    """How big each part of the university is at one scale."""

    # Classes per grade of a major, drawn once per major (so a popular major stays popular);
    # empty: one class per major in a single grade, the grade rotating from major to major.
    classes_per_grade: tuple[int, ...]
    graduate_classes_per_grade: int
    graduate_programmes: int | None  # how many master's programmes enrol, None: all
    staff_per_office: int
    students_per_teacher: int
    classes_per_counselor: int = 6  # ≈ 200 students, the ministry's ratio


SCALES: dict[Scale, ScaleSpec] = {
    "small": ScaleSpec((), 1, 3, staff_per_office=4, students_per_teacher=15),
    "medium": ScaleSpec((1, 1, 2, 2, 2, 3), 1, None, staff_per_office=30, students_per_teacher=14),
    "large": ScaleSpec((3, 5, 6, 6, 7, 8), 2, None, staff_per_office=60, students_per_teacher=14),
}


@dataclass(frozen=True)
class ClassPlan:
    """One administrative class before it is written: where it belongs and how many it holds."""

    college: College
    major: Major
    major_no: int  # 1-based position of the major in its college, part of student numbers
    grade: int  # intake year
    postgraduate: bool
    number: int  # 1-based within major, grade and level
    size: int

    @property
    def code(self) -> str:
        number = self.number + (90 if self.postgraduate else 0)
        return f"{self.grade}{self.college.code}{self.major_no:02d}{number:02d}"

    @property
    def name(self) -> str:
        level = "硕士" if self.postgraduate else ""
        return f"{self.major.name}{self.grade}级{level}{self.number}班"


def academic_year(today: date) -> int:
    """The intake year of this year's freshmen: the academic year starts in September."""
    return today.year if today.month >= 9 else today.year - 1


def plan_classes(spec: ScaleSpec, intake_year: int, rng: random.Random) -> list[ClassPlan]:
    """Every class of the university, undergraduate then postgraduate, in a stable order."""
    plans: list[ClassPlan] = []
    programmes = 0
    majors = [(c, no, m) for c in COLLEGES for no, m in enumerate(c.majors, 1)]
    for index, (college, major_no, major) in enumerate(majors):
        grades = range(intake_year - major.years + 1, intake_year + 1)
        counts = _classes_by_grade(spec.classes_per_grade, grades, index, rng)
        plans += _plans_for(college, major, major_no, counts, False, rng)
        limit = spec.graduate_programmes
        if major.graduate and (limit is None or programmes < limit):
            programmes += 1
            grades = range(intake_year - GRADUATE_YEARS + 1, intake_year + 1)
            per_grade = (spec.graduate_classes_per_grade,) if spec.classes_per_grade else ()
            counts = _classes_by_grade(per_grade, grades, index, rng)
            plans += _plans_for(college, major, major_no, counts, True, rng)
    return plans


def _classes_by_grade(
    choices: tuple[int, ...], grades: range, index: int, rng: random.Random
) -> dict[int, int]:
    if not choices:
        return {grades[index % len(grades)]: 1}
    count = rng.choice(choices)
    return dict.fromkeys(grades, count)


def _plans_for(
    college: College,
    major: Major,
    major_no: int,
    counts: dict[int, int],
    postgraduate: bool,
    rng: random.Random,
) -> list[ClassPlan]:
    return [
        ClassPlan(college, major, major_no, grade, postgraduate, n, rng.randint(*CLASS_SIZE))
        for grade, count in sorted(counts.items())
        for n in range(1, count + 1)
    ]


@dataclass
class OrgIds:
    university: int
    colleges: dict[str, int]
    majors: dict[str, int]
    offices: dict[str, int]


@dataclass
class Roster:
    """The people to write, their numbers and posts; positions name people by index."""

    people: list[Row] = field(default_factory=list)
    numbers: list[tuple[str, str]] = field(default_factory=list)
    positions: list[Row] = field(default_factory=list)
    logins: list[DemoLogin] = field(default_factory=list)

    def add(self, person: Row, kind: str, number: str) -> int:
        self.people.append(person)
        self.numbers.append((kind, number))
        return len(self.people) - 1

    def post(self, person: int, kind: str, title: str, org: int | None, cls: int | None) -> None:
        self.positions.append(
            {"person": person, "kind": kind, "title": title, "org_unit_id": org, "class_id": cls}
        )

    def demo(self, role: str, person: int, password: str) -> None:
        number = self.numbers[person][1]
        self.logins.append(DemoLogin(role, number, password, self.people[person]["name"]))


class PersonMaker:
    """Realistic, mutually consistent person rows: the identity number carries the birth date,
    sex and native place; numbers, identity numbers and phones never repeat."""

    def __init__(self, rng: random.Random, fake: Faker, now: datetime, reference: date) -> None:
        self.rng = rng
        self.fake = fake
        self.now = now
        self.reference = reference  # ages are counted at the start of the academic year
        self.id_numbers: set[str] = set()
        self.phones: set[str] = set()
        self.hired: Counter[int] = Counter()
        regions = list(REGIONS)
        home = sum(1 for r in regions if r.startswith(HOME_PROVINCE))
        # About half come from the home province, the rest from all over the country.
        weights = [
            (1.0 / home) if r.startswith(HOME_PROVINCE) else 1.0 / (len(regions) - home)
            for r in regions
        ]
        self.regions = regions
        self.region_weights = list(itertools.accumulate(weights))
        self.ethnic_codes = list(ETHNIC_GROUPS)
        self.ethnic_weights = list(itertools.accumulate(s for _, s in ETHNIC_GROUPS.values()))

    def born(self, at: date, youngest: float, oldest: float, typical: float) -> date:
        days = self.rng.triangular(youngest * 365.25, oldest * 365.25, typical * 365.25)
        return at - timedelta(days=int(days))

    def person(
        self,
        *,
        born: date,
        person_type: str,
        org_unit_id: int,
        class_id: int | None,
        political_status: str,
        number: str,
        young: bool,
    ) -> Row:
        male = self.rng.random() < 0.5
        region = self.rng.choices(self.regions, cum_weights=self.region_weights)[0]
        domain = STAFF_MAIL_DOMAIN if class_id is None else STUDENT_MAIL_DOMAIN
        return {
            "name": self.name(male, young),
            "gender": "1" if male else "2",
            "birth_date": born,
            "id_type": "1",
            "id_number": self.id_number(region, born, male),
            "ethnicity": self.rng.choices(self.ethnic_codes, cum_weights=self.ethnic_weights)[0],
            "political_status": political_status,
            "native_place": region,
            "person_type": person_type,
            "org_unit_id": org_unit_id,
            "class_id": class_id,
            "status": "active",
            "phone": self.phone(),
            "email": f"{number}@{domain}",
            "created_at": self.now,
            "updated_at": self.now,
        }

    def name(self, male: bool, young: bool) -> str:
        surname = self.fake.last_name()
        if young and self.rng.random() < 0.5:
            pool = YOUNG_GIVEN_NAMES_MALE if male else YOUNG_GIVEN_NAMES_FEMALE
            return surname + self.rng.choice(pool)
        given = self.fake.first_name_male() if male else self.fake.first_name_female()
        return surname + given

    def id_number(self, region: str, born: date, male: bool) -> str:
        while True:
            number = idcard.make(region, born, self.rng.randrange(500), male)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def phone(self) -> str:
        while True:
            phone = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def staff_number(self, born: date, first_job_age: int) -> str:
        """工号: the year hired and a sequence within that year."""
        earliest = max(born.year + first_job_age, 1985)
        year = self.rng.randint(min(earliest, self.reference.year), self.reference.year)
        self.hired[year] += 1
        return f"{year}{self.hired[year]:04d}"

    def student_status(self, years_in: int, postgraduate: bool) -> str:
        """Party and league membership grows with the years spent at university."""
        draw = self.rng.random()
        member, probation, masses = (
            (0.28, 0.06, 0.12) if postgraduate else (0.01 * years_in, 0.01 + 0.015 * years_in, 0.12)
        )
        if draw < member:
            return "01"
        if draw < member + probation:
            return "02"
        if draw < member + probation + masses:
            return "13"
        return "03"

    def staff_status(self, faculty: bool) -> str:
        draw = self.rng.random()
        if draw < 0.52:
            return "01"
        if faculty and draw < 0.60:
            return self.rng.choice(("04", "05", "05", "06", "07", "07", "08", "09", "10", "10"))
        if faculty and draw < 0.62:
            return "12"
        return "13"


class Builder:
    """Builds the roster of the university from its organisation tree and classes."""

    def __init__(self, spec: ScaleSpec, maker: PersonMaker, orgs: OrgIds, intake_year: int) -> None:
        self.spec = spec
        self.maker = maker
        self.orgs = orgs
        self.intake_year = intake_year
        self.roster = Roster()

    def admin(self) -> None:
        """The system administrator, at the information centre, with the published login."""
        office = self.orgs.offices[ADMIN_OFFICE]
        index = self.employee(office, False, (30, 45, 36), number=ADMIN_LOGIN)
        self.roster.demo("admin", index, ADMIN_PASSWORD)

    def employee(
        self,
        org: int,
        faculty: bool,
        ages: tuple[float, float, float],
        political: str | None = None,
        number: str | None = None,
    ) -> int:
        maker = self.maker
        born = maker.born(maker.reference, *ages)
        number = number or maker.staff_number(born, 27 if faculty else 23)
        row = maker.person(
            born=born,
            person_type="faculty" if faculty else "staff",
            org_unit_id=org,
            class_id=None,
            political_status=political or maker.staff_status(faculty),
            number=number,
            young=born.year >= 1995,
        )
        return self.roster.add(row, "staff_no", number)

    def offices(self) -> None:
        for office in OFFICES:
            org = self.orgs.offices[office.code]
            head = self.employee(org, False, (45, 58, 52), political="01")
            self.roster.post(head, "head", office.head_title, org, None)
            staff = [
                self.employee(org, False, (23, 59, 38))
                for _ in range(self.spec.staff_per_office - 1)
            ]
            for role, code in DEMO_OFFICE.items():
                if code == office.code:
                    self.roster.demo(role, staff[0], DEMO_PASSWORDS[role])

    def faculty(self, classes: Sequence[ClassPlan]) -> None:
        students: Counter[str] = Counter()
        for plan in classes:
            students[plan.college.code] += plan.size
        for college in COLLEGES:
            org = self.orgs.colleges[college.code]
            dean = self.employee(org, True, (46, 59, 53))
            self.roster.post(dean, "dean", "院长", org, None)
            count = max(6, round(students[college.code] / self.spec.students_per_teacher))
            teachers = [self.employee(org, True, (27, 62, 42)) for _ in range(count - 1)]
            if college.code == DEMO_COLLEGE:
                self.roster.demo("teacher", teachers[0], DEMO_PASSWORDS["teacher"])

    def counselors(self, classes: Sequence[ClassPlan], class_ids: Sequence[int]) -> dict[int, int]:
        """One counselor for each group of classes of a college, grade by grade; returns the
        counselor (by index) of each class (by its position in ``classes``)."""
        counselor_of: dict[int, int] = {}
        for college in COLLEGES:
            org = self.orgs.colleges[college.code]
            mine = [i for i, plan in enumerate(classes) if plan.college is college]
            mine.sort(key=lambda i: (classes[i].postgraduate, -classes[i].grade, classes[i].code))
            for group in _chunks(mine, self.spec.classes_per_counselor):
                counselor = self.employee(org, False, (24, 36, 28), political="01")
                for i in group:
                    self.roster.post(counselor, "counselor", "辅导员", org, class_ids[i])
                    counselor_of[i] = counselor
        return counselor_of

    def students(self, classes: Sequence[ClassPlan], class_ids: Sequence[int]) -> dict[int, int]:
        """Every class filled with students; returns the first student of each class."""
        maker = self.maker
        next_seq: dict[tuple[str, int, bool], int] = {}
        first: dict[int, int] = {}
        for i, plan in enumerate(classes):
            key = (plan.major.code, plan.grade, plan.postgraduate)
            seq = next_seq.get(key, 901 if plan.postgraduate else 1)
            ages = (21.3, 28, 22.5) if plan.postgraduate else (17, 20, 18.3)
            for _ in range(plan.size):
                number = f"{plan.grade}{plan.college.code}{plan.major_no:02d}{seq:03d}"
                born = maker.born(date(plan.grade, 9, 1), *ages)
                row = maker.person(
                    born=born,
                    person_type="postgraduate" if plan.postgraduate else "undergraduate",
                    org_unit_id=self.orgs.majors[plan.major.code],
                    class_id=class_ids[i],
                    political_status=maker.student_status(
                        self.intake_year - plan.grade, plan.postgraduate
                    ),
                    number=number,
                    young=True,
                )
                index = self.roster.add(row, "student_no", number)
                first.setdefault(i, index)
                seq += 1
            if seq > (999 if plan.postgraduate else 900):
                raise ValueError(f"student numbers of {plan.major.code}/{plan.grade} overflow")
            next_seq[key] = seq
        return first

    def build(self, classes: Sequence[ClassPlan], class_ids: Sequence[int]) -> Roster:
        self.admin()
        self.offices()
        self.faculty(classes)
        counselor_of = self.counselors(classes, class_ids)
        first_student = self.students(classes, class_ids)
        demo_class = _demo_class(classes)
        self.roster.demo("counselor", counselor_of[demo_class], DEMO_PASSWORDS["counselor"])
        self.roster.demo("student", first_student[demo_class], DEMO_PASSWORDS["student"])
        return self.roster


def _demo_class(classes: Sequence[ClassPlan]) -> int:
    """The newest undergraduate class of the demo major."""
    candidates = [
        i
        for i, plan in enumerate(classes)
        if plan.major.code == DEMO_MAJOR and not plan.postgraduate
    ]
    return max(candidates, key=lambda i: (classes[i].grade, -classes[i].number))


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _insert_ids(session: AsyncSession, model: Any, rows: Sequence[Row]) -> list[int]:
    """Bulk insert in chunks; the new ids in the order of ``rows``."""
    ids: list[int] = []
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    for chunk in _chunks(rows, CHUNK):
        ids.extend((await session.scalars(statement, list(chunk))).all())
    return ids


async def _insert(session: AsyncSession, model: Any, rows: Sequence[Row]) -> None:
    for chunk in _chunks(rows, CHUNK):
        await session.execute(insert(model), list(chunk))


async def _insert_units(
    session: AsyncSession, parent_id: int | None, parent_path: str, units: Sequence[Row]
) -> list[int]:
    """Org units under one parent; their materialised paths need their own new ids."""
    rows = [
        {
            **unit,
            "name_en": ENGLISH_NAMES.get(str(unit["name"]), ""),
            "parent_id": parent_id,
            "path": parent_path,
            "active": True,
        }
        for unit in units
    ]
    ids = await _insert_ids(session, OrgUnit, rows)
    await session.execute(update(OrgUnit), [{"id": i, "path": f"{parent_path}{i}/"} for i in ids])
    return ids


async def _insert_org_tree(session: AsyncSession) -> OrgIds:
    (university,) = await _insert_units(
        session,
        None,
        "/",
        [{"code": UNIVERSITY_CODE, "name": UNIVERSITY_NAME, "kind": "university", "sort_order": 0}],
    )
    root = f"/{university}/"
    college_ids = await _insert_units(
        session,
        university,
        root,
        [
            {"code": c.code, "name": c.name, "kind": "college", "sort_order": n}
            for n, c in enumerate(COLLEGES, 1)
        ],
    )
    majors: dict[str, int] = {}
    for college, college_id in zip(COLLEGES, college_ids, strict=True):
        ids = await _insert_units(
            session,
            college_id,
            f"{root}{college_id}/",
            [
                {
                    "code": m.code,
                    "name": m.name,
                    "kind": "major",
                    "discipline_code": m.code,
                    "sort_order": n,
                }
                for n, m in enumerate(college.majors, 1)
            ],
        )
        majors.update(zip((m.code for m in college.majors), ids, strict=True))
    office_ids = await _insert_units(
        session,
        university,
        root,
        [
            {"code": o.code, "name": o.name, "kind": "office", "sort_order": 100 + n}
            for n, o in enumerate(OFFICES, 1)
        ],
    )
    return OrgIds(
        university=university,
        colleges={c.code: i for c, i in zip(COLLEGES, college_ids, strict=True)},
        majors=majors,
        offices={o.code: i for o, i in zip(OFFICES, office_ids, strict=True)},
    )


async def _insert_classes(
    session: AsyncSession, classes: Sequence[ClassPlan], orgs: OrgIds
) -> list[int]:
    rows = [
        {
            "code": plan.code,
            "name": plan.name,
            "org_unit_id": orgs.majors[plan.major.code],
            "grade": plan.grade,
        }
        for plan in classes
    ]
    return await _insert_ids(session, AdminClass, rows)


async def _write_roster(session: AsyncSession, roster: Roster) -> None:
    person_ids = await _insert_ids(session, Person, roster.people)
    await _insert(
        session,
        Identity,
        [
            {"person_id": pid, "kind": kind, "value": value}
            for pid, (kind, value) in zip(person_ids, roster.numbers, strict=True)
        ],
    )
    positions = [
        {**{k: v for k, v in p.items() if k != "person"}, "person_id": person_ids[p["person"]]}
        for p in roster.positions
    ]
    await _insert(session, Position, positions)


async def seed(ctx: SeedContext) -> None:
    rng = ctx.rng("users")
    fake = Faker("zh_CN")
    fake.seed_instance(rng.getrandbits(64))
    now = clock.now()
    intake_year = academic_year(now.date())
    spec = SCALES[ctx.scale]
    classes = plan_classes(spec, intake_year, rng)
    maker = PersonMaker(rng, fake, now, reference=date(intake_year, 9, 1))
    async with ctx.runtime.db.transaction() as session:
        orgs = await _insert_org_tree(session)
        class_ids = await _insert_classes(session, classes, orgs)
        roster = Builder(spec, maker, orgs, intake_year).build(classes, class_ids)
        await _write_roster(session, roster)
    ctx.logins.extend(roster.logins)
