"""Browser-facing pages: the authorization endpoint with its consent page, RP-initiated logout,
and the administrators' pages for clients and signing keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, context
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import FieldError, NotFound, Problem, validation_field_errors
from campus.kernel.i18n import LazyText, _
from campus.kernel.templating import flash, render
from campus.platform.access.service import public, require
from campus.platform.auth import service as auth
from campus.platform.auth.oidc import actions, authorize, frontchannel, grants, keys, queries
from campus.platform.auth.oidc.authorize import AuthorizationRequest, UntrustedRequest
from campus.platform.auth.oidc.claims import SCOPES, SUPPORTED_SCOPES
from campus.platform.auth.oidc.models import Client
from campus.platform.auth.oidc.protocol import Provider, record_refusal, single
from campus.platform.auth.oidc.routes import AUTHORIZE_PATH, END_SESSION_PATH
from campus.platform.auth.oidc.schemas import (
    CLIENT_ID_PATTERN,
    ClientCreate,
    ClientOut,
    ClientUpdate,
)
from campus.platform.auth.permissions import CLIENT_MANAGE, CLIENT_READ

CONFIRM_LOGOUT_PATH = "/oauth/confirm-logout"
CONSENT_PATH = "/oauth/consent"
CLIENTS_PAGE = "/auth/oidc/clients"
KEYS_PAGE = "/auth/oidc/keys"
GRANT_TYPE_LABELS: dict[str, LazyText] = {
    "authorization_code": _("授权码（用户登录）"),
    "refresh_token": _("刷新令牌"),
    "client_credentials": _("客户端凭据（服务间调用）"),
}

router = APIRouter(tags=["oidc-pages"])


# ---------------------------------------------------------------- going back to the client


def _to_client(request: Request, location: str) -> Response:
    """Send the browser to a client's URL.

    A redirect that follows a form submission is checked by browsers against the page's CSP
    ``form-action 'self'``, which would stop it; so after a form (our consent and logout pages,
    or the login form that led here) the browser gets a page that moves on by itself.
    """
    navigate = request.headers.get("sec-fetch-mode") == "navigate"
    after_form = request.method == "POST" or request.headers.get("sec-fetch-site") == "same-origin"
    if navigate and after_form:
        return render(request, "auth/oidc/redirect.html", location=location)
    return RedirectResponse(location, status_code=303 if request.method == "POST" else 302)


def _untrusted(request: Request, session: AsyncSession, exc: UntrustedRequest) -> Response:
    audit.record(
        session,
        "auth.oidc.authorize.refused",
        "oidc_client",
        (exc.client_id or "")[:64] or None,
        after={"error": exc.error},
    )
    return render(request, "auth/oidc/error.html", 400, reason=exc.reason, error=exc.error)


def _error_to_client(
    request: Request, session: AsyncSession, error: OAuth2Error, client_id: str, issuer: str
) -> Response:
    record_refusal(session, "authorize", error, client_id)
    return _to_client(request, authorize.error_location(error, issuer))


# ---------------------------------------------------------------- the authorization endpoint


async def _live_session(
    session: AsyncSession, principal: Principal | None
) -> auth.SessionOut | None:
    """The signed-in person's full SSO session (no step pending), or None."""
    if principal is None or principal.session_id is None:
        return None
    live = await grants.live_session(session, principal.session_id)
    return live if live is not None and live.pending is None else None


def _login_url(request: AuthorizationRequest) -> str:
    back = f"{AUTHORIZE_PATH}?{urlencode(request.params)}"
    return "/login?next=" + quote(back, safe="")


@router.get(AUTHORIZE_PATH, dependencies=[public()])
async def authorize_page(request: Request, session: SessionDep) -> Response:
    """OpenID Connect Core §3.1.2: sign in (once for every application), consent, code."""
    return await _authorize(request, session, request.query_params, decision=None)


@router.post(AUTHORIZE_PATH, dependencies=[public()])
async def authorize_by_post(request: Request, session: SessionDep) -> Response:
    """The same request sent as a form (OpenID Connect Core §3.1.2.1 allows both)."""
    return await _authorize(request, session, await request.form(), decision=None)


@router.post(CONSENT_PATH, dependencies=[public()])
async def consent_decision(request: Request, session: SessionDep) -> Response:
    """The consent page's answer: the request's parameters again, and the decision
    (CSRF-protected like every form of ours)."""
    form = await request.form()
    decision = str(form.get("decision") or "")
    return await _authorize(request, session, form, decision=decision or "deny")


async def _authorize(
    request: Request, session: AsyncSession, params: Any, *, decision: str | None
) -> Response:
    provider = Provider.of(request)
    try:
        areq = await authorize.validate(session, params)
    except UntrustedRequest as exc:
        return _untrusted(request, session, exc)
    except OAuth2Error as exc:
        client_id = str(params.get("client_id") or "")
        return _error_to_client(request, session, exc, client_id, provider.issuer)
    client_id = areq.client.client_id

    def fail(error_class: type[OAuth2Error]) -> Response:
        error = error_class(redirect_uri=areq.redirect_uri, state=areq.state)
        return _error_to_client(request, session, error, client_id, provider.issuer)

    principal = context.current().principal
    live = await _live_session(session, principal)
    if live is None or principal is None:
        if "none" in areq.prompt:
            return fail(LoginRequiredError)
        return RedirectResponse(_login_url(areq), status_code=303)
    if decision == "deny":
        return fail(AccessDeniedError)
    if decision == "allow":
        await actions.do_save_consent(session, principal.person_id, client_id, areq.scopes)
    else:
        consented = await queries.consented_scopes(session, principal.person_id, client_id)
        if authorize.needs_consent(areq, consented):
            if "none" in areq.prompt:
                return fail(ConsentRequiredError)
            return _consent_page(request, areq, principal)
    code = await actions.do_issue_code(
        session,
        client_id=client_id,
        person_id=principal.person_id,
        session_id=live.session_id,
        redirect_uri=areq.redirect_uri,
        scope=areq.scope,
        nonce=areq.nonce,
        code_challenge=areq.code_challenge,
        code_challenge_method=areq.code_challenge_method,
        auth_time=live.auth_time,
        issuer=provider.issuer,
    )
    location = authorize.redirect_location(
        areq.redirect_uri, {"code": code, "state": areq.state}, provider.issuer
    )
    return _to_client(request, location)


def _consent_page(request: Request, areq: AuthorizationRequest, principal: Principal) -> Response:
    params = {k: v for k, v in areq.params.items() if k != "prompt"}
    return render(
        request,
        "auth/oidc/consent.html",
        client=areq.client,
        scopes=[(scope, SCOPES[scope]) for scope in areq.scopes],
        params=params,
        principal=principal,
        redirect_host=_host(areq.redirect_uri),
    )


def _host(uri: str) -> str:
    return urlsplit(uri).netloc or uri


# ---------------------------------------------------------------- RP-initiated logout


class LogoutRefused(Exception):
    def __init__(self, reason: LazyText, client_id: str | None) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.client_id = client_id


@dataclass(frozen=True)
class LogoutRequest:
    client: Client | None
    redirect_uri: str | None
    hint_subject: str | None
    post_logout_redirect_uri: str | None
    state: str | None

    def confirmed_by_hint(self, principal: Principal) -> bool:
        """An ID token we issued to this person names them: the RP asks, no need to confirm."""
        return self.hint_subject is not None and self.hint_subject == str(principal.person_id)


async def _logout_request(session: AsyncSession, provider: Provider, params: Any) -> LogoutRequest:
    """RP-Initiated Logout 1.0 §2–3: the hint must be ours; the redirect must be registered
    for the client exactly, or nothing is redirected."""
    try:
        hint = single(params, "id_token_hint")
        client_id = single(params, "client_id")
        redirect = single(params, "post_logout_redirect_uri")
        state = single(params, "state")
    except InvalidRequestError as exc:
        raise LogoutRefused(_("退出请求的参数重复或过长"), None) from exc
    claims = await grants.id_token_hint_claims(session, provider, hint) if hint else None
    if hint and claims is None:
        raise LogoutRefused(_("退出请求携带的身份令牌无效"), client_id)
    audience = claims.get("aud") if claims else None
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if client_id and claims and client_id not in audiences:
        raise LogoutRefused(_("应用标识与身份令牌不符"), client_id)
    client_id = client_id or (audience if isinstance(audience, str) else None)
    client = await queries.active_client(session, client_id) if client_id else None
    if client_id and client is None:
        raise LogoutRefused(_("未登记或已停用的应用"), client_id)
    target = None
    if redirect:
        if client is None or redirect not in client.post_logout_redirect_uris:
            raise LogoutRefused(_("退出后的跳转地址未在该应用登记，已拒绝跳转"), client_id)
        target = add_params_to_uri(redirect, [("state", state)]) if state else redirect
    return LogoutRequest(
        client=client,
        redirect_uri=target,
        hint_subject=str(claims["sub"]) if claims and "sub" in claims else None,
        post_logout_redirect_uri=redirect if target else None,
        state=state,
    )


def _logout_refused(request: Request, session: AsyncSession, exc: LogoutRefused) -> Response:
    audit.record(
        session,
        "auth.oidc.logout.refused",
        "oidc_client",
        (exc.client_id or "")[:64] or None,
        after={"reason": str(exc.reason)},
    )
    return render(request, "auth/oidc/error.html", 400, reason=exc.reason, error="invalid_request")


def _after_logout(
    request: Request, logout: LogoutRequest, frames: list[str] | None = None
) -> Response:
    """Where a logout ends: the client's post-logout URI, else our "signed out" page; by way of
    the clients' front-channel logout frames when there are any."""
    if logout.redirect_uri:
        if frames:
            return frontchannel.frames_page(request, frames, logout.redirect_uri)
        return _to_client(request, logout.redirect_uri)
    response = render(request, "auth/oidc/logged_out.html", client=logout.client, frames=frames)
    if frames:
        response.headers["content-security-policy"] = frontchannel.frame_policy(frames)
    return response


async def _end_current_session(
    request: Request,
    session: AsyncSession,
    rt: RuntimeDep,
    principal: Principal,
    logout: LogoutRequest,
) -> Response:
    assert principal.session_id is not None
    frames = await frontchannel.logout_frames(session, rt.settings.secret_key, principal.session_id)
    await auth.end_session(session, rt.cache, principal.session_id, "logout")
    response = _after_logout(request, logout, frames)
    auth.clear_session_cookie(response, rt.settings)
    return response


@router.api_route(END_SESSION_PATH, methods=["GET", "POST"], dependencies=[public()])
async def end_session(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    """The end_session_endpoint: signs out of Campus (and so of every application)."""
    params = request.query_params if request.method == "GET" else await request.form()
    try:
        logout = await _logout_request(session, Provider.of(request), params)
    except LogoutRefused as exc:
        return _logout_refused(request, session, exc)
    principal = context.current().principal
    if principal is None or principal.session_id is None:
        return _after_logout(request, logout)
    if logout.confirmed_by_hint(principal):
        return await _end_current_session(request, session, rt, principal, logout)
    return render(request, "auth/oidc/logout_confirm.html", logout=logout)


@router.post(CONFIRM_LOGOUT_PATH, dependencies=[public()])
async def confirm_logout(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    """The person's answer on the confirmation page (CSRF-protected like every form)."""
    form = await request.form()
    try:
        logout = await _logout_request(session, Provider.of(request), form)
    except LogoutRefused as exc:
        return _logout_refused(request, session, exc)
    principal = context.current().principal
    if form.get("decision") != "logout":
        return RedirectResponse("/", status_code=303)
    if principal is None or principal.session_id is None:
        return _after_logout(request, logout)
    return await _end_current_session(request, session, rt, principal, logout)


# ---------------------------------------------------------------- administrators' pages


ClientIdPath = Annotated[str, Path(pattern=CLIENT_ID_PATTERN, max_length=64)]
_EMPTY_FORM: dict[str, Any] = {
    "client_id": "",
    "name": "",
    "description": "",
    "client_type": "confidential",
    "first_party": False,
    "redirect_uris": [],
    "post_logout_redirect_uris": [],
    "allowed_scopes": ["openid", "profile"],
    "grant_types": ["authorization_code", "refresh_token"],
    "backchannel_logout_uri": "",
    "frontchannel_logout_uri": "",
    "active": True,
}


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def _submitted(form: Any) -> dict[str, Any]:
    return {
        "client_id": str(form.get("client_id") or "").strip(),
        "name": str(form.get("name") or ""),
        "description": str(form.get("description") or ""),
        "client_type": str(form.get("client_type") or "confidential"),
        "first_party": form.get("first_party") == "on",
        "redirect_uris": _lines(form.get("redirect_uris")),
        "post_logout_redirect_uris": _lines(form.get("post_logout_redirect_uris")),
        "allowed_scopes": [str(s) for s in form.getlist("allowed_scopes")],
        "grant_types": [str(g) for g in form.getlist("grant_types")],
        "backchannel_logout_uri": str(form.get("backchannel_logout_uri") or "").strip() or None,
        "frontchannel_logout_uri": str(form.get("frontchannel_logout_uri") or "").strip() or None,
        "active": form.get("active") == "on",
    }


def _form_page(
    request: Request,
    values: dict[str, Any],
    *,
    client: ClientOut | None,
    errors: list[FieldError] | None = None,
    status: int = 200,
) -> Response:
    principal = context.current().principal
    shown = {e.field.split(".")[0]: str(e.reason) for e in (errors or [])}
    return render(
        request,
        "auth/oidc/client_form.html",
        status,
        values=values,
        client=client,
        errors=shown,
        scopes=[(scope, SCOPES[scope]) for scope in SUPPORTED_SCOPES],
        grant_types=GRANT_TYPE_LABELS,
        can_manage=principal is not None and principal.can(CLIENT_MANAGE),
    )


def _problem_errors(exc: Problem) -> list[FieldError]:
    return exc.errors or [FieldError("name", exc.detail or exc.title)]


@router.get(CLIENTS_PAGE)
async def clients_page(
    request: Request, session: ReadSessionDep, principal: Annotated[Principal, require(CLIENT_READ)]
) -> Response:
    return render(
        request,
        "auth/oidc/clients.html",
        clients=[ClientOut.model_validate(c) for c in await queries.clients(session)],
        can_manage=principal.can(CLIENT_MANAGE),
    )


@router.get(f"{CLIENTS_PAGE}/new", dependencies=[require(CLIENT_MANAGE)])
async def new_client_page(request: Request) -> Response:
    return _form_page(request, dict(_EMPTY_FORM), client=None)


@router.post(f"{CLIENTS_PAGE}/new", dependencies=[require(CLIENT_MANAGE)])
async def create_client_submit(request: Request, session: SessionDep) -> Response:
    values = _submitted(await request.form())
    data = {k: v for k, v in values.items() if k != "active"}
    data["client_id"] = data["client_id"] or None
    try:
        client, secret = await actions.do_create_client(session, ClientCreate.model_validate(data))
    except ValidationError as exc:
        errors = validation_field_errors([dict(e) for e in exc.errors()])
        return _form_page(request, values, client=None, errors=errors, status=422)
    except Problem as exc:
        return _form_page(request, values, client=None, errors=_problem_errors(exc), status=422)
    return render(
        request,
        "auth/oidc/client_secret.html",
        client=ClientOut.model_validate(client),
        secret=secret,
        created=True,
    )


async def _client_out(session: AsyncSession, client_id: str) -> ClientOut:
    client = await queries.client(session, client_id)
    if client is None:
        raise NotFound(_("客户端 {id} 不存在", id=client_id))
    return ClientOut.model_validate(client)


@router.get(f"{CLIENTS_PAGE}/{{client_id}}", dependencies=[require(CLIENT_READ)])
async def client_page(
    request: Request, client_id: ClientIdPath, session: ReadSessionDep
) -> Response:
    client = await _client_out(session, client_id)
    values = client.model_dump()
    values["backchannel_logout_uri"] = client.backchannel_logout_uri or ""
    values["frontchannel_logout_uri"] = client.frontchannel_logout_uri or ""
    return _form_page(request, values, client=client)


@router.post(f"{CLIENTS_PAGE}/{{client_id}}", dependencies=[require(CLIENT_MANAGE)])
async def update_client_submit(
    request: Request, client_id: ClientIdPath, session: SessionDep
) -> Response:
    client = await _client_out(session, client_id)
    values = _submitted(await request.form())
    data = {k: v for k, v in values.items() if k not in ("client_id", "client_type")}
    try:
        await actions.do_update_client(session, client_id, ClientUpdate.model_validate(data))
    except ValidationError as exc:
        errors = validation_field_errors([dict(e) for e in exc.errors()])
        values.update(client_id=client.client_id, client_type=client.client_type)
        return _form_page(request, values, client=client, errors=errors, status=422)
    except Problem as exc:
        values.update(client_id=client.client_id, client_type=client.client_type)
        return _form_page(request, values, client=client, errors=_problem_errors(exc), status=422)
    response = RedirectResponse(f"{CLIENTS_PAGE}/{client_id}", status_code=303)
    flash(request, response, _("已保存"))
    return response


@router.post(f"{CLIENTS_PAGE}/{{client_id}}/secret", dependencies=[require(CLIENT_MANAGE)])
async def new_secret_submit(
    request: Request, client_id: ClientIdPath, session: SessionDep
) -> Response:
    client, secret = await actions.do_new_secret(session, client_id)
    return render(
        request,
        "auth/oidc/client_secret.html",
        client=ClientOut.model_validate(client),
        secret=secret,
        created=False,
    )


@router.get(KEYS_PAGE)
async def keys_page(
    request: Request, session: ReadSessionDep, principal: Annotated[Principal, require(CLIENT_READ)]
) -> Response:
    provider = Provider.of(request)
    return render(
        request,
        "auth/oidc/keys.html",
        keys=await keys.key_infos(session, provider.keep_retired_keys),
        can_manage=principal.can(CLIENT_MANAGE),
        jwks_url=provider.url("/oauth/jwks"),
    )


@router.post(f"{KEYS_PAGE}/rotate", dependencies=[require(CLIENT_MANAGE)])
async def rotate_keys_submit(request: Request, session: SessionDep) -> Response:
    row = await actions.do_rotate_keys(session, Provider.of(request).secret_key)
    response = RedirectResponse(KEYS_PAGE, status_code=303)
    flash(request, response, _("已启用新的签名密钥 {kid}", kid=row.kid))
    return response
