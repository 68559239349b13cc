"""The chat WebSocket, ``/api/v1/messaging/im/ws``: one per open chat page.

Signed in by the session cookie; a browser's Origin must be this site. Frames are JSON objects
with a ``type``.

client → server
  ``send``    {id, conversation_id | to, kind: text|image|file, text?, file_id?, mentions?,
              mention_all?}
  ``recall``  {conversation_id, seq}           ``read``  {conversation_id, seq}
  ``typing``  {conversation_id}
  ``sync``    {since: {conversation_id: last seq seen}, conversations?: [ids]}
  ``ping``    {}
  Any frame may carry an ``id``; a frame that succeeds is answered by ``ack`` with that id.

server → client
  ``ack``      {id, conversation_id?, seq?, duplicate?, message?}  (``send``: the stored message)
  ``message``  {message}                ``recall``  {conversation_id, seq, message (the marker)}
  ``read``     {conversation_id, person_id, seq}
  ``typing``   {conversation_id, person_id, name}
  ``presence`` {person_id, online}      ``conversation`` {conversation_id, change}
  ``synced``   {more: [conversation ids with more to fetch]}       ``pong``
  ``resync``   (then the server closes: the client reconnects and syncs)
  ``error``    {code, status, title, detail, errors?, id?}  — the connection stays open

Exactly-once delivery: every message frame carries its conversation's ``seq``; the socket
remembers which seqs it has sent per conversation, so a message reaching it both live and in a
sync reply goes out once, and a sender gets its own message in the ``ack`` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect, WebSocketState

from campus.kernel import context, i18n
from campus.kernel.context import Principal, RequestContext
from campus.kernel.errors import (
    InvalidInput,
    PayloadTooLarge,
    Problem,
    TooManyRequests,
    Unauthenticated,
    validation_field_errors,
)
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.kernel.web import LOCALE_COOKIE
from campus.platform.messaging import live
from campus.platform.messaging.im import actions, queries
from campus.platform.messaging.im.access import access_conversation, member_ids
from campus.platform.messaging.im.models import Conversation, Member
from campus.platform.messaging.im.schemas import SendIn

log = structlog.get_logger(__name__)
router = APIRouter()

PATH = "/api/v1/messaging/im/ws"
MAX_FRAME_BYTES = 16 * 1024
FRAMES_PER_WINDOW = 60
WINDOW_SECONDS = 10.0
TYPING_EVERY_SECONDS = 2.0
# Live frames wait for the client's first sync (so they follow what it missed) this long.
SYNC_GRACE_SECONDS = 5.0
SESSION_CHECK_SECONDS = 60.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_RESYNC = 4000


# ---------------------------------------------------------------- frames in


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, max_length=64)


class RecallFrame(_Frame):
    conversation_id: int = Field(ge=1)
    seq: int = Field(ge=1)


class ReadFrame(_Frame):
    conversation_id: int = Field(ge=1)
    seq: int = Field(ge=0)


class TypingFrame(_Frame):
    conversation_id: int = Field(ge=1)


class SyncFrame(_Frame):
    since: dict[int, int] = Field(default={}, max_length=5000)
    # Only these conversations (a page showing one); all of the person's when None.
    conversations: list[int] | None = Field(default=None, max_length=5000)


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = validation_field_errors([dict(e) for e in exc.errors()])
        raise InvalidInput(_("帧内容不合法，请检查标出的字段"), errors=errors) from None


def error_frame(problem: Problem, ref: str | None = None) -> dict[str, Any]:
    body = problem.body()
    frame: dict[str, Any] = {
        "type": "error",
        "code": problem.slug,
        "problem": body.pop("type"),
        **body,
    }
    if ref is not None:
        frame["id"] = ref
    return frame


# ---------------------------------------------------------------- what a socket has sent


@dataclass
class Seen:
    """The seqs of one conversation this socket has sent (or the client said it has)."""

    watermark: int = 0
    above: set[int] = field(default_factory=set)

    def __contains__(self, seq: int) -> bool:
        return seq <= self.watermark or seq in self.above

    def add(self, seq: int) -> None:
        if seq <= self.watermark:
            return
        self.above.add(seq)
        while self.watermark + 1 in self.above:
            self.watermark += 1
            self.above.discard(self.watermark)

    def raise_to(self, seq: int) -> None:
        if seq > self.watermark:
            self.watermark = seq
            self.above = {s for s in self.above if s > seq}
            while self.watermark + 1 in self.above:
                self.watermark += 1
                self.above.discard(self.watermark)


# ---------------------------------------------------------------- one socket


class ChatSocket:
    def __init__(self, rt: Runtime, websocket: WebSocket, principal: Principal) -> None:
        self.rt = rt
        self.ws = websocket
        self.principal = principal
        self.person_id = principal.person_id
        self.seen: dict[int, Seen] = {}
        self.pending: set[str] = set()
        self.synced = asyncio.Event()
        self.send_lock = asyncio.Lock()
        self.closing = False

    def seen_in(self, conversation_id: int) -> Seen:
        return self.seen.setdefault(conversation_id, Seen())

    async def send(self, frame: dict[str, Any]) -> None:
        if self.ws.application_state != WebSocketState.CONNECTED:
            return
        text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"), default=str)
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self.ws.send_text(text)

    async def send_locked(self, frame: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.send(frame)

    # ---- lifecycle

    async def run(self) -> None:
        was_online = await live.is_online(self.rt, self.person_id)
        async with live.connect(self.rt, self.person_id) as connection:
            if not was_online:
                await self.announce_presence(True)
            tasks = [
                asyncio.create_task(self.forward(connection)),
                asyncio.create_task(self.watch_session()),
            ]
            try:
                await self.read_loop()
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        if not await live.is_online(self.rt, self.person_id):
            with contextlib.suppress(Exception):
                await self.announce_presence(False)

    async def announce_presence(self, online: bool) -> None:
        """To the people one has direct conversations with (groups would flood)."""
        async with self.rt.db.read() as session:
            mine = select(Member.conversation_id).where(Member.person_id == self.person_id)
            peers = (
                await session.scalars(
                    select(Member.person_id)
                    .join(Conversation, Conversation.id == Member.conversation_id)
                    .where(
                        Conversation.kind == "direct",
                        Member.conversation_id.in_(mine),
                        Member.person_id != self.person_id,
                    )
                )
            ).all()
        if peers:
            frame = {"type": "presence", "person_id": self.person_id, "online": online}
            await live.send(self.rt, peers, frame)

    async def watch_session(self) -> None:
        """A session ended elsewhere (sign-out, revoked) ends the socket too."""
        while True:
            await asyncio.sleep(SESSION_CHECK_SECONDS)
            if await load_principal(self.rt, self.ws) is None:
                await self.send_locked(error_frame(_unauthenticated()))
                self.closing = True
                with contextlib.suppress(Exception):
                    await self.ws.close(CLOSE_UNAUTHENTICATED)
                return

    # ---- client → server

    async def read_loop(self) -> None:
        while not self.closing:
            try:
                message = await self.ws.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            context.set_context(
                RequestContext(
                    request_id=uuid.uuid4().hex,
                    ip=self.ws.client.host if self.ws.client else None,
                    principal=self.principal,
                )
            )
            await self.handle(message.get("text"), message.get("bytes"))

    async def handle(self, text: str | None, raw: bytes | None) -> None:
        ref: str | None = None
        try:
            data = await self.parse(text, raw)
            ref = data.get("id") if isinstance(data.get("id"), str) else None
            await self.dispatch(data)
        except Problem as problem:
            await self.send_locked(error_frame(problem, ref))
        except Exception:
            log.exception("im_frame_failed", person_id=self.person_id)
            await self.send_locked(error_frame(_internal_error(), ref))

    async def parse(self, text: str | None, raw: bytes | None) -> dict[str, Any]:
        if text is None:
            raise InvalidInput.on("frame", _("只接受文本帧（JSON）"))
        if len(text.encode("utf-8")) > MAX_FRAME_BYTES:
            raise PayloadTooLarge(
                _("单个帧不能超过 {kb} KB", kb=MAX_FRAME_BYTES // 1024),
            )
        decision = await self.rt.cache.hit(
            f"im:frames:{self.person_id}", FRAMES_PER_WINDOW, WINDOW_SECONDS
        )
        if not decision.allowed:
            raise TooManyRequests(
                _("发送过于频繁，请 {s} 秒后再试", s=max(1, round(decision.retry_after))),
                extra={"retry_after": round(decision.retry_after, 1)},
            )
        try:
            data = json.loads(text)
        except ValueError:
            raise InvalidInput.on("frame", _("不是合法的 JSON")) from None
        if not isinstance(data, dict):
            raise InvalidInput.on("frame", _("应为 JSON 对象"))
        if not isinstance(data.get("type"), str):
            raise InvalidInput.on("type", _("必填"))
        return data

    async def dispatch(self, data: dict[str, Any]) -> None:
        kind = data.pop("type")
        handler = HANDLERS.get(kind)
        if handler is None:
            raise InvalidInput.on("type", _("未知的帧类型：{t}", t=kind[:20]))
        await handler(self, data)

    async def on_send(self, data: dict[str, Any]) -> None:
        body = _validated(SendIn, data)
        self.pending.add(body.id)
        try:
            async with self.rt.db.transaction(lock_early=True) as session:
                result = await actions.check_send(session, self.rt, self.principal, body)
            message = result.message
            self.seen_in(message.conversation_id).add(message.seq)
        finally:
            self.pending.discard(body.id)
        await self.send_locked(
            {
                "type": "ack",
                "id": body.id,
                "conversation_id": message.conversation_id,
                "seq": message.seq,
                "duplicate": result.duplicate,
                "message": message.model_dump(mode="json"),
            }
        )

    async def on_recall(self, data: dict[str, Any]) -> None:
        frame = _validated(RecallFrame, data)
        async with self.rt.db.transaction(lock_early=True) as session:
            marker = await actions.check_recall(
                session, self.rt, self.principal, frame.conversation_id, frame.seq
            )
        await self.ack(frame.id, conversation_id=frame.conversation_id, seq=marker.seq)

    async def on_read(self, data: dict[str, Any]) -> None:
        frame = _validated(ReadFrame, data)
        async with self.rt.db.transaction(lock_early=True) as session:
            mark = await actions.check_read(
                session, self.rt, self.principal, frame.conversation_id, frame.seq
            )
        await self.ack(frame.id, conversation_id=frame.conversation_id, seq=mark)

    async def on_typing(self, data: dict[str, Any]) -> None:
        frame = _validated(TypingFrame, data)
        async with self.rt.db.read() as session:
            await access_conversation(session, frame.conversation_id, self.person_id)
            others = [
                p for p in await member_ids(session, frame.conversation_id) if p != self.person_id
            ]
        key = f"im:typing:{self.person_id}:{frame.conversation_id}"
        if others and await self.rt.cache.set_if_absent(key, b"1", TYPING_EVERY_SECONDS):
            await live.send(
                self.rt,
                others,
                actions.frame_of(
                    "typing",
                    conversation_id=frame.conversation_id,
                    person_id=self.person_id,
                    name=self.principal.name,
                ),
            )
        await self.ack(frame.id)

    async def on_sync(self, data: dict[str, Any]) -> None:
        """Everything after the client's last seen seq of each of its conversations (after its
        read mark for those it did not list), each message once; then ``synced``."""
        frame = _validated(SyncFrame, data)
        more: list[int] = []
        async with self.send_lock:
            async with self.rt.db.read() as session:
                for member, last_seq in await queries.memberships(session, self.person_id):
                    cid = member.conversation_id
                    if frame.conversations is not None and cid not in frame.conversations:
                        continue
                    since = frame.since.get(cid, member.read_seq)
                    seen = self.seen_in(cid)
                    seen.raise_to(max(since, member.joined_seq))
                    if last_seq <= seen.watermark and not seen.above:
                        continue
                    batch = await queries.after(session, member, seen.watermark)
                    if len(batch) == queries.SYNC_BATCH:
                        more.append(cid)
                    fresh = [m for m in batch if m.seq not in seen]
                    for out in await queries.messages_out(session, fresh):
                        seen.add(out.seq)
                        await self.send(_message_frame(out.model_dump(mode="json")))
            await self.send({"type": "synced", "id": frame.id, "more": more})
        self.synced.set()

    async def on_ping(self, data: dict[str, Any]) -> None:
        await self.send_locked({"type": "pong", "id": data.get("id")})

    async def ack(self, ref: str | None, **fields: Any) -> None:
        if ref is not None:
            await self.send_locked({"type": "ack", "id": ref, **fields})

    # ---- server → client

    async def forward(self, connection: live.Connection) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SYNC_GRACE_SECONDS):
                await self.synced.wait()
        while True:
            frame = await connection.queue.get()
            if frame.get("type") == live.RESYNC["type"]:
                await self.send_locked({"type": "resync"})
                self.closing = True
                with contextlib.suppress(Exception):
                    await self.ws.close(CLOSE_RESYNC)
                return
            async with self.send_lock:
                out = self.translate(frame)
                if out is not None:
                    await self.send(out)

    def translate(self, frame: live.Frame) -> dict[str, Any] | None:
        kind = str(frame.get("type", ""))
        if kind == "presence":
            return frame
        if not kind.startswith("im."):
            return None
        kind = kind[3:]
        if kind == "message":
            message = frame["message"]
            seen = self.seen_in(int(message["conversation_id"]))
            seq = int(message["seq"])
            mine = message.get("sender_id") == self.person_id
            if seq in seen:
                return None
            seen.add(seq)
            if mine and message.get("client_id") in self.pending:
                return None  # this socket's own send: it is answered by the ack
            return _message_frame(message)
        if kind == "recall":
            marker = frame["message"]
            seen = self.seen_in(int(frame["conversation_id"]))
            if int(marker["seq"]) in seen:
                return None
            seen.add(int(marker["seq"]))
        if kind == "typing" and frame.get("person_id") == self.person_id:
            return None
        return {**frame, "type": kind}


def _internal_error() -> Problem:
    problem = Problem(_("服务器内部错误，已记录，请稍后再试"), status=500)
    problem.slug = "internal-error"
    return problem


def _message_frame(message: dict[str, Any]) -> dict[str, Any]:
    if message.get("kind") == "recall":
        return {
            "type": "recall",
            "conversation_id": message["conversation_id"],
            "seq": message["ref_seq"],
            "message": message,
        }
    return {"type": "message", "message": message}


HANDLERS = {
    "send": ChatSocket.on_send,
    "recall": ChatSocket.on_recall,
    "read": ChatSocket.on_read,
    "typing": ChatSocket.on_typing,
    "sync": ChatSocket.on_sync,
    "ping": ChatSocket.on_ping,
}


# ---------------------------------------------------------------- the endpoint


def _unauthenticated() -> Problem:
    return Unauthenticated(_("请先登录，或登录已过期"))


async def load_principal(rt: Runtime, websocket: WebSocket) -> Principal | None:
    """The signed-in person of the socket's session cookie, by the loader the app uses for
    every request (the kernel's middleware does not see WebSocket scopes)."""
    for module in rt.modules:
        loader = module.extra.get("principal_loader")
        if loader is not None:
            found: Principal | None = await loader(websocket)
            return found
    return None


def origin_allowed(websocket: WebSocket) -> bool:
    """A browser page of another site may not open a socket with our cookie. Clients that
    send no Origin (not browsers) are let through: they hold the cookie themselves."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


@router.websocket(PATH)
async def chat_socket(websocket: WebSocket) -> None:
    rt: Runtime = websocket.app.state.runtime
    i18n.set_locale(
        i18n.negotiate(
            websocket.headers.get("accept-language"), websocket.cookies.get(LOCALE_COOKIE)
        )
    )
    if not origin_allowed(websocket):
        await websocket.close(code=1008)
        return
    principal = await load_principal(rt, websocket)
    await websocket.accept()
    if principal is None:
        await websocket.send_text(json.dumps(error_frame(_unauthenticated()), ensure_ascii=False))
        await websocket.close(CLOSE_UNAUTHENTICATED)
        return
    context.set_context(RequestContext(request_id=uuid.uuid4().hex, principal=principal))
    await ChatSocket(rt, websocket, principal).run()
