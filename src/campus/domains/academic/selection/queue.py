"""The virtual queue at the door of a round (排队进入选课): when a round sets ``queue_rate``,
students are admitted that many a second, first come first served, each with a signed
admission token bound to them, their session and the round; select and drop need one.

Under the rate a student is admitted at once. Above it each gets a turn in the round's paced
line in the kernel cache (``Cache.pace``: one atomic step on Redis, so it holds across
processes) and waits for it, the page showing how many are still ahead. Entering again returns
the same turn (nobody jumps the line by re-entering), until the admission it leads to has ended.

The token is checked without touching the database or the cache (an HMAC under the server's
secret), so the door costs the hot path nothing but a hash.

The registrar may change the rate while the round runs (``retime``): the turns still to come
are moved closer together (or further apart) from the moment of the change, so the students
already waiting are admitted at the new rate too, in the same order. Each change is kept in
the cache beside the line; a student's turn is read through the changes made since they
entered. The registrar's dashboard reads the line's state (``live``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.responses import Response

from campus.domains.academic.selection.models import Round
from campus.domains.academic.selection.schemas import QueueLive, QueueOut
from campus.kernel.cache import Cache, lock
from campus.kernel.context import Principal
from campus.kernel.errors import Forbidden, TooManyRequests
from campus.kernel.i18n import _

# How long an admission lasts from the student's turn; then they enter the queue again.
ADMISSION_SECONDS = 600.0
# New entries into one round's queue per session and per person: a student's page enters once
# and again after an admission ends; a script entering over and over is stopped.
ENTRIES_PER_SESSION = 10
ENTRIES_PER_PERSON = 20
# A turn due within this long is admitted at once: the rate's worth of students a second pass
# the door without waiting, however closely together they come.
ADMIT_WITHIN_SECONDS = 1.0
ROUND_MARK_SECONDS = 24 * 3600.0  # the line's and the counters' life in the cache
RETIME_WAIT_SECONDS = 5.0  # the longest a rate change waits for another to finish moving the line
COOKIE = "campus_sel_admit"
HEADER = "Admission-Token"
PAGE = "/academic/selection/queue"


@dataclass(frozen=True)
class Door:
    """What a request brings to the door: its admission token (header or cookie, if any) and
    the server's secret that signs tokens."""

    token: str | None
    secret: str


def line_key(round_id: int) -> str:
    return f"acad:sel:q:{round_id}:line"


def entry_key(round_id: int, person_id: int) -> str:
    return f"acad:sel:q:{round_id}:entry:{person_id}"


def retimes_key(round_id: int) -> str:
    """The rate changes of the round's line: [[when, factor], …], oldest first."""
    return f"acad:sel:q:{round_id}:retimes"


def turns_key(round_id: int) -> str:
    """How many turns the round's line has handed out."""
    return f"acad:sel:q:{round_id}:turns"


def keys_of(round_id: int) -> tuple[str, ...]:
    """The round's line and what is kept beside it (not the students' entries)."""
    return line_key(round_id), retimes_key(round_id), turns_key(round_id)


def _session_of(principal: Principal) -> str:
    # A bearer token (an API client) has no server session: its admission is bound to the
    # person alone.
    return principal.session_id or ""


def _mac(secret: str, round_id: int, person_id: int, session_id: str, expires: int) -> str:
    message = f"acad-sel-admit:{round_id}:{person_id}:{session_id}:{expires}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def sign(secret: str, round_id: int, principal: Principal, expires: int) -> str:
    """An admission token: the round, the person and when it ends, in clear, and a MAC over
    those and the session it was issued to."""
    mac = _mac(secret, round_id, principal.person_id, _session_of(principal), expires)
    return f"{round_id}.{principal.person_id}.{expires}.{mac}"


def _refused(reason: str, message: str) -> Forbidden:
    return Forbidden(message, extra={"reason": reason, "queue": PAGE})


def admit(door: Door | None, found: Round, principal: Principal, now: float) -> None:
    """Refuses (403, nothing changed) a request without a valid admission to ``found``'s
    queue, when it has one."""
    if not found.queue_rate:
        return
    token = door.token if door is not None else None
    if not token:
        raise _refused("not_admitted", str(_("本轮选课需排队进入，请先到排队页面等待准入")))
    parts = token.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
        raise _refused("admission_invalid", str(_("准入凭证无效，请重新排队")))
    round_id, person_id, expires = (int(p) for p in parts[:3])
    if round_id != found.id or person_id != principal.person_id:
        raise _refused("admission_invalid", str(_("准入凭证不属于本轮选课或不属于你，请重新排队")))
    assert door is not None
    mac = _mac(door.secret, round_id, person_id, _session_of(principal), expires)
    if not hmac.compare_digest(mac, parts[3]):
        # Issued to another session (copied to another client) or forged.
        raise _refused(
            "admission_session", str(_("准入凭证不属于当前登录会话，请在本设备上重新排队"))
        )
    if expires <= now:
        raise _refused("admission_expired", str(_("准入已过期，请重新排队")))


async def enter(cache: Cache, found: Round, principal: Principal, secret: str) -> QueueOut:
    """Takes a place in the round's queue (or returns the one held): admitted now when the
    turn has come, else how far there is still to go."""
    assert found.queue_rate
    key = entry_key(found.id, principal.person_id)
    now = time.time()
    held = await _entry(cache, found.id, key)
    if held is None or held[0] + ADMISSION_SECONDS <= now:
        await _count_entry(cache, found.id, principal)
        epoch = len(await _retimes(cache, found.id))  # read before the turn: see ``retime``
        turn = await cache.pace(line_key(found.id), 1.0 / found.queue_rate, ROUND_MARK_SECONDS)
        await cache.incr(turns_key(found.id), ttl=ROUND_MARK_SECONDS)
        held = (turn, now)
        # Kept for the round's day: a slower rate set later may move the turn further out.
        entry = {"turn": turn, "entered": now, "epoch": epoch}
        await cache.set(key, json.dumps(entry).encode(), ttl=ROUND_MARK_SECONDS)
    return _state(found, principal, secret, *held, now)


async def state(cache: Cache, found: Round, principal: Principal, secret: str) -> QueueOut | None:
    """Where the student stands in the round's queue; ``None`` unless they entered it."""
    held = await _entry(cache, found.id, entry_key(found.id, principal.person_id))
    now = time.time()
    if held is None or held[0] + ADMISSION_SECONDS <= now:
        return None
    return _state(found, principal, secret, *held, now)


async def _entry(cache: Cache, round_id: int, key: str) -> tuple[float, float] | None:
    """(turn, entered) of a student's entry, the turn moved by the rate changes since."""
    raw = await cache.get(key)
    if raw is None:
        return None
    value = json.loads(raw)
    turn = float(value["turn"])
    changes = (await _retimes(cache, round_id))[int(value.get("epoch", 0)) :]
    return _retimed(turn, changes), float(value["entered"])


async def _retimes(cache: Cache, round_id: int) -> list[tuple[float, float]]:
    raw = await cache.get(retimes_key(round_id))
    return [(float(at), float(factor)) for at, factor in json.loads(raw)] if raw else []


def _retimed(turn: float, changes: list[tuple[float, float]]) -> float:
    """A turn handed out before ``changes``: each change moved what was still to come after
    its moment by its factor (the old rate over the new)."""
    for at, factor in changes:
        if turn > at:
            turn = at + (turn - at) * factor
    return turn


async def retime(cache: Cache, round_id: int, old_rate: int | None, new_rate: int | None) -> None:
    """The round's rate changed from ``old_rate`` to ``new_rate`` (admitted a second): the
    turns still to come, and the line's next one, move to the new pace from now.

    Switched off, the line is dropped: switched on again later, it starts at now rather than
    behind turns nobody waits for any more.

    Not one atomic step with the line: a student taking a turn at the very moment of the
    change may share a slot with the next one (one admission a little early), and nobody
    loses their place. Two changes at once (two registrars, two processes) take turns, so
    neither's entry in the round's rate changes is lost."""
    if not new_rate:
        await cache.delete(line_key(round_id))
        return
    if not old_rate or old_rate == new_rate:
        return
    deadline = time.monotonic() + RETIME_WAIT_SECONDS
    while True:
        async with lock(cache, retimes_key(round_id), ttl=RETIME_WAIT_SECONDS) as ours:
            if ours or time.monotonic() > deadline:  # past the wait: the holder died
                await _move_line(cache, round_id, old_rate / new_rate)
                return
        await asyncio.sleep(0.01)


async def _move_line(cache: Cache, round_id: int, factor: float) -> None:
    now = time.time()
    changes = await _retimes(cache, round_id)
    mark = await cache.get(line_key(round_id))
    if mark is not None and float(mark) > now:
        moved = now + (float(mark) - now) * factor
        await cache.set(line_key(round_id), f"{moved:.6f}".encode(), ttl=ROUND_MARK_SECONDS)
    changes.append((now, factor))
    await cache.set(retimes_key(round_id), json.dumps(changes).encode(), ttl=ROUND_MARK_SECONDS)


async def live(cache: Cache, found: Round) -> QueueLive:
    """The line as the registrar sees it: how many wait, how many were admitted, the rate and
    the wait of a student entering now. Turns still to come are ``1/rate`` apart (a change of
    rate moved them so), so the count follows from the line's next turn."""
    rate = found.queue_rate or 0
    now = time.time()
    mark = await cache.get(line_key(found.id))
    wait = max(0.0, float(mark) - ADMIT_WITHIN_SECONDS - now) if mark is not None else 0.0
    waiting = max(0, math.ceil(wait * rate) - 1) if rate else 0
    turns = int(await cache.get(turns_key(found.id)) or 0)
    return QueueLive(
        round_id=found.id,
        rate=found.queue_rate,
        waiting=waiting,
        admitted=max(0, turns - waiting),
        wait_seconds=round(wait, 1) if rate else 0.0,
    )


async def _count_entry(cache: Cache, round_id: int, principal: Principal) -> None:
    """A session, and a person, enter one round's queue a bounded number of times."""
    session = hashlib.sha256(_session_of(principal).encode()).hexdigest()[:24]
    by_session = await cache.incr(
        f"acad:sel:q:{round_id}:entries:s:{session}", ttl=ROUND_MARK_SECONDS
    )
    by_person = await cache.incr(
        f"acad:sel:q:{round_id}:entries:p:{principal.person_id}", ttl=ROUND_MARK_SECONDS
    )
    if by_session > ENTRIES_PER_SESSION or by_person > ENTRIES_PER_PERSON:
        raise TooManyRequests(
            _("排队次数过多，本轮选课不再接受你的排队请求，请联系教务处"),
            extra={"reason": "queue_entries"},
        )


def _state(
    found: Round, principal: Principal, secret: str, turn: float, entered: float, now: float
) -> QueueOut:
    rate = found.queue_rate or 1
    if turn <= now + ADMIT_WITHIN_SECONDS:
        expires = int(turn + ADMISSION_SECONDS)
        return QueueOut(
            round_id=found.id,
            admitted=True,
            ahead=0,
            wait_seconds=0,
            progress=1.0,
            token=sign(secret, found.id, principal, expires),
            expires_at=datetime.fromtimestamp(expires, UTC),
        )
    wait = turn - ADMIT_WITHIN_SECONDS - now  # until they are admitted
    return QueueOut(
        round_id=found.id,
        admitted=False,
        ahead=max(1, math.ceil(wait * rate)),
        wait_seconds=round(wait, 2),
        progress=round(min(1.0, max(0.0, (now - entered) / (wait + now - entered))), 3),
    )


def remember(response: Response, state: QueueOut, *, secure: bool) -> QueueOut:
    """The admission, also as a cookie, for the pages (and API calls) of the same browser."""
    if state.token and state.expires_at:
        response.set_cookie(
            COOKIE,
            state.token,
            expires=state.expires_at,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    return state


def token_of(header: str | None, cookie: str | None) -> str | None:
    """The admission token a request brings: the header (API clients) before the cookie (the
    pages)."""
    return (header or cookie or "").strip()[:200] or None
