"""Pages of subscription push (the mobile app's 服务号): the directory, an account with its posts,
one post (opening it counts the read), my feed (new posts appear pushed), the editors' studio,
editor and read statistics, and the administrators' account settings. Also the service worker,
served from the site's root so that it may control every page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.clock import fmt
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParams
from campus.kernel.richtext import render as markdown
from campus.kernel.runtime import Runtime
from campus.kernel.templating import flash, form_errors, is_htmx, render
from campus.platform.access.service import public, require, signed_in
from campus.platform.files import service as files
from campus.platform.messaging.accounts import actions, labels, queries
from campus.platform.messaging.accounts.access import (
    access_account,
    access_post,
    editable_account,
    editable_post,
    is_public,
)
from campus.platform.messaging.accounts.rules import member_of
from campus.platform.messaging.accounts.schemas import (
    AccountCreate,
    AccountOut,
    AccountUpdate,
    AudienceRule,
    PostCreate,
    PostUpdate,
)
from campus.platform.messaging.permissions import ACCOUNT_MANAGE
from campus.platform.users import service as users

router = APIRouter(tags=["messaging-accounts-pages"])
STATIC = Path(__file__).with_name("static")
SERVICE_WORKER = Path(__file__).resolve().parents[3] / "web" / "static" / "sw.js"
FEED_PAGE_SIZE = 10
PICKER_LIMIT = 10
Me = Annotated[Principal, signed_in()]


def common() -> dict[str, Any]:
    return {"fmt": fmt, "labels": labels, "markdown": markdown}


# ---------------------------------------------------------------- scripts


@router.get("/sw.js", dependencies=[public()])
async def service_worker() -> Response:
    """The service worker, at the root so that its scope is the whole site."""
    return Response(
        SERVICE_WORKER.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/messaging/accounts/accounts.js", dependencies=[public()])
async def page_script() -> Response:
    """The pages' script (CSP allows no inline script): live posts, push opt-in, charts."""
    return Response(
        (STATIC / "accounts.js").read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


# ---------------------------------------------------------------- reading


@router.get("/messaging/accounts")
async def directory_page(
    request: Request,
    session: ReadSessionDep,
    principal: Me,
    tab: Annotated[str, Query(pattern="^(all|following)$")] = "all",
    q: Annotated[str | None, Query(max_length=40)] = None,
    category: Annotated[str | None, Query(pattern="^[a-z]{1,20}$")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    q = (q or "").strip() or None
    category = category if category in labels.CATEGORIES else None
    member = await member_of(session, principal.person_id)
    result = await queries.directory(
        session,
        principal.person_id,
        member,
        manager=False,
        q=q,
        category=category,
        paging=PageParams(page=page, page_size=20),
        following_only=tab == "following",
    )
    name = (
        "messaging/accounts/partials/account_list.html"
        if is_htmx(request)
        else "messaging/accounts/directory.html"
    )
    return render(
        request,
        name,
        result=result,
        tab=tab,
        q=q or "",
        category=category,
        may_manage=principal.can(ACCOUNT_MANAGE),
        editing=await queries.edited_by(session, principal.person_id),
        **common(),
    )


@router.get("/messaging/accounts/{account_id}")
async def account_page(
    request: Request,
    account_id: int,
    session: ReadSessionDep,
    principal: Me,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    found = await access_account(session, principal, account_id)
    posts = await queries.timeline(
        session, account_id, principal.person_id, PageParams(page=page, page_size=FEED_PAGE_SIZE)
    )
    if is_htmx(request):
        return render(
            request,
            "messaging/accounts/partials/post_list.html",
            posts=posts,
            more=f"/messaging/accounts/{account_id}?page={page + 1}",
            **common(),
        )
    return render(
        request,
        "messaging/accounts/account.html",
        account=await queries.account_out(session, found),
        posts=posts,
        more=f"/messaging/accounts/{account_id}?page={page + 1}",
        **common(),
    )


@router.get("/messaging/feed")
async def feed_page(
    request: Request,
    session: ReadSessionDep,
    principal: Me,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    member = await member_of(session, principal.person_id)
    following = sorted(await queries.following_ids(session, principal.person_id, member))
    posts = await queries.feed(
        session, following, principal.person_id, PageParams(page=page, page_size=FEED_PAGE_SIZE)
    )
    more = f"/messaging/feed?page={page + 1}"
    if is_htmx(request):
        return render(
            request,
            "messaging/accounts/partials/post_list.html",
            posts=posts,
            more=more,
            **common(),
        )
    return render(
        request,
        "messaging/accounts/feed.html",
        posts=posts,
        more=more,
        following=following,
        **common(),
    )


@router.get("/messaging/posts/{post_id}/card")
async def post_card(
    request: Request, post_id: int, session: ReadSessionDep, principal: Me
) -> Response:
    """One post as a card of the feed (fetched by an open page when a frame announces it)."""
    post, _found = await access_post(session, principal, post_id)
    item = await queries.post_item(session, post, principal.person_id)
    return render(
        request, "messaging/accounts/partials/post_card.html", post=item, fresh=True, **common()
    )


@router.get("/messaging/posts/{post_id}")
async def post_page(request: Request, post_id: int, session: SessionDep, principal: Me) -> Response:
    """The post; opening it is the read (each person counts once)."""
    post, found = await access_post(session, principal, post_id)
    if is_public(post):
        await actions.do_mark_read(session, post, principal.person_id)
    out = await queries.post_out(session, post, found, principal.person_id)
    return render(
        request,
        "messaging/accounts/post.html",
        post=out,
        account=await queries.account_out(session, found),
        may_report=is_public(post) and not found.editor,
        **common(),
    )


@router.post("/messaging/posts/{post_id}/report")
async def report_submit(
    request: Request,
    post_id: int,
    session: SessionDep,
    principal: Me,
    reason: Annotated[str, Form(max_length=100)] = "",
    detail: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """The 举报 form of the post page: a reason picked, and what the reader adds."""
    post, found = await access_post(session, principal, post_id)
    response = RedirectResponse(f"/messaging/posts/{post_id}", status_code=303)
    reason, detail = reason.strip(), detail.strip()
    text = f"{reason}：{detail}" if reason and detail else reason or detail
    try:
        await actions.check_report(session, principal, post, found, text)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        flash(request, response, _("举报未提交：{why}", why=_problem_text(problem)), "danger")
        return response
    flash(request, response, _("举报已提交，审核员会尽快处理"))
    return response


def _problem_text(problem: Problem) -> str:
    reasons = [str(e.reason) for e in problem.errors]
    return "；".join(reasons) or str(problem.detail or problem.title)


# ---------------------------------------------------------------- subscribing, liking (htmx)


@router.post("/messaging/accounts/{account_id}/subscription")
async def subscription_submit(
    request: Request,
    account_id: int,
    session: SessionDep,
    principal: Me,
    follow: Annotated[str, Form(pattern="^(on|off)$")] = "on",
) -> Response:
    if follow == "on":
        await actions.check_subscribe(session, principal, account_id)
    else:
        await actions.check_unsubscribe(session, principal, account_id)
    account = await queries.account_out(
        session, await access_account(session, principal, account_id)
    )
    if not is_htmx(request):
        return RedirectResponse(f"/messaging/accounts/{account_id}", status_code=303)
    return render(
        request, "messaging/accounts/partials/subscribe_button.html", account=account, **common()
    )


@router.post("/messaging/posts/{post_id}/like")
async def like_submit(
    request: Request,
    post_id: int,
    session: SessionDep,
    principal: Me,
    like: Annotated[str, Form(pattern="^(on|off)$")] = "on",
) -> Response:
    post, found = await access_post(session, principal, post_id)
    if is_public(post):
        await actions.do_like(session, post, principal.person_id, like == "on")
    out = await queries.post_out(session, post, found, principal.person_id)
    if not is_htmx(request):
        return RedirectResponse(f"/messaging/posts/{post_id}", status_code=303)
    return render(request, "messaging/accounts/partials/like_button.html", post=out, **common())


# ---------------------------------------------------------------- the editors' studio


@router.get("/messaging/accounts/{account_id}/studio")
async def studio_page(
    request: Request,
    account_id: int,
    session: ReadSessionDep,
    principal: Me,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    found = await editable_account(session, principal, account_id)
    paging = PageParams(page=page, page_size=20)
    return render(
        request,
        "messaging/accounts/studio.html",
        account=await queries.account_out(session, found),
        pending=await queries.unpublished(
            session, account_id, principal.person_id, PageParams(page=1, page_size=50)
        ),
        published=await queries.timeline(
            session, account_id, principal.person_id, paging, include_hidden=True
        ),
        **common(),
    )


def _post_values(
    title: str,
    summary: str,
    body: str,
    cover_file_id: str,
    attachments: list[str],
    action: str,
    publish_at: str,
) -> dict[str, Any]:
    return {
        "title": title,
        "summary": summary,
        "body": body,
        "cover_file_id": cover_file_id or None,
        "attachments": attachments,
        "action": action,
        "publish_at": publish_at,
    }


class PostForm:
    """The editor's fields, shared by the new and the edit page."""

    def __init__(
        self,
        title: Annotated[str, Form(max_length=400)] = "",
        summary: Annotated[str, Form(max_length=1000)] = "",
        body: Annotated[str, Form(max_length=40_000)] = "",
        cover_file_id: Annotated[str, Form(max_length=64)] = "",
        attachments: Annotated[list[str] | None, Form()] = None,
        action: Annotated[str, Form(pattern="^(draft|publish|schedule)$")] = "publish",
        publish_at: Annotated[str, Form(max_length=20)] = "",
    ) -> None:
        self.values = _post_values(
            title, summary, body, cover_file_id, attachments or [], action, publish_at
        )

    def payload(self) -> dict[str, Any]:
        values = dict(self.values)
        text = values.pop("publish_at")
        values["publish_at"] = datetime.fromisoformat(text) if text else None
        return values


async def _files_of(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    ids = [values["cover_file_id"], *values["attachments"]]
    found = {f.id: f for f in await files.get_files(session, [i for i in ids if i])}
    cover = found.get(values["cover_file_id"] or "")
    return {
        "cover": {"id": cover.id, "name": cover.name} if cover else None,
        "attachment_files": [
            {"id": found[i].id, "name": found[i].name} for i in values["attachments"] if i in found
        ],
    }


async def _editor(
    request: Request,
    session: AsyncSession,
    account: AccountOut,
    post_id: int | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "messaging/accounts/post_form.html",
        422 if errors else 200,
        account=account,
        post_id=post_id,
        values=values,
        errors=errors or {},
        **await _files_of(session, values),
        **common(),
    )


@router.get("/messaging/accounts/{account_id}/posts/new")
async def new_post_page(
    request: Request, account_id: int, session: ReadSessionDep, principal: Me
) -> Response:
    found = await editable_account(session, principal, account_id)
    values = _post_values("", "", "", "", [], "publish", "")
    account = await queries.account_out(session, found)
    return await _editor(request, session, account, None, values)


async def _save_post(
    request: Request,
    session: AsyncSession,
    rt: Runtime,
    principal: Principal,
    account: AccountOut,
    post_id: int | None,
    form: PostForm,
) -> Response:
    account_id = account.id
    errors: dict[str, str] = {}
    try:
        payload = form.payload()
        if post_id is None:
            post_id = await actions.check_create_post(
                session, rt, principal, account_id, PostCreate(**payload)
            )
        else:
            await actions.check_update_post(session, rt, principal, post_id, PostUpdate(**payload))
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
    except ValueError:
        errors = {"publish_at": str(_("时间格式不正确"))}
    if errors:
        await session.rollback()
        return await _editor(request, session, account, post_id, form.values, errors)
    assert post_id is not None
    done = {
        "publish": _("文章已发布，已推送给关注者"),
        "schedule": _("已设为定时发布"),
        "draft": _("草稿已保存"),
    }[form.values["action"]]
    target = (
        f"/messaging/posts/{post_id}"
        if form.values["action"] == "publish"
        else f"/messaging/accounts/{account_id}/studio"
    )
    response = RedirectResponse(target, status_code=303)
    flash(request, response, done)
    return response


@router.post("/messaging/accounts/{account_id}/posts/new")
async def new_post_submit(
    request: Request,
    account_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Me,
    form: Annotated[PostForm, Depends()],
) -> Response:
    found = await editable_account(session, principal, account_id)
    account = await queries.account_out(session, found)
    return await _save_post(request, session, rt, principal, account, None, form)


@router.get("/messaging/posts/{post_id}/edit")
async def edit_post_page(
    request: Request, post_id: int, session: ReadSessionDep, principal: Me
) -> Response:
    post, found = await editable_post(session, principal, post_id)
    if post.status == "published":
        return RedirectResponse(f"/messaging/posts/{post_id}", status_code=303)
    values = _post_values(
        post.title,
        post.summary,
        post.body,
        post.cover_file_id or "",
        list(post.attachments or []),
        "schedule" if post.status == "scheduled" else "draft",
        fmt(post.publish_at, "%Y-%m-%dT%H:%M"),
    )
    account = await queries.account_out(session, found)
    return await _editor(request, session, account, post_id, values)


@router.post("/messaging/posts/{post_id}/edit")
async def edit_post_submit(
    request: Request,
    post_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Me,
    form: Annotated[PostForm, Depends()],
) -> Response:
    _post, found = await editable_post(session, principal, post_id)
    account = await queries.account_out(session, found)
    return await _save_post(request, session, rt, principal, account, post_id, form)


@router.post("/messaging/posts/{post_id}/publish")
async def publish_submit(
    request: Request, post_id: int, session: SessionDep, rt: RuntimeDep, principal: Me
) -> Response:
    response = RedirectResponse(f"/messaging/posts/{post_id}", status_code=303)
    try:
        await actions.check_publish_post(session, rt, principal, post_id)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        flash(request, response, str(problem.detail or problem.title), "danger")
        return response
    flash(request, response, _("文章已发布，已推送给关注者"))
    return response


@router.post("/messaging/posts/{post_id}/delete")
async def delete_submit(
    request: Request, post_id: int, session: SessionDep, principal: Me
) -> Response:
    post, _found = await editable_post(session, principal, post_id)
    account_id = post.account_id
    await actions.check_delete_post(session, principal, post_id)
    response = RedirectResponse(f"/messaging/accounts/{account_id}/studio", status_code=303)
    flash(request, response, _("文章已删除"))
    return response


@router.post("/messaging/posts/preview", dependencies=[signed_in()])
async def preview(request: Request, body: Annotated[str, Form(max_length=40_000)] = "") -> Response:
    return render(
        request, "messaging/accounts/partials/preview.html", html=markdown(body), **common()
    )


@router.get("/messaging/posts/{post_id}/stats")
async def stats_page(
    request: Request, post_id: int, session: ReadSessionDep, principal: Me
) -> Response:
    post, found = await editable_post(session, principal, post_id)
    stats = await queries.read_stats(session, post)
    return render(
        request,
        "messaging/accounts/post_stats.html",
        post=await queries.post_out(session, post, found, principal.person_id),
        stats=stats,
        chart={"days": stats.days, "reads": stats.reads},
        **common(),
    )


# ---------------------------------------------------------------- administration


@router.get("/messaging/accounts-admin")
async def admin_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ACCOUNT_MANAGE)],
    q: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    member = await member_of(session, principal.person_id)
    result = await queries.directory(
        session,
        principal.person_id,
        member,
        manager=True,
        q=(q or "").strip() or None,
        category=None,
        paging=PageParams(page=1, page_size=200),
        include_inactive=True,
    )
    return render(request, "messaging/accounts/admin.html", result=result, q=q or "", **common())


@router.get("/messaging/accounts-admin/people")
async def people_picker(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ACCOUNT_MANAGE)],
    q: Annotated[str, Query(min_length=1, max_length=40)],
) -> Response:
    """Editors to choose, by the start of a name or number (staff and students alike)."""
    found = await users.search_people(session, q, PICKER_LIMIT)
    return JSONResponse([{"id": p.id, "name": p.name, "number": p.number or ""} for p in found])


async def _units(session: AsyncSession) -> list[tuple[int, str, int]]:
    """Every org unit as (id, name, depth), in tree order, for the selects."""
    rows: list[tuple[int, str, int]] = []

    def walk(nodes: list[Any], depth: int) -> None:
        for node in nodes:
            rows.append((node.id, node.name, depth))
            walk(node.children, depth + 1)

    walk(await users.org_tree(session), 0)
    return rows


def _rule_values(types: list[str], units: list[str]) -> dict[str, Any]:
    return {
        "person_types": [t for t in types if t in labels.PERSON_TYPES],
        "org_unit_ids": [int(u) for u in units if u.isdigit()],
    }


class AccountForm:
    def __init__(
        self,
        code: Annotated[str, Form(max_length=60)] = "",
        name: Annotated[str, Form(max_length=100)] = "",
        description: Annotated[str, Form(max_length=1000)] = "",
        category: Annotated[str, Form(max_length=20)] = "other",
        icon: Annotated[str, Form(max_length=60)] = "speakerphone",
        avatar_file_id: Annotated[str, Form(max_length=64)] = "",
        org_unit_id: Annotated[str, Form(max_length=20)] = "",
        audience_type: Annotated[list[str] | None, Form()] = None,
        audience_unit: Annotated[list[str] | None, Form()] = None,
        mandatory_on: Annotated[str | None, Form(max_length=2)] = None,
        mandatory_type: Annotated[list[str] | None, Form()] = None,
        mandatory_unit: Annotated[list[str] | None, Form()] = None,
        editor_ids: Annotated[list[str] | None, Form()] = None,
        active: Annotated[str | None, Form(max_length=2)] = None,
    ) -> None:
        self.values: dict[str, Any] = {
            "code": code,
            "name": name,
            "description": description,
            "category": category,
            "icon": icon,
            "avatar_file_id": avatar_file_id or None,
            "org_unit_id": int(org_unit_id) if org_unit_id.isdigit() else None,
            "audience": _rule_values(audience_type or [], audience_unit or []),
            "mandatory": _rule_values(mandatory_type or [], mandatory_unit or [])
            if mandatory_on
            else None,
            "editor_ids": [int(e) for e in editor_ids or [] if e.isdigit()],
            "active": bool(active),
        }


async def _account_editor(
    request: Request,
    session: AsyncSession,
    account_id: int | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    people = await users.get_people(session, values["editor_ids"])
    avatar = (
        await files.get_files(session, [values["avatar_file_id"]])
        if values["avatar_file_id"]
        else []
    )
    return render(
        request,
        "messaging/accounts/account_form.html",
        422 if errors else 200,
        account_id=account_id,
        values=values,
        errors=errors or {},
        units=await _units(session),
        editors=[{"id": p.id, "name": p.name, "number": p.number or ""} for p in people.values()],
        avatar={"id": avatar[0].id, "name": avatar[0].name} if avatar else None,
        **common(),
    )


@router.get("/messaging/accounts-admin/new")
async def new_account_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ACCOUNT_MANAGE)],
) -> Response:
    me = await users.get_person_ref(session, principal.person_id)
    values = AccountForm(org_unit_id=str(me.org_unit_id) if me else "", active="1").values
    return await _account_editor(request, session, None, values)


async def _save_account(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    account_id: int | None,
    form: AccountForm,
) -> Response:
    errors: dict[str, str] = {}
    values = form.values
    try:
        if account_id is None:
            body = {
                k: v
                for k, v in values.items()
                if k not in ("active", "mandatory") and v is not None
            }
            account_id = await actions.check_create_account(
                session, principal, AccountCreate(**body, mandatory=values["mandatory"])
            )
        else:
            found = await access_account(session, principal, account_id)
            update = {k: v for k, v in values.items() if k != "code"}
            await actions.check_update_account(session, principal, found, AccountUpdate(**update))
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
    if errors:
        await session.rollback()
        given = None if request.url.path.endswith("/new") else account_id
        return await _account_editor(request, session, given, values, errors)
    response = RedirectResponse("/messaging/accounts-admin", status_code=303)
    flash(request, response, _("服务号已保存"))
    return response


@router.post("/messaging/accounts-admin/new")
async def new_account_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(ACCOUNT_MANAGE)],
    form: Annotated[AccountForm, Depends()],
) -> Response:
    return await _save_account(request, session, principal, None, form)


@router.get("/messaging/accounts-admin/{account_id}")
async def edit_account_page(
    request: Request,
    account_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ACCOUNT_MANAGE)],
) -> Response:
    account = (await access_account(session, principal, account_id)).account
    mandatory = account.mandatory
    values = {
        "code": account.code,
        "name": account.name,
        "description": account.description,
        "category": account.category,
        "icon": account.icon,
        "avatar_file_id": account.avatar_file_id,
        "org_unit_id": account.org_unit_id,
        "audience": AudienceRule.model_validate(account.audience).model_dump(),
        "mandatory": AudienceRule.model_validate(mandatory).model_dump() if mandatory else None,
        "editor_ids": await queries.editor_ids(session, account_id),
        "active": account.active,
    }
    return await _account_editor(request, session, account_id, values)


@router.post("/messaging/accounts-admin/{account_id}")
async def edit_account_submit(
    request: Request,
    account_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(ACCOUNT_MANAGE)],
    form: Annotated[AccountForm, Depends()],
) -> Response:
    return await _save_account(request, session, principal, account_id, form)
