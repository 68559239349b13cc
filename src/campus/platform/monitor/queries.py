"""Reads of the monitoring center: the kernel's dead letters and audit log, and the overview
(health of the parts and of registered instances, this process's traffic and errors)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.audit import AuditEntry
from campus.kernel.errors import InvalidInput, NotFound
from campus.kernel.events import DeadLetter, OutboxRow
from campus.kernel.health import check_parts
from campus.kernel.i18n import _
from campus.kernel.pagination import Page, paginate
from campus.kernel.runtime import Runtime
from campus.platform.monitor.schemas import (
    AuditEntryOut,
    AuditFilter,
    DeadLetterDetail,
    DeadLetterFilter,
    DeadLetterOut,
    Figures,
    HealthOut,
    InstanceHealth,
    MinuteFigures,
    PartHealth,
    RecentErrorOut,
    RecentErrorsOut,
    RouteFigures,
    TrafficFilter,
    TrafficOut,
)
from campus.platform.monitor.traffic import KEEP_ERRORS, Tally, Traffic, percentile
from campus.platform.registry import service as registry
from campus.platform.registry.schemas import InstanceOut
from campus.platform.users import service as users


def name_or_below(column: Any, value: str) -> ColumnElement[bool]:
    """``users`` matches ``users`` and ``users.person.created``, but not ``usersx``."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(column == value, column.like(escaped + ".%", escape="\\"))


async def list_dead_letters(
    session: AsyncSession, filters: DeadLetterFilter
) -> Page[DeadLetterOut]:
    query = select(DeadLetter).order_by(DeadLetter.failed_at.desc(), DeadLetter.id.desc())
    if filters.handler:
        query = query.where(DeadLetter.handler == filters.handler)
    if filters.event:
        query = query.where(name_or_below(DeadLetter.name, filters.event))
    if filters.effective_state == "pending":
        query = query.where(DeadLetter.replayed_at.is_(None))
    elif filters.effective_state == "replayed":
        query = query.where(DeadLetter.replayed_at.is_not(None))
    rows = await paginate(session, query, filters.page, filters.page_size)
    return rows.into(Page[DeadLetterOut], DeadLetterOut.model_validate)


async def find_dead_letter(session: AsyncSession, letter_id: int) -> DeadLetter | None:
    return await session.get(DeadLetter, letter_id)


async def get_dead_letter(
    session: AsyncSession, letter_id: int, handler_known: Callable[[str], bool]
) -> DeadLetterDetail:
    letter = await find_dead_letter(session, letter_id)
    if letter is None:
        raise NotFound(_("死信事件 {id} 不存在", id=letter_id))
    return DeadLetterDetail(
        **DeadLetterOut.model_validate(letter).model_dump(),
        event=letter.event,
        error=letter.error,
        handler_known=handler_known(letter.handler),
    )


async def dead_letter_handlers(session: AsyncSession) -> list[str]:
    """The handlers that have dead letters, for the filter's choices."""
    return list(
        await session.scalars(select(DeadLetter.handler).distinct().order_by(DeadLetter.handler))
    )


async def pending_dead_letters(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(DeadLetter).where(DeadLetter.replayed_at.is_(None))
    )
    return int(count or 0)


async def list_audit(session: AsyncSession, filters: AuditFilter) -> Page[AuditEntryOut]:
    if filters.since and filters.until and filters.until <= filters.since:
        raise InvalidInput.on("until", _("结束时间应晚于起始时间"))
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    actor_id = await _actor_id(session, filters)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if filters.action:
        query = query.where(name_or_below(AuditEntry.action, filters.action))
    if filters.target_type:
        query = query.where(AuditEntry.target_type == filters.target_type)
    if filters.target_id:
        query = query.where(AuditEntry.target_id == filters.target_id)
    if filters.request_id:
        query = query.where(AuditEntry.request_id == filters.request_id)
    if filters.since:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until:
        query = query.where(AuditEntry.at < filters.until)
    rows = await paginate(session, query, filters.page, filters.page_size)
    result = rows.into(Page[AuditEntryOut], AuditEntryOut.model_validate)
    await _name_actors(session, result.items)
    return result


async def _actor_id(session: AsyncSession, filters: AuditFilter) -> int | None:
    if not filters.actor:
        return filters.actor_id
    person = await users.find_person_by_login(session, filters.actor)
    if person is None:
        raise InvalidInput.on("actor", _("没有账号为“{login}”的人员", login=filters.actor))
    if filters.actor_id is not None and filters.actor_id != person.id:
        raise InvalidInput.on("actor", _("账号与操作人 id 不是同一人"))
    return person.id


async def _name_actors(session: AsyncSession, items: list[AuditEntryOut]) -> None:
    """Put the actors' names and numbers next to their ids (one look-up for the whole page)."""
    refs = await users.get_people(
        session, sorted({item.actor_id for item in items if item.actor_id is not None})
    )
    for item in items:
        ref = refs.get(item.actor_id) if item.actor_id is not None else None
        if ref is not None:
            item.actor_name, item.actor_login = ref.name, ref.number


# -- the overview -----------------------------------------------------------------------------


async def health(rt: Runtime, session: AsyncSession) -> HealthOut:
    """The kernel's readiness checks of this process's parts, every registered instance, and
    the event backlog."""
    states = await check_parts(rt)
    parts = [
        PartHealth.model_validate({"name": name, "backend": _backend(rt, name), "state": state})
        for name, state in states.items()
    ]
    return HealthOut(
        checked_at=clock.now(),
        ready=all(part.state == "ok" for part in parts),
        parts=parts,
        instances=[_instance_health(i) for i in await registry.all_instances(rt)],
        outbox_unsent=await unsent_events(session),
        dead_letters_pending=await pending_dead_letters(session),
    )


def _backend(rt: Runtime, part: str) -> str:
    settings = rt.settings
    url = {"database": settings.database_url, "cache": settings.redis_url}.get(
        part, settings.broker_url
    )
    return urlsplit(url).scheme.split("+")[0]


def _instance_health(instance: InstanceOut) -> InstanceHealth:
    state = "expired" if not instance.alive else "healthy" if instance.healthy else "unhealthy"
    meta = instance.metadata
    here = meta.get("host") == socket.gethostname() and meta.get("pid") == str(os.getpid())
    return InstanceHealth.model_validate(
        {**instance.model_dump(), "state": state, "this_process": here}
    )


async def unsent_events(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
    )
    return int(count or 0)


def traffic(ring: Traffic, filters: TrafficFilter) -> TrafficOut:
    window = ring.window(filters.minutes)
    routes = [
        RouteFigures(
            method=method,
            route=route,
            module=module,
            per_minute=round(tally.requests / filters.minutes, 2),
            **_figures(tally).model_dump(),
        )
        for (method, route, module), tally in ring.per_route(filters.minutes).items()
        if filters.route is None or route == filters.route
    ]
    routes.sort(key=lambda r: (-r.requests, r.route, r.method))
    return TrafficOut(
        minutes=filters.minutes,
        route=filters.route,
        since=_minute_start(window.start),
        until=_minute_start(window.stop),
        routes=routes,
        per_minute=[
            MinuteFigures(minute=_minute_start(minute), **_figures(tally).model_dump())
            for minute, tally in ring.per_minute(filters.minutes, filters.route)
        ],
    )


def _figures(tally: Tally) -> Figures:
    return Figures(
        requests=tally.requests,
        errors=tally.errors,
        error_ratio=round(tally.errors / tally.requests, 4) if tally.requests else 0.0,
        p50_ms=_ms(percentile(tally.buckets, 0.5)),
        p95_ms=_ms(percentile(tally.buckets, 0.95)),
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def _minute_start(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, UTC)


def recent_errors(ring: Traffic, limit: int) -> RecentErrorsOut:
    return RecentErrorsOut(
        items=[RecentErrorOut.model_validate(e) for e in ring.recent_errors(limit)],
        kept=KEEP_ERRORS,
    )
