"""Fixtures of the master-data tests (calendar, rooms, catalogue): the permission center's test
tree (college A with a major, college B), people signed in with chosen grants, and helpers to
count what the module wrote (to prove a refusal wrote nothing)."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from campus.domains.academic.calendar.models import Period, Term, TermDay
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.rooms.models import Building, Room
from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from campus.platform.access.scopes import ScopeKind
from tests.domains.academic import factories
from tests.domains.academic.conftest import HTML
from tests.platform.access.conftest import SignIn, Tree, assert_problem, staff_in

__all__ = [
    "HTML",
    "Tree",
    "assert_problem",
    "counts",
    "xlsx",
]

TERMS = "/api/v1/academic/terms"
ROOMS = "/api/v1/academic/rooms"
BUILDINGS = "/api/v1/academic/buildings"
COURSES = "/api/v1/academic/courses"


async def counts(db: Runtime) -> dict[str, int]:
    """Rows of the master-data tables and the audit log (refusals write nothing; an audited
    403 is written outside the request's transaction, so it is counted apart)."""
    return await factories.count_rows(
        db,
        {
            "terms": Term,
            "days": TermDay,
            "periods": Period,
            "buildings": Building,
            "rooms": Room,
            "courses": Course,
            "audit": (AuditEntry, AuditEntry.action.like("academic.%")),
        },
    )


def xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
async def registrar(
    admin: httpx.AsyncClient,
    tree: Tree,
    sign_in: SignIn,
) -> httpx.AsyncClient:
    person = await staff_in(admin, tree, tree.college_b)
    return await sign_in(person, [("registrar", ScopeKind.ALL, None)])


@pytest.fixture
async def plain(
    admin: httpx.AsyncClient,
    tree: Tree,
    sign_in: SignIn,
) -> httpx.AsyncClient:
    """A member of staff without any academic grant."""
    person = await staff_in(admin, tree, tree.college_a)
    return await sign_in(person)
