"""Pages of moderation for moderators: the report queue (chat messages, community posts and
comments, service-account posts: every module reports into it) and the sensitive-word list
with the chat retention setting."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParamsDep
from campus.kernel.templating import FlashLevel, flash, render
from campus.platform.access.service import require
from campus.platform.messaging.moderation import actions, queries
from campus.platform.messaging.moderation.schemas import Decision, ReportStatus, WordIn, WordLevel
from campus.platform.messaging.permissions import MODERATION_MANAGE

router = APIRouter(tags=["messaging-moderation-pages"])
Moderator = Annotated[Principal, require(MODERATION_MANAGE)]
REPORTS = "/messaging/moderation/reports"
WORDS = "/messaging/moderation/words"

KIND_TITLES = {
    "im.message": _("聊天消息"),
    "community.post": _("社区帖子"),
    "community.comment": _("社区评论"),
    "accounts.post": _("服务号文章"),
}


def _redirect(request: Request, path: str, message: str, level: FlashLevel = "success") -> Response:
    response = RedirectResponse(path, status_code=303)
    flash(request, response, message, level)
    return response


def _problem_text(problem: Problem) -> str:
    return "；".join(str(e.reason) for e in problem.errors) or str(problem.detail or problem.title)


@router.get(REPORTS)
async def reports_page(
    request: Request,
    session: ReadSessionDep,
    _p: Moderator,
    paging: PageParamsDep,
    status: ReportStatus | None = "pending",
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    kind = kind or None
    result = await queries.reports(session, paging, status, kind)
    return render(
        request,
        "messaging/moderation/reports.html",
        result=result,
        status=status,
        kind=kind or "",
        kind_titles={k: str(v) for k, v in KIND_TITLES.items()},
    )


@router.post(REPORTS + "/{report_id}/decide")
async def decide_submit(
    request: Request,
    report_id: int,
    session: SessionDep,
    principal: Moderator,
    action: Annotated[str, Form(pattern="^(remove|dismiss)$")],
    note: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        await actions.check_decide(
            session,
            principal,
            report_id,
            Decision(action=action, note=note),
        )
    except Problem as problem:
        if problem.status == 404:
            raise
        return _redirect(request, REPORTS, _problem_text(problem), "danger")
    done = _("已删除被举报内容") if action == "remove" else _("已驳回举报")
    return _redirect(request, REPORTS, str(done))


@router.get(WORDS)
async def words_page(
    request: Request,
    session: ReadSessionDep,
    _p: Moderator,
    paging: PageParamsDep,
    q: Annotated[str | None, Query(max_length=60)] = None,
    level: WordLevel | None = None,
) -> Response:
    result = await queries.words(session, paging, (q or "").strip() or None, level)
    return render(
        request,
        "messaging/moderation/words.html",
        result=result,
        q=q or "",
        level=level or "",
        retention_days=await queries.retention_days(session),
    )


@router.post(WORDS)
async def add_words_submit(
    request: Request,
    session: SessionDep,
    principal: Moderator,
    words: Annotated[str, Form(max_length=20000)] = "",
    level: Annotated[str, Form(pattern="^(block|mask)$")] = "block",
) -> Response:
    lines = [w for w in words.replace("，", "\n").replace(",", "\n").splitlines() if w.strip()]
    if not lines:
        return _redirect(request, WORDS, str(_("请输入词语，一行一个")), "danger")
    try:
        body = WordIn(words=lines, level=level)
        changed = await actions.check_add_words(session, principal, body)
    except Problem as problem:
        return _redirect(request, WORDS, _problem_text(problem), "danger")
    except ValueError:
        return _redirect(request, WORDS, str(_("一次最多添加 500 个词")), "danger")
    return _redirect(request, WORDS, str(_("已添加或更新 {n} 个词", n=changed)))


@router.post(WORDS + "/{word_id}/delete")
async def delete_word_submit(
    request: Request, word_id: int, session: SessionDep, _p: Moderator
) -> Response:
    await actions.check_delete_word(session, word_id)
    return _redirect(request, WORDS, str(_("已删除")))


@router.post("/messaging/moderation/retention")
async def retention_submit(
    request: Request,
    session: SessionDep,
    principal: Moderator,
    days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        value = int(days.strip())
        await actions.set_retention_days(session, principal, value)
    except ValueError:
        return _redirect(request, WORDS, str(_("保留天数应为 0 到 3650 的整数")), "danger")
    except Problem as problem:
        return _redirect(request, WORDS, _problem_text(problem), "danger")
    return _redirect(request, WORDS, str(_("聊天记录保留天数已设为 {n}", n=value)))
