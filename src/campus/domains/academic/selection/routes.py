"""JSON API of course selection (选课): /api/v1/academic/selection/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Header, Query, Response
from fastapi.responses import StreamingResponse

from campus.domains.academic.permissions import SELECTION_MANAGE
from campus.domains.academic.programmes.queries import current_term
from campus.domains.academic.selection import actions, live, queries, queue
from campus.domains.academic.selection.schemas import (
    LotteryResult,
    OfferOut,
    OverrideIn,
    PlaceOut,
    QueueLive,
    QueueOut,
    QueueRateIn,
    RoundIn,
    RoundOut,
    SelectAnswer,
)
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import Conflict, NotFound
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic/selection", tags=["academic-selection"])

Me = Annotated[Principal, signed_in()]
Manager = Annotated[Principal, require(SELECTION_MANAGE)]
# Made by the client once per intended selection and sent again on every retry of it.
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=64)]
# Given at the queue's door when the round has one: the header (API clients) or the cookie the
# queue set (the pages).
AdmissionHeader = Annotated[str | None, Header(alias=queue.HEADER, max_length=200)]
AdmissionCookie = Annotated[str | None, Cookie(alias=queue.COOKIE, max_length=200)]


def door(rt: Runtime, header: str | None, cookie: str | None) -> queue.Door:
    return queue.Door(queue.token_of(header, cookie), rt.settings.secret_key)


def admitted(response: Response, rt: Runtime, state: QueueOut) -> QueueOut:
    return queue.remember(response, state, secure=rt.settings.environment == "production")


async def _term_id(session: ReadSessionDep, term_id: int | None) -> int:
    if term_id is not None:
        return term_id
    term = await current_term(session)
    if term is None:
        raise NotFound(_("还没有学期"))
    return term.id


@router.get("/rounds", response_model=list[RoundOut], summary="选课轮次")
async def list_rounds(
    session: ReadSessionDep, _me: Me, term_id: int | None = None
) -> list[RoundOut]:
    return [RoundOut.model_validate(r) for r in await queries.rounds_of(session, term_id)]


@router.post("/rounds", response_model=RoundOut, status_code=201, summary="新建选课轮次")
async def create_round(body: RoundIn, session: SessionDep, _manager: Manager) -> RoundOut:
    return RoundOut.model_validate(await actions.check_create_round(session, body))


@router.post("/rounds/{round_id}/draw", response_model=LotteryResult, summary="预选抽签")
async def draw(
    round_id: int, session: SessionDep, rt: RuntimeDep, _manager: Manager
) -> LotteryResult:
    return await actions.check_draw(session, rt.cache, round_id)


@router.put("/rounds/{round_id}/queue-rate", response_model=RoundOut, summary="修改排队准入速率")
async def set_queue_rate(
    round_id: int, body: QueueRateIn, session: SessionDep, rt: RuntimeDep, _manager: Manager
) -> RoundOut:
    """Also while the round is open: those already waiting are admitted at the new rate."""
    found = await actions.check_queue_rate(session, rt.cache, round_id, body)
    return RoundOut.model_validate(found)


@router.get("/rounds/{round_id}/queue/live", response_model=QueueLive, summary="排队实况")
async def queue_live(
    round_id: int, session: ReadSessionDep, rt: RuntimeDep, _manager: Manager
) -> QueueLive:
    return await queue.live(rt.cache, await queries.round_or_404(session, round_id))


@router.get("/offers", response_model=list[OfferOut], summary="可选教学班（含余量）")
async def offers(
    session: ReadSessionDep,
    _me: Me,
    term_id: int | None = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
    college_id: int | None = None,
) -> list[OfferOut]:
    term = await _term_id(session, term_id)
    return await queries.offers(session, term, q=(q or "").strip() or None, college_id=college_id)


@router.post(
    "/sections/{section_id}/select", response_model=SelectAnswer, summary="选课（须带请求编号）"
)
async def select(
    section_id: int,
    key: IdempotencyKey,
    session: SessionDep,
    rt: RuntimeDep,
    me: Me,
    token: AdmissionHeader = None,
    cookie: AdmissionCookie = None,
) -> SelectAnswer:
    return await actions.check_select(
        session, rt.cache, me, section_id, key, door(rt, token, cookie)
    )


@router.delete("/sections/{section_id}", status_code=204, summary="退选")
async def drop(
    section_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Me,
    token: AdmissionHeader = None,
    cookie: AdmissionCookie = None,
) -> Response:
    await actions.check_drop(session, rt.cache, me, section_id, door(rt, token, cookie))
    return Response(status_code=204)


@router.post("/rounds/{round_id}/queue", response_model=QueueOut, summary="排队进入选课")
async def enter_queue(
    round_id: int, response: Response, session: ReadSessionDep, rt: RuntimeDep, me: Me
) -> QueueOut:
    """Admitted at once under the round's rate, else a place in its queue (the same one when
    entered again); the admission token comes in the answer and as a cookie."""
    found = await actions.queued_round(session, me, round_id)
    state = await queue.enter(rt.cache, found, me, rt.settings.secret_key)
    return admitted(response, rt, state)


@router.get("/rounds/{round_id}/queue", response_model=QueueOut, summary="我的排队进度")
async def queue_state(
    round_id: int, response: Response, session: ReadSessionDep, rt: RuntimeDep, me: Me
) -> QueueOut:
    found = await actions.queued_round(session, me, round_id)
    state = await queue.state(rt.cache, found, me, rt.settings.secret_key)
    if state is None:
        raise Conflict(_("你还没有排队，或准入已过期，请重新排队"), extra={"reason": "not_queued"})
    return admitted(response, rt, state)


@router.get(
    "/seats/live",
    summary="余量实时推送（SSE）：每秒一帧，变化了的教学班已选人数",
    response_class=StreamingResponse,
)
async def seats_live(rt: RuntimeDep, _me: Me) -> StreamingResponse:
    return StreamingResponse(
        live.frames(rt.cache),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/me", response_model=list[PlaceOut], summary="我的选课")
async def mine(session: ReadSessionDep, me: Me, term_id: int | None = None) -> list[PlaceOut]:
    return await queries.places_of(session, me.person_id, await _term_id(session, term_id))


@router.post("/sections/{section_id}/overrides", status_code=204, summary="为学生加课（越过规则）")
async def override_add(
    section_id: int, body: OverrideIn, session: SessionDep, rt: RuntimeDep, me: Manager
) -> Response:
    await actions.check_override(session, rt.cache, me, section_id, body, add=True)
    return Response(status_code=204)


@router.post(
    "/sections/{section_id}/overrides/remove", status_code=204, summary="为学生退课（注明理由）"
)
async def override_remove(
    section_id: int, body: OverrideIn, session: SessionDep, rt: RuntimeDep, me: Manager
) -> Response:
    await actions.check_override(session, rt.cache, me, section_id, body, add=False)
    return Response(status_code=204)
