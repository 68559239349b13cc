"""Back-channel single logout: when the SSO session ends, every service that validated a ticket
in it (and takes logout requests) receives the SAML LogoutRequest naming that ticket; failures
are retried by the event pipeline without calling the services that already answered."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from cas import SingleLogoutMixin
from sqlalchemy import select

from campus.kernel.bus import Dispatcher, Outcome, RetryPolicy
from campus.kernel.events import DeadLetter, Event, OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.auth.cas.handlers import SINGLE_LOGOUT
from tests.conftest import LoginAs
from tests.platform.auth.cas.conftest import Receiver, Register, service_ticket

SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)


@pytest.fixture
async def student(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("student")


async def validated_ticket(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, service: str
) -> str:
    ticket = await service_ticket(student, service)
    response = await anon.get("/cas/serviceValidate", params={"service": service, "ticket": ticket})
    assert "authenticationSuccess" in response.text
    return ticket


async def session_ended_event(client: httpx.AsyncClient, db: Runtime) -> Event:
    """Sign the browser out through /cas/logout; the event auth announced for it."""
    assert (await client.get("/cas/logout")).status_code == 200
    async with db.db.read() as session:
        row = await session.scalar(select(OutboxRow).where(OutboxRow.name == "auth.session.ended"))
        assert row is not None
        return row.to_event()


def session_index(body: dict[str, list[str]]) -> str:
    document = body["logoutRequest"][0]
    root = ET.fromstring(document)
    assert root.tag == f"{SAMLP}LogoutRequest"
    assert root.attrib["Version"] == "2.0" and root.attrib["ID"] and root.attrib["IssueInstant"]
    index = root.find(f"{SAMLP}SessionIndex")
    assert index is not None and index.text
    return index.text


async def test_each_service_of_the_session_gets_a_logout_request(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    register: Register,
    db: Runtime,
) -> None:
    await register(url_pattern=receiver.url("/lib/"))
    await register(url_pattern=receiver.url("/oa/"))
    await register(url_pattern=receiver.url("/quiet/"), slo_enabled=False)
    await register(url_pattern=receiver.url("/unused/"))
    lib = await validated_ticket(student, anon, receiver.url("/lib/"))
    oa = await validated_ticket(student, anon, receiver.url("/oa/?from=portal"))
    await validated_ticket(student, anon, receiver.url("/quiet/"))
    await service_ticket(student, receiver.url("/unused/"))  # issued, never validated
    event = await session_ended_event(student, db)
    outcome = await Dispatcher(db.db, FAST).deliver(SINGLE_LOGOUT, event)
    assert outcome is Outcome.HANDLED
    posts = {r.path: r for r in receiver.posts()}
    assert set(posts) == {"/lib/", "/oa/"}
    assert session_index(posts["/lib/"].form) == lib
    assert posts["/oa/"].query == {"from": ["portal"]}, "sent to the URL the ticket was issued for"
    document = posts["/oa/"].form["logoutRequest"][0]
    assert SingleLogoutMixin.verify_logout_request(document, oa), "python-cas accepts it"
    assert not SingleLogoutMixin.verify_logout_request(document, lib)


async def test_a_failing_service_is_retried_and_the_others_are_not_called_twice(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    register: Register,
    db: Runtime,
) -> None:
    await register(url_pattern=receiver.url("/lib/"))
    await register(url_pattern=receiver.url("/oa/"))
    await validated_ticket(student, anon, receiver.url("/lib/"))
    await validated_ticket(student, anon, receiver.url("/oa/"))
    event = await session_ended_event(student, db)
    receiver.statuses = [500]  # the first logout request to arrive fails
    outcome = await Dispatcher(db.db, FAST).deliver(SINGLE_LOGOUT, event)
    assert outcome is Outcome.HANDLED
    paths = sorted(r.path for r in receiver.posts())
    assert len(paths) == 3 and set(paths) == {"/lib/", "/oa/"}, paths
    again = await Dispatcher(db.db, FAST).deliver(SINGLE_LOGOUT, event)
    assert again is Outcome.DUPLICATE
    assert len(receiver.posts()) == 3


async def test_a_service_that_never_answers_ends_as_a_dead_letter(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    register: Register,
    db: Runtime,
) -> None:
    await register(url_pattern=receiver.url("/lib/"))
    await validated_ticket(student, anon, receiver.url("/lib/"))
    event = await session_ended_event(student, db)
    receiver.statuses = [503] * FAST.max_attempts
    outcome = await Dispatcher(db.db, FAST).deliver(SINGLE_LOGOUT, event)
    assert outcome is Outcome.DEAD_LETTERED
    assert len(receiver.posts()) == FAST.max_attempts
    async with db.db.read() as session:
        letter = await session.scalar(
            select(DeadLetter.error).where(DeadLetter.handler == SINGLE_LOGOUT.name)
        )
    assert letter is not None and "LogoutDeliveryFailed" in letter


async def test_a_session_without_cas_tickets_sends_nothing(
    student: httpx.AsyncClient, receiver: Receiver, db: Runtime, register: Register
) -> None:
    await register(url_pattern=receiver.url("/lib/"))
    event = await session_ended_event(student, db)
    assert await Dispatcher(db.db, FAST).deliver(SINGLE_LOGOUT, event) is Outcome.HANDLED
    assert receiver.posts() == []


async def test_only_the_ended_session_is_logged_out(
    login_as: LoginAs,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    register: Register,
    db: Runtime,
) -> None:
    await register(url_pattern=receiver.url("/lib/"))
    phone = await login_as("student")
    desktop = await login_as("student")
    await validated_ticket(phone, anon, receiver.url("/lib/"))
    kept = await validated_ticket(desktop, anon, receiver.url("/lib/"))
    event = await session_ended_event(phone, db)
    await Dispatcher(db.db, FAST).deliver(SINGLE_LOGOUT, event)
    indexes: list[Any] = [session_index(r.form) for r in receiver.posts()]
    assert len(indexes) == 1 and kept not in indexes
    assert (await desktop.get("/api/v1/auth/me")).status_code == 200
