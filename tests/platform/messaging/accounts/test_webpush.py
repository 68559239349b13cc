"""Web Push: devices register their browser subscription (bad JSON is refused, naming the
field); a published post is encrypted (aes128gcm) and signed (VAPID) for each device of its
followers and posted to their push service — here a local HTTP server standing in for it; a
subscription the push service says is gone (404/410) is removed."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import http_ece
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from multidict import CIMultiDict
from py_vapid import Vapid02
from sqlalchemy import select

from campus.kernel.runtime import Runtime
from campus.platform.messaging.accounts import events
from campus.platform.messaging.accounts.models import PushKey, PushSubscription
from tests.platform.messaging.accounts.conftest import (
    ACCOUNTS,
    PUSH,
    Person,
    assert_problem,
    counts,
    create_account,
    outbox_events,
    publish,
    run_webpush_handler,
    staff,
    student,
)
from tests.platform.users.conftest import Campus, SignIn


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Browser:
    """A browser's side of a push subscription: its key pair and auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return dict(json.loads(plain))


@dataclass
class PushService:
    """A push service on 127.0.0.1: answers 410 for /gone*, 404 for /missing*, else 201."""

    server: TestServer
    # Headers keep their case-insensitive lookup (pywebpush sends some in lower case).
    received: dict[str, list[tuple[CIMultiDict[str], bytes]]] = field(default_factory=dict)

    def endpoint(self, name: str) -> str:
        return str(self.server.make_url(f"/push/{name}"))


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    service: PushService

    async def receive(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        service.received.setdefault(name, []).append((request.headers.copy(), await request.read()))
        if name.startswith("gone"):
            return web.Response(status=410)
        if name.startswith("missing"):
            return web.Response(status=404)
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/push/{name}", receive)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    service = PushService(server)
    yield service
    await server.close()


async def register(person: Person, browser: Browser) -> None:
    response = await person.client.post(f"{PUSH}/subscriptions", json=browser.subscription())
    assert response.status_code == 201, response.text


async def stored_devices(db: Runtime) -> dict[str, datetime | None]:
    """The devices left, by the last part of their endpoint: when each last got a push."""
    async with db.db.read() as session:
        rows = await session.execute(
            select(PushSubscription.endpoint, PushSubscription.last_sent_at)
        )
        return {endpoint.rsplit("/", 1)[-1]: sent for endpoint, sent in rows.all()}


async def deliver_last_post(db: Runtime) -> None:
    await run_webpush_handler(db, (await outbox_events(db, events.POST_PUBLISHED))[-1])


async def test_a_post_is_pushed_encrypted_to_followers_devices_and_gone_ones_are_removed(
    admin: httpx.AsyncClient,
    campus: Campus,
    sign_in: SignIn,
    db: Runtime,
    push_service: PushService,
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    follower = await student(admin, sign_in, campus)
    other_follower = await student(admin, sign_in, campus)
    stranger = await student(admin, sign_in, campus)
    phone = Browser(push_service.endpoint("phone"))
    old_laptop = Browser(push_service.endpoint("gone-laptop"))
    dropped = Browser(push_service.endpoint("missing-tablet"))
    elsewhere = Browser(push_service.endpoint("stranger"))
    for person, browser in (
        (follower, phone),
        (follower, old_laptop),
        (other_follower, dropped),
        (stranger, elsewhere),
    ):
        await register(person, browser)
    for person in (follower, other_follower):
        assert (await person.client.put(f"{ACCOUNTS}/{account['id']}/subscription")).is_success

    post = await publish(editor.client, account["id"], title="图书馆闭馆通知", summary="周日闭馆")
    await deliver_last_post(db)

    assert set(push_service.received) == {"phone", "gone-laptop", "missing-tablet"}
    headers, body = push_service.received["phone"][0]
    assert headers["Content-Encoding"] == "aes128gcm"
    assert int(headers["TTL"]) > 0
    assert "图书馆".encode() not in body and b"title" not in body  # encrypted, not plain JSON
    assert phone.decrypt(body) == {
        "title": "图书馆闭馆通知",
        "body": f"{account['name']}：周日闭馆",
        "url": f"/messaging/posts/{post['id']}",
        "tag": f"post-{post['id']}",
        "icon": "/static/icons/campus-192.png",
    }
    # Signed with the server's VAPID key, the one browsers subscribe with.
    public_key = (await follower.client.get(f"{PUSH}/key")).json()["public_key"]
    scheme, token = headers["Authorization"].split(" ", 1)
    assert scheme == "vapid" and f"k={public_key}" in token
    assert Vapid02.verify(headers["Authorization"])

    devices = await stored_devices(db)
    assert "gone-laptop" not in devices and "missing-tablet" not in devices
    assert devices["phone"] is not None
    assert devices["stranger"] is None


async def test_a_mandatory_account_reaches_the_devices_its_rule_covers(
    admin: httpx.AsyncClient,
    campus: Campus,
    sign_in: SignIn,
    db: Runtime,
    push_service: PushService,
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(
        admin,
        org_unit_id=campus.college_id,
        mandatory={"person_types": ["undergraduate"], "org_unit_ids": [campus.college_id]},
        editor_ids=[editor.id],
    )
    covered = await student(admin, sign_in, campus)  # never subscribed: the rule covers them
    teacher = await staff(admin, sign_in, campus)
    await register(covered, Browser(push_service.endpoint("covered")))
    await register(teacher, Browser(push_service.endpoint("teacher")))
    await publish(editor.client, account["id"], title="必读")
    await deliver_last_post(db)
    assert set(push_service.received) == {"covered"}


async def test_the_vapid_key_is_generated_once(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    person = await student(admin, sign_in, campus)
    first = (await person.client.get(f"{PUSH}/key")).json()["public_key"]
    second = (await admin.get(f"{PUSH}/key")).json()["public_key"]
    assert first == second and len(base64.urlsafe_b64decode(first + "=")) == 65
    async with db.db.read() as session:
        keys = list(await session.scalars(select(PushKey.public_key)))
    assert keys == [first]


async def test_a_browser_re_registering_replaces_its_row_and_can_unregister(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    person = await student(admin, sign_in, campus)
    endpoint = "https://fcm.googleapis.com/fcm/send/abc:123"
    await register(person, Browser(endpoint))
    await register(person, Browser(endpoint))  # new keys, same browser
    listed = (await person.client.get(f"{PUSH}/subscriptions")).json()
    assert len(listed) == 1
    removed = await person.client.post(f"{PUSH}/subscriptions/remove", json={"endpoint": endpoint})
    assert removed.status_code == 204
    assert (await person.client.get(f"{PUSH}/subscriptions")).json() == []


def _with(**changes: Any) -> dict[str, Any]:
    body = Browser("https://fcm.googleapis.com/fcm/send/xyz").subscription()
    for key, value in changes.items():
        if key in ("p256dh", "auth"):
            body["keys"][key] = value
        elif value is None:
            body.pop(key)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_with(keys=None), "keys"),
        (_with(endpoint=None), "endpoint"),
        (_with(endpoint="not a url at all"), "endpoint"),
        (_with(endpoint="https://evil.example.com/collect"), "endpoint"),
        (_with(endpoint="http://fcm.googleapis.com/fcm/send/x"), "endpoint"),
        (_with(p256dh="A" * 87), "keys.p256dh"),
        (_with(p256dh="!!!not base64!!!" * 6), "keys.p256dh"),
        (_with(auth="AAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "keys.auth"),
        (_with(keys={"p256dh": "x"}), "keys.p256dh"),
    ],
)
async def test_bad_subscription_json_names_the_field_and_stores_nothing(
    admin: httpx.AsyncClient,
    campus: Campus,
    sign_in: SignIn,
    db: Runtime,
    body: dict[str, Any],
    field: str,
) -> None:
    person = await student(admin, sign_in, campus)
    before = await counts(db)
    assert_problem(await person.client.post(f"{PUSH}/subscriptions", json=body), 422, field)
    assert await counts(db) == before


async def test_malformed_json_is_a_problem_not_a_crash(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    person = await student(admin, sign_in, campus)
    response = await person.client.post(
        f"{PUSH}/subscriptions",
        content=b'{"endpoint": ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 422)
