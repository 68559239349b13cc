"""Fixtures of every academic test: the permission center's test tree (college A with major A
and class A of grade 2024, college B), the admin's client, people signed in with chosen grants,
and two of them: the registrar (教务处, campus-wide) and college A's academic secretary."""

from __future__ import annotations

import httpx
import pytest

from campus.platform.access.scopes import ScopeKind
from tests.platform.access.conftest import (  # noqa: F401 (fixtures)
    SignIn,
    Tree,
    admin,
    sign_in,
    staff_in,
    tree,
)

HTML = {"Accept": "text/html"}


@pytest.fixture
async def registrar(sign_in: SignIn, admin: httpx.AsyncClient, tree: Tree) -> httpx.AsyncClient:  # noqa: F811
    """A new member of staff of college A holding the registrar role campus-wide."""
    person = await staff_in(admin, tree, tree.college_a)
    return await sign_in(person, [("registrar", ScopeKind.ALL, None)])


@pytest.fixture
async def secretary_a(admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn) -> httpx.AsyncClient:  # noqa: F811
    """教务秘书 of college A (courses, programmes and offering of college A only; the demo
    university's classes stay out of the test's plans and sections)."""
    person = await staff_in(admin, tree, tree.college_a)
    return await sign_in(person, [("academic_secretary", ScopeKind.SUBTREE, tree.college_a)])
