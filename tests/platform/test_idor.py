"""IDOR: a student cannot reach another student's data through any route that takes a person id.

The routes are enumerated from the enabled modules' manifests (every mounted route with a
``{person_id}`` path parameter, JSON API and pages, every method), so a route added later is
probed without touching this file.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef
from tests.conftest import LoginAs

PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")

# Routes that act on one's relation to another person rather than on that person's data:
# blocking, following, starting a chat, managing a group one administers, and the community's
# real-name public page of a person's named posts. They are open to any signed-in person; they
# must still not show what identifies or reaches the person beyond their name (number, phone).
SOCIAL = {
    ("PUT", "/api/v1/messaging/moderation/blocks/{person_id}"),
    ("DELETE", "/api/v1/messaging/moderation/blocks/{person_id}"),
    ("POST", "/messaging/im/direct/{person_id}"),
    ("POST", "/messaging/im/blocks/{person_id}"),
    ("POST", "/messaging/im/blocks/{person_id}/delete"),
    ("POST", "/messaging/im/c/{conversation_id}/members/{person_id}/remove"),
    ("GET", "/api/v1/community/people/{person_id}/posts"),
    ("PUT", "/api/v1/community/people/{person_id}/follow"),
    ("DELETE", "/api/v1/community/people/{person_id}/follow"),
    ("POST", "/community/people/{person_id}/follow"),
    ("GET", "/community/people/{person_id}"),
}


def person_routes(runtime: Runtime) -> list[tuple[str, str]]:
    """(method, path template) of every mounted route taking a person id."""
    found: list[tuple[str, str]] = []
    for module in runtime.modules:
        for route in module.api_routes():
            assert isinstance(route, APIRoute)
            if "{person_id}" not in route.path:
                continue
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                found.append((method, route.path))
    return found


def fill(template: str, person_id: int) -> str:
    """The path for that person; any other parameter gets a plausible value."""
    return PARAM.sub(lambda m: str(person_id) if m.group(1) == "person_id" else "1", template)


async def two_students(db: Runtime, demo: SeedContext) -> tuple[PersonRef, PersonRef]:
    """The demo student and a classmate of theirs."""
    login = next(x for x in demo.logins if x.role == "student").login
    async with db.db.read() as session:
        me = await users.find_person_by_login(session, login)
        assert me is not None and me.class_id is not None
        other = next(p for p in await users.members_of_class(session, me.class_id) if p.id != me.id)
    return me, other


def test_person_routes_are_found(runtime: Runtime) -> None:
    routes = person_routes(runtime)
    assert ("GET", "/api/v1/users/people/{person_id}") in routes
    assert ("PATCH", "/api/v1/users/people/{person_id}") in routes
    assert ("GET", "/users/people/{person_id}") in routes
    assert ("GET", "/api/v1/access/people/{person_id}/permissions") in routes
    assert set(routes) >= SOCIAL, "a social route listed here is no longer mounted"


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
async def test_a_student_cannot_reach_another_students_data(
    login_as: LoginAs, db: Runtime, demo: SeedContext, accept: str
) -> None:
    _me, other = await two_students(db, demo)
    client = await login_as("student")
    reached = []
    for method, template in person_routes(db):
        kwargs: dict[str, Any] = {"headers": {"Accept": accept}}
        if method != "GET":
            kwargs["json"] = {}
        response = await client.request(method, fill(template, other.id), **kwargs)
        identifying = [other.number or "\0"]
        if (method, template) not in SOCIAL:
            identifying.append(other.name)
        leaked = any(value in response.text for value in identifying)
        # 422: the request was turned away before its handler ran, so nothing was read.
        refused = response.status_code in (403, 404, 422) or (method, template) in SOCIAL
        if not refused or leaked:
            reached.append(
                f"{method} {template}: {response.status_code}{' (leaks)' if leaked else ''}"
            )
    assert not reached, "another student's data reached through:\n" + "\n".join(reached)


async def test_the_same_routes_serve_the_student_their_own_record(
    login_as: LoginAs, db: Runtime, demo: SeedContext
) -> None:
    """The refusals above are about whose data it is, not broken routes."""
    me, _other = await two_students(db, demo)
    client = await login_as("student")
    own = await client.get(fill("/api/v1/users/people/{person_id}", me.id))
    assert own.status_code == 200 and own.json()["name"] == me.name
    page = await client.get(
        fill("/users/people/{person_id}", me.id), headers={"Accept": "text/html"}
    )
    assert page.status_code == 200 and me.name in page.text
