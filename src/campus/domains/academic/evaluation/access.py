"""Who may read which evaluation results: the registrar and college leaders the sections their
``academic.evaluation.manage`` or ``.read`` reaches; a teacher their own sections, only once
the term's evaluation has closed. Nobody reads results while students are still answering (a
reader comparing results before and after one student's answer would learn that answer)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.evaluation import queries
from campus.domains.academic.evaluation.models import EvalForm
from campus.domains.academic.offering.models import Section
from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, Forbidden, NotFound
from campus.kernel.i18n import _


def results_ready(form: EvalForm) -> None:
    """Results exist only after the window: refuse while it is upcoming or open."""
    if queries.state_of(form, clock.now()) != "closed":
        raise Conflict(
            _("评教尚未结束（截止 {t}），结束后才能查看结果", t=clock.fmt(form.closes_at))
        )


async def access_section_results(
    session: AsyncSession, principal: Principal, section_id: int
) -> tuple[Section, EvalForm]:
    """A section's results: for readers whose scope reaches it, and for its own teachers after
    the evaluation closed. Anyone else is told it does not exist."""
    section = await session.get(Section, section_id)
    form = await queries.form_of_term(session, section.term_id) if section else None
    if section is None or form is None:
        raise NotFound(_("教学班不存在或没有评教"))
    if await queries.reaches_section(session, principal, section_id):
        results_ready(form)
        return section, form
    if await queries.teaches(session, principal.person_id, section_id):
        if queries.state_of(form, clock.now()) != "closed":
            raise Forbidden(
                _("评教结束后（{t}）才能查看本人教学班的评教结果", t=clock.fmt(form.closes_at))
            )
        return section, form
    raise NotFound(_("教学班不存在或没有评教"))
