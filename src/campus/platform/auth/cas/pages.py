"""The browser side of CAS (/cas/login, /cas/logout) and the administrators' pages of the CAS
service registry (/auth/cas/services).

/cas/login never redirects anywhere but to a registered service or to the site's own login
page: an unknown or malformed ``service`` gets an error page, so it cannot be used to bounce a
browser to another site. An anonymous browser goes to ``/login?next=/cas/login?…`` and comes
back once signed in. ``renew`` demands that the password be entered again: the trip to the
login page carries a one-time login ticket (``lt``) remembering when it started, and a ticket
is issued only if the session was authenticated after that moment.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from campus.kernel import audit, context
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import NotFound, Problem, validation_field_errors
from campus.kernel.i18n import LazyText, _
from campus.kernel.pagination import PageParams
from campus.kernel.runtime import Runtime
from campus.kernel.templating import flash, render
from campus.platform.access.service import public, require
from campus.platform.auth import service as auth
from campus.platform.auth.cas import actions, attributes, queries, urls
from campus.platform.auth.cas.routes import flag
from campus.platform.auth.cas.schemas import Attribute, CasServiceIn, CasServicePatch
from campus.platform.auth.oidc import frontchannel
from campus.platform.auth.permissions import CAS_MANAGE, CAS_READ

router = APIRouter(tags=["auth-cas-pages"])

LOGIN_TICKET_SECONDS = 600.0
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SERVICES = "/auth/cas/services"


# ---------------------------------------------------------------- /cas/login


def _cas_login_path(service: str | None, renew: bool, login_ticket: str | None = None) -> str:
    params: dict[str, str] = {}
    if service:
        params["service"] = service
    if renew:
        params["renew"] = "true"
    if login_ticket:
        params["lt"] = login_ticket
    return "/cas/login" + (f"?{urlencode(params)}" if params else "")


def _to_service(request: Request, location: str) -> Response:
    """Send the browser to a service's URL.

    Browsers check the redirects that follow a form submission against the form page's CSP
    ``form-action 'self'``, which would stop a redirect to another site: so when this request
    is a navigation that came from our own pages (the login form led here), the browser gets
    a page that moves on by itself instead of a 302.
    """
    navigate = request.headers.get("sec-fetch-mode") == "navigate"
    if navigate and request.headers.get("sec-fetch-site") == "same-origin":
        response = render(request, "auth/cas/redirect.html", location=location)
        response.headers.update(NO_STORE)
        return response
    return RedirectResponse(location, 302, headers=NO_STORE)


def _to_login_page(next_path: str) -> Response:
    return RedirectResponse(f"/login?next={quote(next_path, safe='')}", 302, headers=NO_STORE)


async def _new_login_ticket(rt: Runtime, service: str | None) -> str:
    """A one-time ticket remembering when this trip to the login page began."""
    ticket = actions.new_ticket("LT", actions.SERVICE_TICKET_LENGTH)
    value = json.dumps({"service": service or "", "at": time.time()}).encode()
    await rt.cache.set(f"auth:cas:lt:{actions.digest(ticket)}", value, LOGIN_TICKET_SECONDS)
    return ticket


async def _spend_login_ticket(rt: Runtime, ticket: str | None, service: str | None) -> float | None:
    """When the trip that ``ticket`` started began; None if it is unknown, spent or not ours."""
    if not ticket or len(ticket) > 64:
        return None
    key = f"auth:cas:lt:{actions.digest(ticket)}"
    raw = await rt.cache.get(key)
    if raw is None or not await rt.cache.delete_if_equal(key, raw):
        return None
    data = json.loads(raw)
    return float(data["at"]) if data.get("service") == (service or "") else None


def _message(
    request: Request,
    title: LazyText,
    text: LazyText,
    status: int = 200,
    *,
    link: tuple[LazyText, str] | None = None,
    level: str = "info",
) -> Response:
    response = render(
        request, "auth/cas/message.html", status, title=title, text=text, link=link, level=level
    )
    response.headers.update(NO_STORE)
    return response


def _refuse_service(request: Request, session: SessionDep, service: str, where: str) -> Response:
    audit.record(
        session,
        "auth.cas.service.refused",
        "cas_service",
        None,
        after={"service": service[: actions.AUDIT_TEXT_LIMIT], "where": where},
    )
    return _message(
        request,
        _("应用未获授权"),
        _("该应用未在统一身份认证登记，或其网址不被接受，因此不能使用单点登录。请联系信息中心。"),
        403,
        level="danger",
    )


@router.get("/cas/login", dependencies=[public()])
async def cas_login(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    params = request.query_params
    service_url = params.get("service") or None
    live = await _full_session(request)
    if service_url is None:
        if live is None:
            return _to_login_page("/cas/login")
        return _message(request, _("已登录"), _("您已登录统一身份认证，可以访问已接入的各个应用。"))
    registered = await queries.service_for_url(session, service_url)
    if registered is None:
        return _refuse_service(request, session, service_url, "login")
    started = await _spend_login_ticket(rt, params.get("lt"), service_url)
    fresh = live is not None and started is not None and live.auth_time >= started
    if flag(params.get("renew")) and not fresh:  # renew wins over gateway
        return await _ask_for_credentials(request, rt, service_url, retried=started is not None)
    if live is None:
        if flag(params.get("gateway")):
            return _to_service(request, service_url)
        login_ticket = await _new_login_ticket(rt, service_url)
        return _to_login_page(_cas_login_path(service_url, False, login_ticket))
    grant = actions.Grant(
        person_id=live.person_id,
        user=live.login,
        session_id=live.sid,
        authenticated_at=datetime.fromtimestamp(live.auth_time, UTC),
        from_new_login=fresh,
        long_term=live.remember,
    )
    ticket = await actions.do_issue_service_ticket(session, rt, service_url, registered, grant)
    return _to_service(request, urls.with_ticket(service_url, ticket))


async def _full_session(request: Request) -> auth.LiveSession | None:
    """The browser's SSO session, if it has one with no step left to take."""
    live = await auth.current_session(request)
    return live if live is not None and live.pending is None else None


async def _ask_for_credentials(
    request: Request, rt: Runtime, service_url: str, *, retried: bool
) -> Response:
    """Send the browser to enter its password again; after a failed round trip (the login page
    let it through without asking), explain instead of looping."""
    target = _cas_login_path(service_url, True, await _new_login_ticket(rt, service_url))
    if not retried:
        return _to_login_page(target)
    return _message(
        request,
        _("需要重新验证身份"),
        _("该应用要求重新输入密码后才能进入，请再次登录。"),
        link=(_("重新登录"), f"/login?next={quote(target, safe='')}"),
        level="warning",
    )


# ---------------------------------------------------------------- /cas/logout


@router.get("/cas/logout", dependencies=[public()])
async def cas_logout(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    """End the SSO session (single logout follows through its event), then go back to the
    service if it is registered. ``url`` is the CAS 2.0 name of ``service``."""
    live = await auth.current_session(request)
    frames: list[str] = []
    if live is not None:
        frames = await frontchannel.logout_frames(session, rt.settings.secret_key, live.sid)
        await auth.end_session(session, rt.cache, live.sid, "logout")
        audit.record(
            session, "auth.cas.logout", "person", live.person_id, after={"session_id": live.sid}
        )
    target = request.query_params.get("service") or request.query_params.get("url")
    response: Response | None = None
    if target:
        if await queries.service_for_url(session, target) is not None:
            response = (
                frontchannel.frames_page(request, frames, target)
                if frames
                else _to_service(request, target)
            )
        else:
            audit.record(
                session,
                "auth.cas.service.refused",
                "cas_service",
                None,
                after={"service": target[: actions.AUDIT_TEXT_LIMIT], "where": "logout"},
            )
    if response is None and frames:
        response = frontchannel.frames_page(request, frames, "/login")
    if response is None:
        response = _message(
            request,
            _("已退出"),
            _("您已退出统一身份认证。为安全起见，请关闭浏览器。"),
            link=(_("重新登录"), "/login"),
            level="success",
        )
    auth.clear_session_cookie(response, rt.settings)
    return response


# ---------------------------------------------------------------- the registry pages


def _form_values(form: Any) -> dict[str, Any]:
    return {
        "name": str(form.get("name", "")),
        "description": str(form.get("description", "")),
        "match_kind": str(form.get("match_kind", "prefix")),
        "url_pattern": str(form.get("url_pattern", "")),
        "evaluation_order": str(form.get("evaluation_order", "") or "100"),
        "released_attributes": [str(v) for v in form.getlist("released_attributes")],
        "proxy_allowed": form.get("proxy_allowed") == "on",
        "slo_enabled": form.get("slo_enabled") == "on",
        "enabled": form.get("enabled") == "on",
    }


def _form_page(
    request: Request,
    values: dict[str, Any],
    *,
    service_id: int | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    principal = context.current().principal
    return render(
        request,
        "auth/cas/service_form.html",
        status,
        values=values,
        service_id=service_id,
        errors=errors or {},
        attributes=attributes.catalog(),
        can_manage=principal is not None and principal.can(CAS_MANAGE),
    )


def _errors_of(exc: ValidationError | Problem) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        reported = validation_field_errors([dict(e) for e in exc.errors()])
    else:
        reported = exc.errors
    errors = {e.field.split(".")[0]: str(e.reason) for e in reported}
    if not errors and isinstance(exc, Problem):
        errors["name"] = str(exc.detail or exc.title)
    return errors


@router.get(SERVICES, dependencies=[require(CAS_READ)])
async def services_page(request: Request, session: ReadSessionDep) -> Response:
    params = request.query_params
    q = (params.get("q") or "").strip()[:100] or None
    try:
        page = max(1, min(int(params.get("page") or 1), 100_000))
    except ValueError:
        page = 1
    result = await queries.services_page(session, PageParams(page=page), q)
    test_url = (params.get("test_url") or "").strip()[: urls.MAX_URL_LENGTH]
    tested = None
    if test_url:
        tested = {
            "acceptable": urls.canonical_url(test_url) is not None,
            "service": await queries.service_for_url(session, test_url),
        }
    principal = context.current().principal
    return render(
        request,
        "auth/cas/services.html",
        result=result,
        q=q or "",
        test_url=test_url,
        tested=tested,
        can_manage=principal is not None and principal.can(CAS_MANAGE),
        page_link=lambda n: f"{SERVICES}?{urlencode({'q': q or '', 'page': n})}",
    )


@router.get(f"{SERVICES}/new", dependencies=[require(CAS_MANAGE)])
async def new_service_page(request: Request) -> Response:
    defaults = CasServiceIn(name="x", url_pattern="https://").model_dump(mode="json")
    defaults.update(name="", url_pattern="", released_attributes=[Attribute.NAME.value])
    return _form_page(request, defaults, service_id=None)


@router.post(f"{SERVICES}/new", dependencies=[require(CAS_MANAGE)])
async def create_service_submit(request: Request, session: SessionDep) -> Response:
    values = _form_values(await request.form())
    try:
        created = await actions.do_create_service(session, CasServiceIn.model_validate(values))
    except (ValidationError, Problem) as exc:
        if isinstance(exc, Problem) and exc.status not in (409, 422):
            raise
        return _form_page(request, values, service_id=None, errors=_errors_of(exc), status=422)
    response = RedirectResponse(SERVICES, 303)
    flash(request, response, _("已注册应用“{name}”", name=created.name))
    return response


@router.get(SERVICES + "/{service_id}", dependencies=[require(CAS_READ)])
async def service_page(request: Request, service_id: int, session: ReadSessionDep) -> Response:
    service = await queries.get_service(session, service_id)
    if service is None:
        raise NotFound(_("CAS 应用 {id} 不存在", id=service_id))
    return _form_page(request, service.model_dump(mode="json"), service_id=service_id)


@router.post(SERVICES + "/{service_id}", dependencies=[require(CAS_MANAGE)])
async def update_service_submit(request: Request, service_id: int, session: SessionDep) -> Response:
    values = _form_values(await request.form())
    try:
        data = CasServiceIn.model_validate(values)
        updated = await actions.do_update_service(
            session, service_id, CasServicePatch.model_validate(data.model_dump())
        )
    except (ValidationError, Problem) as exc:
        if isinstance(exc, Problem) and exc.status not in (409, 422):
            raise
        return _form_page(
            request, values, service_id=service_id, errors=_errors_of(exc), status=422
        )
    response = RedirectResponse(SERVICES, 303)
    flash(request, response, _("已保存应用“{name}”", name=updated.name))
    return response


@router.post(SERVICES + "/{service_id}/delete", dependencies=[require(CAS_MANAGE)])
async def delete_service_submit(request: Request, service_id: int, session: SessionDep) -> Response:
    await actions.do_delete_service(session, service_id)
    response = RedirectResponse(SERVICES, 303)
    flash(request, response, _("已删除应用"))
    return response
