"""Writes of course selection (选课): selecting, dropping, the waitlist, the lottery of a
preference round, rounds and overrides.

A seat is taken first in the section's claim set in the cache (one atomic step, no database
lock: at peak thousands of students ask for the same few sections at once), then the place is
written with its event in the request's transaction. The claim is settled when that commits and
given back if it rolls back; the sweeper (``sweep``) gives back claims whose process died in
between, and puts the set right where it strayed from the database.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events
from campus.domains.academic.offering.models import Section
from campus.domains.academic.permissions import SELECTION_MANAGE
from campus.domains.academic.programmes.queries import term_or_404
from campus.domains.academic.selection import facts, live, queries, queue, rules
from campus.domains.academic.selection.live import seats_key
from campus.domains.academic.selection.models import Enrollment, Round, SelectionRequest
from campus.domains.academic.selection.rules import Offer, Refusal
from campus.domains.academic.selection.schemas import (
    HELD,
    LotteryResult,
    OverrideIn,
    QueueRateIn,
    RoundIn,
    SelectAnswer,
)
from campus.kernel import audit, clock
from campus.kernel.cache import Cache, Claim
from campus.kernel.context import Principal
from campus.kernel.db import after_commit, after_rollback
from campus.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users

# A claim still pending after this long belongs to a request that died before its commit.
STALE_CLAIM_SECONDS = 60.0
SELECTS_PER_WINDOW, RATE_WINDOW = 30, 10.0  # requests of one person per window (seconds)
UNLIMITED = 1 << 30  # the limit an override claims under: it goes past the capacity
# The refusal counters of a round outlive it by some weeks: the registrar reviews them after.
REFUSALS_KEPT_SECONDS = 6 * 7 * 24 * 3600.0


def refused(refusal: Refusal) -> Conflict:
    """A rule's refusal as a problem: its reason code for statistics, its sentence to read."""
    return Conflict(refusal.message, extra={"reason": refusal.reason, **refusal.extra})


async def counted(cache: Cache, round_id: int, refusal: Refusal) -> Conflict:
    """A refusal in a round, counted for the registrar's statistics by its reason: a refusal
    writes nothing to the database, so the count lives in the cache."""
    await cache.incr(queries.refusal_key(round_id, refusal.reason), ttl=REFUSALS_KEPT_SECONDS)
    return refused(refusal)


# ---------------------------------------------------------------- rounds


async def check_create_round(session: AsyncSession, body: RoundIn) -> Round:
    await term_or_404(session, body.term_id, field="term_id")
    if body.major_ids:
        units = await users.get_org_units(session, body.major_ids)
        missing = [m for m in body.major_ids if m not in units]
        if missing:
            raise InvalidInput.on("major_ids", _("专业 {ids} 不存在", ids=missing))
    # A time typed without a zone is campus time.
    when = {"opens_at": clock.aware(body.opens_at), "closes_at": clock.aware(body.closes_at)}
    found = Round(**{**body.model_dump(), **when}, created_at=clock.now())
    session.add(found)
    await session.flush()
    audit.record(
        session,
        "academic.selection.round.create",
        "acad_sel_round",
        found.id,
        after=body.model_dump(mode="json"),
    )
    return found


async def check_queue_rate(
    session: AsyncSession, cache: Cache, round_id: int, body: QueueRateIn
) -> Round:
    """Changes the round's queue rate, also while it is open: the students already waiting
    are admitted at the new rate from the change on (``queue.retime``, once committed)."""
    found = await queries.round_or_404(session, round_id)
    if found.closes_at <= clock.now():
        raise Conflict.on("queue_rate", _("该轮次已结束，不能再修改排队速率"))
    before, after = found.queue_rate, body.queue_rate
    found.queue_rate = after
    await session.flush()
    after_commit(session, lambda: queue.retime(cache, found.id, before, after))
    change = {"before": before, "after": after}
    await emit(
        session,
        events.QUEUE_RATE_CHANGED,
        events.QueueRateChanged(round_id=found.id, term_id=found.term_id, **change),
    )
    audit.record(
        session,
        "academic.selection.round.queue_rate",
        "acad_sel_round",
        found.id,
        before={"queue_rate": before},
        after={"queue_rate": after},
    )
    return found


# ---------------------------------------------------------------- the queue at the door


async def queued_round(session: AsyncSession, principal: Principal, round_id: int) -> Round:
    """The round whose queue the student asks to enter: open now, with a queue, for them."""
    found = await queries.round_or_404(session, round_id)
    student, _class = await _student(session, principal.person_id)
    now = clock.now()
    if not found.opens_at <= now < found.closes_at:
        raise refused(Refusal("round_closed", str(_("当前不在选课时间内"))))
    if not rules.in_population(queries.window_of(found), student):
        raise refused(Refusal("outside_round", str(_("本轮选课不面向你的年级或专业"))))
    if not found.queue_rate:
        raise refused(Refusal("no_queue", str(_("本轮选课无需排队，可直接选课"))))
    return found


# ---------------------------------------------------------------- selecting


async def check_select(
    session: AsyncSession,
    cache: Cache,
    principal: Principal,
    section_id: int,
    key: str,
    door: queue.Door | None = None,
) -> SelectAnswer:
    """One student's request for a section, under the idempotency key its client made (and,
    when the round has a queue, the admission token its client was given at the door)."""
    person_id = principal.person_id
    await _within_rate(cache, person_id)
    student, class_id = await _student(session, person_id)
    now = clock.now()
    found = await queries.open_round(session, student, now)
    if found is None:
        raise refused(Refusal("round_closed", str(_("当前不在选课时间内"))))
    queue.admit(door, found, principal, now.timestamp())
    replay = await _replayed(session, person_id, key, section_id)
    if replay is not None:
        return replay
    section = await session.get(Section, section_id)
    if section is None:
        raise NotFound(_("教学班不存在"))
    offer = await facts.offer_of(session, section)
    if offer.gender:
        student = await facts.with_gender(session, student)
    mine = await queries.my_places(session, person_id, found.term_id)
    held = await _holdings(session, mine, class_id, found)
    record = await facts.record_of(session, student, found)
    refusal = rules.refusal(queries.window_of(found), student, offer, held, now, record)
    if refusal is not None:
        raise await counted(cache, found.id, refusal)
    if found.kind == "lottery":
        status = "preferred"
    else:
        status = await _take_seat(session, cache, offer, person_id, found)
    earlier = mine.get(section_id)
    place_id = await _write_place(
        session, offer, person_id, found.id, status, now, earlier.id if earlier else None
    )
    answer = SelectAnswer(
        section_id=section_id,
        status=status,
        waitlist_position=(
            await queries.position_in(session, section_id, now, place_id)
            if status == "waitlisted"
            else None
        ),
    )
    # The request's record, in the same transaction: a second request under the same key that
    # got this far at the same moment finds it written and is told to wait (nothing of it stays).
    recorded = await session.scalar(
        _insert_ignoring(session, SelectionRequest)
        .values(
            person_id=person_id,
            key=key,
            section_id=section_id,
            answer=answer.model_dump(mode="json"),
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["person_id", "key"])
        .returning(SelectionRequest.id)
    )
    if recorded is None:
        raise refused(in_flight())
    return answer


async def _holdings(
    session: AsyncSession, mine: dict[int, queries.MyPlace], class_id: int | None, found: Round
) -> list[rules.Holding]:
    """The sections on the student's timetable in the round's term: those they hold in
    selection, and their class's own (kept per process for the round)."""
    places = [p for p in mine.values() if p.status in HELD]
    slots = await facts.slots_of(session, [(p.section_id, p.updated_at) for p in places])
    held = [
        rules.Holding(
            p.section_id,
            p.course_id,
            p.name,
            p.credits,
            rules.Meeting(
                rules.weeks_of(p.week_from, p.week_to, p.week_parity), slots[p.section_id]
            ),
        )
        for p in places
    ]
    if class_id is not None:
        own = {p.section_id for p in places}
        assigned = await facts.class_sections(session, class_id, found)
        held += [h for h in assigned if h.section_id not in own]
    return held


def _insert_ignoring(
    session: AsyncSession, table: type[Enrollment] | type[SelectionRequest]
) -> Any:
    """An INSERT that can skip a row clashing with a unique key (ON CONFLICT DO NOTHING), in
    the session's dialect."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(table)


async def _write_place(
    session: AsyncSession,
    offer: Offer,
    person_id: int,
    round_id: int,
    status: str,
    now: datetime,
    place_id: int | None,
) -> int:
    """The student's own selection written in Core statements: their row of the section
    updated (they had one: dropped, lost) or inserted, and its event. The row's id."""
    values = {
        "round_id": round_id,
        "status": status,
        "source": "self",
        "credits": offer.credits,
        "queued_at": now,
        "updated_at": now,
    }
    if place_id is not None:
        await session.execute(update(Enrollment).where(Enrollment.id == place_id).values(**values))
    else:
        place_id = await session.scalar(
            _insert_ignoring(session, Enrollment)
            .values(
                term_id=offer.term_id,
                section_id=offer.section_id,
                course_id=offer.course_id,
                person_id=person_id,
                **values,
            )
            .on_conflict_do_nothing(index_elements=["section_id", "person_id"])
            .returning(Enrollment.id)
        )
        if place_id is None:
            # The same student's other request for the section wrote the row first.
            raise refused(in_flight())
    await emit(
        session,
        events.PLACE_CHANGED,
        events.PlaceChanged(
            person_id=person_id,
            section_id=offer.section_id,
            course_id=offer.course_id,
            term_id=offer.term_id,
            round_id=round_id,
            status=status,
            source="self",
            section_name=offer.name,
        ),
    )
    return place_id


async def _within_rate(cache: Cache, person_id: int) -> None:
    """A person selects a few sections a minute; a script firing requests as fast as it can
    is slowed down, and nobody else with it (no captcha for people who click)."""
    decision = await cache.hit(f"acad:sel:rate:{person_id}", SELECTS_PER_WINDOW, RATE_WINDOW)
    if not decision.allowed:
        wait = int(decision.retry_after) + 1
        raise TooManyRequests(
            _("选课请求过于频繁，请 {seconds} 秒后再试", seconds=wait),
            extra={"reason": "rate", "retry_after": wait},
        )


async def _replayed(
    session: AsyncSession, person_id: int, key: str, section_id: int
) -> SelectAnswer | None:
    earlier = await session.scalar(
        select(SelectionRequest).where(
            SelectionRequest.person_id == person_id, SelectionRequest.key == key
        )
    )
    if earlier is None:
        return None
    if earlier.section_id != section_id:
        raise InvalidInput.on("Idempotency-Key", _("这个请求编号已用于另一个选课请求"))
    return SelectAnswer.model_validate({**earlier.answer, "replayed": True})


async def _student(session: AsyncSession, person_id: int) -> tuple[rules.Student, int | None]:
    found = await queries.student_of(session, person_id)
    if found is None:
        raise Forbidden(_("只有有学籍的学生可以选课"))
    return found


async def _take_seat(
    session: AsyncSession, cache: Cache, offer: Offer, person_id: int, found: Round
) -> str:
    """A seat from the section's claim set ("selected"), else a place in its waitlist."""
    member = str(person_id)
    claim = await _claim(session, cache, offer.section_id, member, offer.capacity)
    if claim is Claim.TAKEN:
        if await queries.seats_taken(session, offer.section_id) < offer.capacity:
            _settle_or_give_back(session, cache, offer.section_id, member)
            return "selected"
        # The set lacked a seat the database holds: it was lost (the cache restarted) and
        # warmed again while that seat's request was still being written. The database is
        # the record: no seat, and the set is put right at once.
        await cache.release(seats_key(offer.section_id), member)
        await _warm(session, cache, offer.section_id)
        claim = Claim.FULL
    if claim is Claim.HELD:
        # The seat is theirs in the cache but not (yet) in the database: a request of theirs
        # is still being written, or died; the sweeper frees the latter.
        raise await counted(cache, found.id, in_flight())
    if not found.waitlist:
        raise await counted(cache, found.id, Refusal("full", str(_("该教学班已满"))))
    return "waitlisted"


def in_flight() -> Refusal:
    return Refusal("in_flight", str(_("你上一次的选课请求仍在处理中，请稍后刷新查看")))


async def _claim(
    session: AsyncSession, cache: Cache, section_id: int, member: str, limit: int
) -> Claim:
    key = seats_key(section_id)
    claim = await cache.claim(key, member, limit)
    if claim is Claim.COLD:
        await _warm(session, cache, section_id)
        claim = await cache.claim(key, member, limit)
    return claim


async def _warm(session: AsyncSession, cache: Cache, section_id: int, *extra: str) -> None:
    """Loads the section's claim set from the database (plus ``extra`` members)."""
    members = [str(p) for p in await queries.selected_ids(session, section_id)]
    await cache.warm(seats_key(section_id), [*members, *extra])


def _settle_or_give_back(session: AsyncSession, cache: Cache, section_id: int, member: str) -> None:
    key = seats_key(section_id)

    async def settle() -> None:
        await cache.settle(key, member)
        await live.announce(cache, section_id)

    after_commit(session, settle)
    after_rollback(session, _releasing(cache, section_id, member, announce=False))


def _releasing(
    cache: Cache, section_id: int, member: str, *, announce: bool = True
) -> Callable[[], Awaitable[None]]:
    async def release() -> None:
        await cache.release(seats_key(section_id), member)
        if announce:
            await live.announce(cache, section_id)

    return release


async def _place(
    session: AsyncSession,
    offer: Offer,
    person_id: int,
    round_id: int | None,
    status: str,
    source: str,
    now: datetime,
) -> Enrollment:
    """Writes the student's place in the section (reusing their row) and its event."""
    place = await queries.place_of(session, person_id, offer.section_id)
    if place is None:
        place = Enrollment(
            term_id=offer.term_id,
            section_id=offer.section_id,
            course_id=offer.course_id,
            person_id=person_id,
        )
    place.round_id, place.status, place.source = round_id, status, source
    place.credits, place.queued_at, place.updated_at = offer.credits, now, now
    try:
        async with session.begin_nested():
            session.add(place)
    except IntegrityError:
        # A new row, and the same student's other request for the section wrote one first.
        raise refused(in_flight()) from None
    await _emit_place(session, place, offer.name)
    return place


async def _emit_place(session: AsyncSession, place: Enrollment, section_name: str) -> None:
    await emit(
        session,
        events.PLACE_CHANGED,
        events.PlaceChanged(
            person_id=place.person_id,
            section_id=place.section_id,
            course_id=place.course_id,
            term_id=place.term_id,
            round_id=place.round_id,
            status=place.status,
            source=place.source,
            section_name=section_name,
        ),
    )


# ---------------------------------------------------------------- dropping


async def check_drop(
    session: AsyncSession,
    cache: Cache,
    principal: Principal,
    section_id: int,
    door: queue.Door | None = None,
) -> None:
    """退选: gives up a seat (the waitlist's head takes it), a waitlist place or a wish."""
    person_id = principal.person_id
    place = await queries.place_of(session, person_id, section_id, lock=True)
    if place is None or place.status not in HELD:
        raise NotFound(_("你没有选这个教学班"))
    student, _class = await _student(session, person_id)
    now = clock.now()
    found = await queries.open_round(session, student, now)
    if found is None or found.term_id != place.term_id:
        raise refused(Refusal("round_closed", str(_("当前不在选课时间内，不能退选"))))
    queue.admit(door, found, principal, now.timestamp())
    if place.status == "selected" and not found.drop_allowed:
        raise refused(Refusal("no_drop", str(_("本轮选课不允许退选"))))
    await _leave(session, cache, place, "self")


async def _leave(session: AsyncSession, cache: Cache, place: Enrollment, source: str) -> None:
    section = await session.get(Section, place.section_id)
    assert section is not None
    held_seat = place.status == "selected"
    if held_seat:
        # Loaded before the place changes, so that the set has the seat to pass on.
        await _warm(session, cache, place.section_id, str(place.person_id))
    place.status, place.source, place.updated_at = "dropped", source, clock.now()
    await session.flush()
    await _emit_place(session, place, section.name)
    if held_seat:
        await _pass_seat_on(session, cache, section, str(place.person_id))


async def _pass_seat_on(session: AsyncSession, cache: Cache, section: Section, giver: str) -> None:
    """The waitlist's head takes the seat just given up, before anyone else can; with nobody
    waiting, the seat is freed once the drop has committed."""
    key = seats_key(section.id)
    head = await queries.waitlist_head(session, section.id)
    taker = str(head.person_id) if head is not None else ""
    if head is None or not await cache.handover(key, giver, taker):
        after_commit(session, _releasing(cache, section.id, giver))
        return
    after_commit(session, lambda: cache.settle(key, taker))
    after_rollback(session, _handing_back(cache, key, taker, giver))
    head.status, head.source, head.updated_at = "selected", "promoted", clock.now()
    await session.flush()
    await _emit_place(session, head, section.name)


def _handing_back(cache: Cache, key: str, taker: str, giver: str) -> Callable[[], Awaitable[None]]:
    async def hand_back() -> None:
        await cache.handover(key, taker, giver)

    return hand_back


# ---------------------------------------------------------------- overrides


async def check_override(
    session: AsyncSession,
    cache: Cache,
    principal: Principal,
    section_id: int,
    body: OverrideIn,
    add: bool,
) -> None:
    """A place given past the rules and the capacity, or taken away, by the registrar (or
    whoever manages selection for the section's college); audited with its reason."""
    section = await session.get(Section, section_id)
    if section is None:
        raise NotFound(_("教学班不存在"))
    tree = await users.org_directory(session)
    if not access.allows(principal, SELECTION_MANAGE, tree.path(section.org_unit_id)):
        raise Forbidden(_("没有管理该教学班选课的权限"))
    if await queries.student_of(session, body.person_id) is None:
        raise InvalidInput.on("person_id", _("该学生不存在或没有学籍"))
    place = await queries.place_of(session, body.person_id, section_id, lock=True)
    if add:
        if place is not None and place.status == "selected":
            raise Conflict.on("person_id", _("该学生已在这个教学班"))
        offer = await queries.offer_of(session, section)
        claim = await _claim(session, cache, section_id, str(body.person_id), UNLIMITED)
        if claim is Claim.TAKEN:
            _settle_or_give_back(session, cache, section_id, str(body.person_id))
        await _place(session, offer, body.person_id, None, "selected", "override", clock.now())
    else:
        if place is None or place.status not in HELD:
            raise Conflict.on("person_id", _("该学生不在这个教学班"))
        await _leave(session, cache, place, "override")
    audit.record(
        session,
        f"academic.selection.override.{'add' if add else 'remove'}",
        "acad_section",
        section_id,
        after={"person_id": body.person_id, "reason": body.reason},
    )


# ---------------------------------------------------------------- the lottery of a preference round


async def check_draw(session: AsyncSession, cache: Cache, round_id: int) -> LotteryResult:
    """抽签: settles a closed preference round. Per section, the free seats go to the wishes in
    order of priority (majors of the college offering it first, then seniors), drawn at random
    within a tier by a generator seeded with the round and section, so it can be replayed."""
    found = await queries.round_or_404(session, round_id)
    if found.kind != "lottery":
        raise Conflict(_("只有预选轮次需要抽签"))
    if found.settled_at is not None:
        raise Conflict(_("该轮次已经抽过签"))
    if clock.now() < found.closes_at:
        raise Conflict(_("预选结束后才能抽签"))
    wishes = list(
        await session.scalars(
            select(Enrollment)
            .where(Enrollment.round_id == round_id, Enrollment.status == "preferred")
            .order_by(Enrollment.section_id, Enrollment.id)
        )
    )
    by_section: dict[int, list[Enrollment]] = {}
    for wish in wishes:
        by_section.setdefault(wish.section_id, []).append(wish)
    drawn = lost = 0
    for section_id, wishes_of_section in by_section.items():
        won, missed = await _draw_section(session, found.id, section_id, wishes_of_section)
        drawn, lost = drawn + won, lost + missed
        after_commit(session, _cooling(cache, seats_key(section_id)))
    found.settled_at = clock.now()
    result = LotteryResult(round_id=round_id, sections=len(by_section), drawn=drawn, lost=lost)
    await emit(
        session,
        events.ROUND_SETTLED,
        events.RoundSettled(term_id=found.term_id, **result.model_dump()),
    )
    audit.record(
        session,
        "academic.selection.draw",
        "acad_sel_round",
        round_id,
        after=result.model_dump(),
    )
    return result


async def _draw_section(
    session: AsyncSession, round_id: int, section_id: int, queue: list[Enrollment]
) -> tuple[int, int]:
    section = await session.get(Section, section_id)
    assert section is not None
    free = max(0, section.capacity - len(await queries.selected_ids(session, section_id)))
    people = await queries.students_of(session, [w.person_id for w in queue])
    tree = await users.org_directory(session)
    own = {p.person_id for p in people.values() if tree.within(p.major_id, section.org_unit_id)}
    lots = random.Random(f"{round_id}:{section_id}")  # noqa: S311 (a fair draw, not a secret)
    ranked = sorted(
        queue,
        key=lambda w: (
            0 if w.person_id in own else 1,
            people[w.person_id].grade,  # an earlier cohort is the senior one
            lots.random(),
        ),
    )
    for n, wish in enumerate(ranked):
        wish.status, wish.source = ("selected", "lottery") if n < free else ("lost", "lottery")
        wish.updated_at = clock.now()
        await _emit_place(session, wish, section.name)
    won = min(free, len(ranked))
    return won, len(ranked) - won


def _cooling(cache: Cache, key: str) -> Callable[[], Awaitable[None]]:
    async def cool() -> None:
        await cache.cool(key)

    return cool


# ---------------------------------------------------------------- the sweeper


async def sweep(session: AsyncSession, cache: Cache, section_ids: list[int]) -> int:
    """Puts the sections' claim sets right against the database, which is the record: gives
    back claims pending longer than a request lives whose write never committed, and seats
    still held for people the database no longer seats (their drop committed, the give-back
    did not run); adds those it seats and the set lacks. The number of seats given back.

    The cache is read before the database, so a claim that commits in between is seen as
    pending (and spared) rather than as a stray."""
    stale, pending, claimed = {}, {}, {}
    for section_id in section_ids:
        key = seats_key(section_id)
        stale[section_id] = set(await cache.unsettled(key, STALE_CLAIM_SECONDS))
        pending[section_id] = set(await cache.unsettled(key, 0))
        claimed[section_id] = await cache.claimed(key)
    holders = await queries.holders(session, section_ids)
    given_back = 0
    for section_id in section_ids:
        key, seated = seats_key(section_id), {str(p) for p in holders.get(section_id, ())}
        strays = (claimed[section_id] - seated - pending[section_id]) | (stale[section_id] - seated)
        for member in strays:
            given_back += await cache.release(key, member)
        for member in stale[section_id] & seated:
            await cache.settle(key, member)
        if claimed[section_id] and seated - claimed[section_id]:
            await cache.warm(key, seated - claimed[section_id])
    return given_back
