"""Writes of teaching evaluation (评教): the term's form, closing its window early, and a
student's anonymous ballot.

A ballot and the student's completion are written in one transaction: the completion (person
and section, unique) refuses a second ballot, and the ballot carries no person, no time and a
random key, so nothing written ties the two together."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events
from campus.domains.academic import service as academic
from campus.domains.academic.evaluation import queries
from campus.domains.academic.evaluation.models import (
    EvalBallot,
    EvalCompletion,
    EvalForm,
    EvalItem,
    EvalScore,
)
from campus.domains.academic.evaluation.schemas import (
    SCORES,
    BallotIn,
    FormIn,
    Submitted,
)
from campus.domains.academic.offering.models import Section
from campus.domains.academic.programmes.queries import term_or_404
from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _

NOTIFY_REQUESTED = "messaging.notify_requested"  # the messaging center's, read by name
ANCHOR_LENGTH = 10

# ---------------------------------------------------------------- forms


def _checked(body: FormIn) -> tuple[FormIn, list[tuple[str, str]]]:
    """The form's own rules, each refusal naming its field: a window that ends after it
    starts, five labels for the scores, at least one item and no item twice."""
    opens_at, closes_at = clock.aware(body.opens_at), clock.aware(body.closes_at)
    if closes_at <= opens_at:
        raise InvalidInput.on("closes_at", _("评教结束时间应晚于开始时间"))
    anchors = [a.strip() for a in body.anchors]
    if len(anchors) != len(SCORES) or not all(anchors):
        raise InvalidInput.on("anchors", _("应为 1 到 5 分各写一个说明，共 5 个"))
    if any(len(a) > ANCHOR_LENGTH for a in anchors):
        raise InvalidInput.on("anchors", _("每个分值说明最多 {n} 个字", n=ANCHOR_LENGTH))
    if not body.items:
        raise InvalidInput.on("items", _("问卷至少需要一个评价指标"))
    seen: dict[str, int] = {}
    for number, item in enumerate(body.items, start=1):
        key = "".join(item.text.split())
        if key in seen:
            raise InvalidInput.on(
                "items",
                _("第 {n} 项与第 {m} 项重复：{text}", n=number, m=seen[key], text=item.text),
            )
        seen[key] = number
    checked = body.model_copy(
        update={"opens_at": opens_at, "closes_at": closes_at, "anchors": anchors}
    )
    return checked, [(i.dimension, i.text) for i in body.items]


async def check_save_form(
    session: AsyncSession, body: FormIn, form_id: int | None = None
) -> EvalForm:
    """Publish a term's form (``form_id`` None) or change it. A form with answers is not
    changed: the answers were given to its items."""
    found = await queries.form_or_404(session, form_id) if form_id is not None else None
    if found is not None and await queries.answers_of(session, found.id):
        raise Conflict(_("问卷已有学生作答，不能再修改（可提前结束评教）"))
    term = await term_or_404(session, body.term_id, field="term_id")
    other = await queries.form_of_term(session, term.id)
    if other is not None and (found is None or other.id != found.id):
        raise Conflict.on(
            "term_id", _("{term}已有评教问卷“{name}”", term=term.name, name=other.name)
        )
    checked, items = _checked(body)
    return await do_save_form(session, found, checked, items)


async def do_save_form(
    session: AsyncSession, found: EvalForm | None, body: FormIn, items: list[tuple[str, str]]
) -> EvalForm:
    now = clock.now()
    values = body.model_dump(exclude={"items"})
    before = None
    if found is None:
        found = EvalForm(**values, created_at=now, updated_at=now)
        session.add(found)
        await session.flush()
    else:
        before = {"name": found.name, "opens_at": found.opens_at.isoformat()}
        for key, value in values.items():
            setattr(found, key, value)
        found.updated_at = now
        await session.execute(delete(EvalItem).where(EvalItem.form_id == found.id))
    session.add_all(
        EvalItem(form_id=found.id, number=n, dimension=dimension, text=text)
        for n, (dimension, text) in enumerate(items, start=1)
    )
    await session.flush()
    audit.record(
        session,
        "academic.evaluation.form.save",
        "acad_eval_form",
        found.id,
        before=before,
        after=body.model_dump(mode="json"),
    )
    await emit(
        session,
        events.EVALUATION_FORM_SAVED,
        events.EvaluationFormSaved(
            form_id=found.id,
            term_id=found.term_id,
            name=found.name,
            opens_at=found.opens_at,
            closes_at=found.closes_at,
            items=len(items),
            created=before is None,
        ),
    )
    if before is None:
        await _tell_students(session, found)
    return found


async def _tell_students(session: AsyncSession, form: EvalForm) -> None:
    """Ask the messaging center to tell every student when the evaluation is open (once per
    form: the request's source names it)."""
    await emit(
        session,
        NOTIFY_REQUESTED,
        {
            "category": "academic",
            "title": f"评教通知：{form.name}",
            "body": (
                f"{clock.fmt(form.opens_at)} 至 {clock.fmt(form.closes_at)} 开展评教，"
                "请对本学期所修的每个教学班进行评价。评价匿名提交，教师看不到是谁评的。"
            ),
            "link": "/academic/evaluation",
            "audience": {"everyone": True, "person_types": ["student"]},
            "expires_at": form.closes_at.isoformat(),
            "source": f"academic:evaluation:{form.id}",
        },
    )


async def check_close(session: AsyncSession, form_id: int) -> EvalForm:
    """End the window now (提前结束): the results become readable."""
    found = await queries.form_or_404(session, form_id)
    state = queries.state_of(found, clock.now())
    if state != "open":
        raise Conflict(_("评教未在进行中，无需结束"))
    found.closes_at = clock.now()
    found.updated_at = found.closes_at
    audit.record(
        session,
        "academic.evaluation.form.close",
        "acad_eval_form",
        found.id,
        after={"closes_at": found.closes_at.isoformat()},
    )
    await emit(
        session,
        events.EVALUATION_CLOSED,
        events.EvaluationClosed(form_id=found.id, term_id=found.term_id, closes_at=found.closes_at),
    )
    return found


# One reminder an hour per person and form: a double click or an impatient secretary does not
# flood the students' inboxes.
REMIND_INTERVAL = timedelta(hours=1)
REMIND_CHUNK = 2_000  # people per notification (the messaging center takes up to 5,000)


async def check_remind(session: AsyncSession, principal: Principal, form_id: int) -> int:
    """Remind the students in the manager's scope who have sections left to evaluate; returns
    how many were reminded."""
    found = await queries.form_or_404(session, form_id)
    now = clock.now()
    if queries.state_of(found, now) != "open":
        raise Conflict(_("评教未在进行中，不能发送提醒"))
    last = await queries.last_reminder(
        session, found.id, principal.person_id, now - REMIND_INTERVAL
    )
    if last is not None:
        raise Conflict(_("您已在 {time} 提醒过，一小时内不再重复提醒", time=clock.fmt(last)))
    people = await queries.unfinished_students(session, principal, found)
    if not people:
        raise Conflict(_("范围内的学生都已完成评教，无需提醒"))
    batch = secrets.token_hex(4)
    for n, start in enumerate(range(0, len(people), REMIND_CHUNK)):
        await emit(
            session,
            NOTIFY_REQUESTED,
            _reminder(found, people[start : start + REMIND_CHUNK], f"{batch}:{n}"),
        )
    audit.record(
        session, queries.REMIND_ACTION, "acad_eval_form", found.id, after={"students": len(people)}
    )
    return len(people)


def _reminder(form: EvalForm, people: list[int], key: str) -> dict[str, object]:
    return {
        "category": "academic",
        "priority": "important",
        "title": f"评教提醒：{form.name}",
        "body": (
            f"您还有教学班没有评价，评教将于 {clock.fmt(form.closes_at)} 结束，请尽快完成。"
            "评价匿名提交，教师看不到是谁评的。"
        ),
        "link": "/academic/evaluation",
        "audience": {"person_ids": people},
        "expires_at": form.closes_at.isoformat(),
        "source": f"academic:evaluation:{form.id}:remind:{key}",
    }


# ---------------------------------------------------------------- ballots


async def check_submit(
    session: AsyncSession, principal: Principal, section_id: int, body: BallotIn
) -> Submitted:
    section = await session.get(Section, section_id)
    if section is None:
        raise NotFound(_("教学班不存在"))
    form = await queries.form_of_term(session, section.term_id)
    if form is None:
        raise NotFound(_("该学期没有评教"))
    now = clock.now()
    state = queries.state_of(form, now)
    if state != "open":
        raise Conflict(
            _(
                "不在评教时间内（{a} 至 {b}）",
                a=clock.fmt(form.opens_at),
                b=clock.fmt(form.closes_at),
            ),
            extra={"reason": "window"},
        )
    taken = await academic.sections_taken(session, principal.person_id, section.term_id)
    if section_id not in taken:
        raise Forbidden(_("你没有修读“{name}”，不能评价该教学班", name=section.name))
    if section_id in await queries.completed_sections(session, principal.person_id, form.id):
        raise Conflict(_("你已评价过“{name}”，每个教学班只能评价一次", name=section.name))
    items = await queries.items_of(session, form.id)
    scores = _scores(body, [i.id for i in items])
    comment = body.comment if form.comment_enabled else ""
    if body.comment and not form.comment_enabled:
        raise InvalidInput.on("comment", _("本问卷不收集文字意见"))
    await do_submit(session, principal.person_id, form, section, scores, comment)
    return Submitted(
        section_id=section_id,
        done=len(await queries.completed_sections(session, principal.person_id, form.id)),
        total=len(taken),
    )


def _scores(body: BallotIn, item_ids: list[int]) -> dict[int, int]:
    unknown = sorted(set(body.scores) - set(item_ids))
    if unknown:
        raise InvalidInput.on("scores", _("问卷中没有这些指标：{ids}", ids=unknown))
    missing = [n for n, item_id in enumerate(item_ids, start=1) if item_id not in body.scores]
    if missing:
        raise InvalidInput.on("scores", _("请为第 {n} 项评分", n="、".join(map(str, missing))))
    bad = [s for s in body.scores.values() if s not in SCORES]
    if bad:
        raise InvalidInput.on("scores", _("评分应为 1 到 5 分"))
    return dict(body.scores)


async def do_submit(
    session: AsyncSession,
    person_id: int,
    form: EvalForm,
    section: Section,
    scores: dict[int, int],
    comment: str,
) -> None:
    try:
        async with session.begin_nested():
            session.add(EvalCompletion(form_id=form.id, section_id=section.id, person_id=person_id))
            await session.flush()
    except IntegrityError as exc:  # the same student's other request got there first
        raise Conflict(_("你已评价过“{name}”，每个教学班只能评价一次", name=section.name)) from exc
    ballot = EvalBallot(
        id=secrets.token_hex(16), form_id=form.id, section_id=section.id, comment=comment
    )
    session.add(ballot)
    await session.flush()
    session.add_all(
        EvalScore(ballot_id=ballot.id, item_id=item_id, score=score)
        for item_id, score in scores.items()
    )
    # The audit names the completion (who evaluated which section), never the ballot.
    audit.record(
        session,
        "academic.evaluation.complete",
        "acad_section",
        section.id,
        after={"form_id": form.id},
    )
    answers = (await queries.ballot_counts(session, form.id, [section.id])).get(section.id, 0)
    await emit(
        session,
        events.EVALUATION_SUBMITTED,
        events.EvaluationSubmitted(
            form_id=form.id, term_id=form.term_id, section_id=section.id, answers=answers
        ),
        anonymous=True,
    )
