"""The SSE stream: live notifications, the bell's unread count, heartbeats, and a reconnecting
client that gets exactly what it missed, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.platform.messaging import actions, channels, live
from campus.platform.messaging.models import Notification
from campus.platform.messaging.schemas import Audience, NotificationIn
from tests.platform.messaging.conftest import (
    INBOX,
    Campus,
    create_person,
    send,
    staff_body,
    student_body,
)
from tests.platform.messaging.sse import SseStream
from tests.platform.users.conftest import SignIn


@pytest.fixture
async def reader(admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn) -> httpx.AsyncClient:
    return await sign_in(await create_person(admin, student_body(campus)))


async def test_a_notification_arrives_live_with_its_id(
    app: Any, admin: httpx.AsyncClient, campus: Campus, reader: httpx.AsyncClient
) -> None:
    async with SseStream(app, reader) as stream:
        first = await stream.next()
        assert stream.status == 200
        assert first.event == "unread"
        sent = await send(admin, title="实时通知", audience={"class_ids": [campus.class_id]})
        event = await stream.next_of("notification")
        assert event.id == str(sent["id"])
        assert event.data["title"] == "实时通知"
        assert event.data["id"] == sent["id"]


async def test_the_unread_count_comes_first_and_reading_updates_it(
    app: Any, admin: httpx.AsyncClient, campus: Campus, reader: httpx.AsyncClient
) -> None:
    sent = await send(admin, title="未读", audience={"class_ids": [campus.class_id]})
    unread = (await reader.get(f"{INBOX}/unread")).json()["unread"]
    async with SseStream(app, reader) as stream:
        assert (await stream.next()).data == {"type": "unread", "count": unread}
        await reader.post(f"{INBOX}/{sent['id']}/read")
        event = await stream.next_of("notification.read")
        assert event.data["unread"] == unread - 1


async def test_a_reconnecting_client_gets_what_it_missed_exactly_once(
    app: Any, db: Runtime, admin: httpx.AsyncClient, campus: Campus, reader: httpx.AsyncClient
) -> None:
    async with SseStream(app, reader) as stream:
        await stream.next_of("unread")
        first = await send(admin, title="第一条", audience={"class_ids": [campus.class_id]})
        seen = await stream.next_of("notification")
        assert seen.id == str(first["id"])
    # Disconnected: two arrive meanwhile, one of them campus-wide.
    second = await send(admin, title="第二条", audience={"class_ids": [campus.class_id]})
    third = await send(admin, title="第三条", audience={"everyone": True})
    async with SseStream(app, reader, last_event_id=first["id"]) as stream:
        await stream.next_of("unread")
        # Oldest first, ending with what was missed; before it, any others of the last minute
        # but the one it last saw (the client skips those it has seen).
        replayed = [await stream.next_of("notification")]
        while replayed[-1].data["id"] != third["id"]:
            replayed.append(await stream.next_of("notification"))
        ids = [e.data["id"] for e in replayed]
        assert ids[-2:] == [second["id"], third["id"]] and first["id"] not in ids
        assert ids == sorted(set(ids))
        assert all(e.data["replayed"] for e in replayed)
        # The live frame of an already replayed notification (a commit racing the replay)
        # is not sent twice; a new one is.
        fourth = await send(admin, title="第四条", audience={"class_ids": [campus.class_id]})
        await live.send_all(db, {"type": "notification", "id": second["id"], "title": "dup"})
        event = await stream.next_of("notification")
        assert event.data["id"] == fourth["id"]
        await stream.quiet("notification")


async def test_a_notification_that_committed_late_under_a_lower_id_is_replayed(
    app: Any, db: Runtime, admin: httpx.AsyncClient, campus: Campus, reader: httpx.AsyncClient
) -> None:
    # Ids are taken before commit: the client may have seen a higher id while a lower one was
    # still being written. Reconnecting after the higher one, it gets the lower one too (it
    # skips ids it has seen); one from long before is not sent again.
    audience = {"class_ids": [campus.class_id]}
    long_ago = await send(admin, title="很久以前", audience=audience)
    late = await send(admin, title="晚提交", audience=audience)
    seen = await send(admin, title="已看到", audience=audience)
    async with db.db.transaction() as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == long_ago["id"])
            .values(created_at=clock.now() - timedelta(minutes=5))
        )
    async with SseStream(app, reader, last_event_id=seen["id"]) as stream:
        await stream.next_of("unread")
        replayed = await stream.next_of("notification")
        assert replayed.data["id"] == late["id"] and replayed.data["replayed"]
        await stream.quiet("notification")


async def test_campus_wide_frames_respect_the_person_scope(
    app: Any, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, reader: httpx.AsyncClient
) -> None:
    teacher = await sign_in(await create_person(admin, staff_body(campus)))
    # One stream at a time until each is connected: the tests share one database connection.
    async with SseStream(app, reader) as pupil:
        await pupil.next_of("unread")
        async with SseStream(app, teacher) as staff:
            await staff.next_of("unread")
            sent = await send(
                admin, title="学生专属", audience={"everyone": True, "person_types": ["student"]}
            )
            assert (await pupil.next_of("notification")).data["id"] == sent["id"]
            await staff.quiet("notification")


async def test_a_rolled_back_notification_pushes_nothing_and_stores_nothing(
    app: Any, db: Runtime, admin: httpx.AsyncClient, campus: Campus, reader: httpx.AsyncClient
) -> None:
    async with db.db.read() as session:
        before = await session.scalar(select(func.count()).select_from(Notification))
    async with SseStream(app, reader) as stream:
        await stream.next_of("unread")
        with pytest.raises(RuntimeError):
            async with db.db.transaction() as session:
                item = NotificationIn(
                    title="不该出现", category="system", audience=Audience(everyone=True)
                )
                await actions.notify(session, db, item)
                raise RuntimeError("the request failed after notifying")
        await stream.quiet("notification", 0.5)
    async with db.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Notification)) == before


async def test_heartbeats_keep_the_stream_open(
    app: Any, reader: httpx.AsyncClient, monkeypatch: Any
) -> None:
    monkeypatch.setattr(channels.messaging_settings(), "heartbeat_seconds", 0.05)
    async with SseStream(app, reader) as stream:
        await stream.next_of("unread")
        await asyncio.sleep(0.2)
        await live.send_all(app.state.runtime, {"type": "post", "id": 1})
        assert (await stream.next_of("post")).data == {"type": "post", "id": 1}
        assert "ping" in stream.comments


async def test_other_modules_frames_pass_through_by_type(
    app: Any, db: Runtime, reader: httpx.AsyncClient
) -> None:
    me = (await reader.get("/api/v1/auth/me")).json()
    async with SseStream(app, reader) as stream:
        await stream.next_of("unread")
        await live.send(db, [me["person_id"]], {"type": "im.message", "text": "你好"})
        assert (await stream.next_of("im.message")).data["text"] == "你好"


async def test_signing_in_is_required(app: Any, anon: httpx.AsyncClient) -> None:
    response = await anon.get("/api/v1/messaging/live")
    assert response.status_code == 401
