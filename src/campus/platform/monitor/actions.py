"""Writes of the monitoring center: replaying a dead letter."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit
from campus.kernel.bus import AlreadyReplayed, Dispatcher
from campus.kernel.errors import Conflict, NotFound
from campus.kernel.events import DeadLetter, emit
from campus.kernel.i18n import _
from campus.kernel.manifest import EventHandler
from campus.kernel.runtime import Runtime
from campus.platform.monitor import events, queries
from campus.platform.monitor.schemas import DeadLetterDetail

TARGET_TYPE = "event_dead_letter"


async def check_replayable(
    session: AsyncSession, rt: Runtime, letter_id: int
) -> tuple[DeadLetter, EventHandler]:
    letter = await queries.find_dead_letter(session, letter_id)
    if letter is None:
        raise NotFound(_("死信事件 {id} 不存在", id=letter_id))
    if letter.replayed_at is not None:
        raise Conflict(_("该死信事件已重放成功，无需再次重放"))
    handler = rt.bus.handler(letter.handler)
    if handler is None:
        raise Conflict(
            _("本服务没有加载处理器“{handler}”，请在加载它的服务中重放", handler=letter.handler)
        )
    return letter, handler


async def do_replay(rt: Runtime, letter_id: int) -> DeadLetterDetail:
    """Hand the event to its handler once more (in the handler's own transaction).

    Success marks the letter replayed, audits it and emits ``monitor.deadletter.replayed`` in
    that same transaction. Failure is recorded on the letter and audited, then reported as a
    conflict: the letter stays pending.
    """
    async with rt.db.read() as session:
        letter, handler = await check_replayable(session, rt, letter_id)
        event = letter.to_event()
    subject = {"handler": handler.name, "event_id": event.id, "event_name": event.name}

    async def succeeded(session: AsyncSession) -> None:
        audit.record(session, "monitor.deadletter.replay", TARGET_TYPE, letter_id, after=subject)
        await emit(
            session,
            events.DEAD_LETTER_REPLAYED,
            events.DeadLetterReplayed(dead_letter_id=letter_id, **subject),
        )

    async def failed(session: AsyncSession) -> None:
        audit.record(
            session, "monitor.deadletter.replay_failed", TARGET_TYPE, letter_id, after=subject
        )

    try:
        error = await Dispatcher(rt.db).replay(
            letter_id, handler, event, on_success=succeeded, on_failure=failed
        )
    except AlreadyReplayed:
        raise Conflict(_("该死信事件已被他人重放")) from None
    if error is not None:
        raise Conflict(_("重放失败：{error}", error=_last_line(error)))
    async with rt.db.read() as session:
        return await queries.get_dead_letter(session, letter_id, handler_known(rt))


def handler_known(rt: Runtime) -> Callable[[str], bool]:
    """Whether this process has the handler of that name (and so can replay its letters)."""
    return lambda name: rt.bus.handler(name) is not None


def _last_line(error: str) -> str:
    """The exception line of a traceback: what went wrong, without the stack."""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
