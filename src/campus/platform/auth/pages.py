"""Pages of the authentication center: sign-in (with the second factor), sign-out, forgotten
password, and the signed-in person's account security: password, two-factor, devices.
Administrators get an account page: unlock, temporary password, sign out everywhere."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import context
from campus.kernel.context import Principal
from campus.kernel.deps import LateSessionDep, ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.kernel.templating import flash, render
from campus.platform.access.service import public, require, signed_in
from campus.platform.auth import actions, channels, queries, routes, service, sessions
from campus.platform.auth.actions import LoginOutcome
from campus.platform.auth.oidc import frontchannel
from campus.platform.auth.permissions import (
    ACCOUNT_READ,
    ACCOUNT_UNLOCK,
    MFA_RESET,
    PASSWORD_RESET,
    SESSION_REVOKE,
)
from campus.platform.users import service as users

router = APIRouter(tags=["auth-pages"])

LoginField = Annotated[str, Form(max_length=64)]
SecretField = Annotated[str, Form(max_length=128)]
NextField = Annotated[str, Form(max_length=2000)]
STEP_PAGES = {"change_password": "/account/password", "enrol_mfa": "/account/totp"}
CHINA_TIME = timezone(timedelta(hours=8), "CST")


def china_time(value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the campus reads it (China Standard Time)."""
    return value.astimezone(CHINA_TIME).strftime(pattern) if value else ""


def safe_next(target: str | None) -> str:
    """Only same-site paths may follow a sign-in: no open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _with_next(path: str, target: str) -> str:
    return path if target == "/" else f"{path}?{urlencode({'next': target})}"


def _secure(rt: Runtime) -> bool:
    return rt.settings.environment == "production"


def _field_errors(problem: Problem) -> dict[str, str]:
    return {e.field: str(e.reason) for e in problem.errors}


# ---------------------------------------------------------------- sign-in and sign-out


@router.get("/login", dependencies=[public()])
async def login_page(request: Request, next: str = "/") -> Response:
    return _login_form(request, safe_next(next))


def _login_form(
    request: Request,
    target: str,
    status: int = 200,
    *,
    error: str | None = None,
    login: str = "",
    remember: bool = False,
) -> Response:
    return render(
        request,
        "auth/login.html",
        status,
        next=target,
        error=error,
        login=login,
        remember=remember,
    )


@router.post("/login", dependencies=[public()])
async def login_submit(
    request: Request,
    session: LateSessionDep,
    rt: RuntimeDep,
    login: LoginField = "",
    password: SecretField = "",
    remember: Annotated[str, Form(max_length=8)] = "",
    next: NextField = "/",
) -> Response:
    target = safe_next(next)
    keep = remember in ("1", "on", "true")
    if not login.strip() or not password:
        return _login_form(
            request, target, 422, error=str(_("请输入账号和密码")), login=login, remember=keep
        )
    device = routes.device_of(request)
    checked = await actions.check_password(rt, login, password, device)
    await rt.db.lock_for_writing(session)
    outcome = await actions.do_login(
        session, rt, login, password, checked, remember=keep, device=device
    )
    if outcome.status == "mfa_required":
        return _second_factor_form(request, outcome.mfa_token or "", target)
    if outcome.opened is None:
        problem = routes.outcome_problem(outcome)
        return _login_form(
            request, target, problem.status, error=str(problem.detail), login=login, remember=keep
        )
    return await _signed_in_redirect(request, session, rt, outcome, target)


def _second_factor_form(
    request: Request, mfa_token: str, target: str, status: int = 200, error: str | None = None
) -> Response:
    return render(
        request, "auth/login_otp.html", status, mfa_token=mfa_token, next=target, error=error
    )


@router.post("/login/second-factor", dependencies=[public()])
async def second_factor_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    mfa_token: Annotated[str, Form(max_length=100)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
    next: NextField = "/",
) -> Response:
    target = safe_next(next)
    if not code.strip():
        return _second_factor_form(request, mfa_token, target, 422, str(_("请输入验证码")))
    outcome = await actions.do_login_second_factor(
        session, rt, mfa_token, code, device=routes.device_of(request)
    )
    if outcome.opened is not None:
        return await _signed_in_redirect(request, session, rt, outcome, target)
    problem = routes.outcome_problem(outcome, second_factor=True)
    if outcome.status == "failed":
        return _second_factor_form(request, mfa_token, target, 401, str(problem.detail))
    return _login_form(request, target, problem.status, error=str(problem.detail))


async def _signed_in_redirect(
    request: Request, session: AsyncSession, rt: Runtime, outcome: LoginOutcome, target: str
) -> Response:
    opened = outcome.opened
    assert opened is not None
    await routes.end_previous_session(request, session, rt)
    step_page = STEP_PAGES.get(opened.pending or "")
    response = RedirectResponse(
        _with_next(step_page, target) if step_page else target, status_code=303
    )
    sessions.set_cookie(response, opened.token, max_age=opened.max_age, secure=_secure(rt))
    return response


@router.post("/logout", dependencies=[public()])
async def logout_submit(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    token = request.cookies.get(sessions.SESSION_COOKIE)
    principal = context.current().principal
    frames = (
        await frontchannel.logout_frames(session, rt.settings.secret_key, principal.session_id)
        if principal is not None and principal.session_id
        else []
    )
    if token:
        await actions.do_logout(session, rt.cache, token)
    response: Response = (
        frontchannel.frames_page(request, frames, "/login")
        if frames
        else RedirectResponse("/login", status_code=303)
    )
    sessions.clear_cookie(response, secure=_secure(rt))
    return response


@router.post("/logout/everywhere")
async def logout_everywhere_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    ended = await actions.do_logout_everywhere(session, rt.cache, principal.person_id)
    response = RedirectResponse("/login", status_code=303)
    sessions.clear_cookie(response, secure=_secure(rt))
    flash(request, response, _("已在全部 {n} 个设备上退出登录", n=ended))
    return response


# ---------------------------------------------------------------- forgotten password


@router.get("/password/forgot", dependencies=[public()])
async def forgot_page(request: Request, rt: RuntimeDep) -> Response:
    return _forgot_form(request, rt)


def _forgot_form(
    request: Request,
    rt: Runtime,
    status: int = 200,
    *,
    login: str = "",
    channel: str = "sms",
    error: str | None = None,
) -> Response:
    offered = channels.available_channels(rt.settings)
    return render(
        request,
        "auth/forgot.html",
        status,
        login=login,
        channel=channel if channel in offered else "sms",
        channels=[(name, c.title) for name, c in sorted(offered.items())],
        error=error,
    )


@router.post("/password/forgot", dependencies=[public()])
async def forgot_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    background: BackgroundTasks,
    login: LoginField = "",
    channel: Annotated[str, Form(max_length=10)] = "sms",
) -> Response:
    if not login.strip():
        return _forgot_form(request, rt, 422, channel=channel, error=str(_("请输入账号")))
    try:
        await actions.check_reset_code_request(rt, login)
    except Problem as problem:
        return _forgot_form(
            request, rt, problem.status, login=login, channel=channel, error=str(problem.detail)
        )
    delivery = await actions.do_request_reset_code(session, rt, login, channel)
    if delivery is not None:
        background.add_task(actions.deliver_code, delivery, str(_(rt.settings.site_name)))
    response = RedirectResponse(
        "/password/reset?" + urlencode({"login": login.strip()}), status_code=303
    )
    flash(request, response, routes.RESET_CODE_SENT, "info")
    return response


@router.get("/password/reset", dependencies=[public()])
async def reset_page(request: Request, login: str = "") -> Response:
    return render(request, "auth/reset.html", login=login[:64], errors={}, error=None)


@router.post("/password/reset", dependencies=[public()])
async def reset_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    login: LoginField = "",
    code: Annotated[str, Form(max_length=12)] = "",
    new_password: SecretField = "",
) -> Response:
    def again(status: int, errors: dict[str, str], error: str | None = None) -> Response:
        return render(request, "auth/reset.html", status, login=login, errors=errors, error=error)

    if not login.strip() or not code.strip() or not new_password:
        return again(422, {}, str(_("请填写账号、验证码和新密码")))
    try:
        await actions.check_reset_code_confirm(rt, login, new_password)
        ok = await actions.do_confirm_reset_code(session, rt, login, code, new_password)
    except Problem as problem:
        return again(problem.status, _field_errors(problem), str(problem.detail))
    if not ok:
        reason = str(routes.RESET_CODE_INVALID)
        return again(422, {"code": reason}, reason)
    response = RedirectResponse("/login", status_code=303)
    flash(request, response, _("密码已重置，请用新密码登录"))
    return response


# ---------------------------------------------------------------- my account


async def _pending(request: Request) -> str | None:
    live = await service.current_session(request)
    return live.pending if live else None


@router.get("/account/security")
async def security_page(
    request: Request,
    session: ReadSessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    pid = principal.person_id
    return render(
        request,
        "auth/security.html",
        pending=await _pending(request),
        totp_enabled=await queries.totp_enabled(session, pid),
        totp_required=await actions.mfa_required(session, rt, pid),
        recovery_left=await queries.recovery_codes_left(session, pid),
        device_count=len(await sessions.active_of(session, pid)),
    )


@router.get("/account/password")
async def password_page(
    request: Request, principal: Annotated[Principal, signed_in()], next: str = "/"
) -> Response:
    return render(
        request,
        "auth/password.html",
        next=safe_next(next),
        pending=await _pending(request),
        errors={},
        error=None,
    )


@router.post("/account/password")
async def password_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    current_password: SecretField = "",
    new_password: SecretField = "",
    confirm_password: SecretField = "",
    next: NextField = "/",
) -> Response:
    target = safe_next(next)

    async def again(status: int, errors: dict[str, str], error: str) -> Response:
        values = {"next": target, "pending": await _pending(request)}
        return render(request, "auth/password.html", status, errors=errors, error=error, **values)

    if new_password != confirm_password:
        reason = str(_("两次输入的新密码不一致"))
        return await again(422, {"confirm_password": reason}, reason)
    try:
        credential = await actions.check_password_change(
            session, rt, principal.person_id, current_password, new_password
        )
    except Problem as problem:
        return await again(problem.status, _field_errors(problem), str(problem.detail))
    await actions.do_change_password(
        session, rt, credential, new_password, current_sid=principal.session_id
    )
    row = await sessions.get(session, principal.session_id or "")
    step_page = STEP_PAGES.get(row.pending or "") if row else None
    response = RedirectResponse(
        _with_next(step_page, target) if step_page else target, status_code=303
    )
    flash(request, response, _("密码已修改，其他设备上的登录已退出"))
    return response


# ---------------------------------------------------------------- two-factor


@router.get("/account/totp")
async def totp_page(
    request: Request,
    session: ReadSessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    next: str = "/",
) -> Response:
    pid = principal.person_id
    return render(
        request,
        "auth/totp.html",
        next=safe_next(next),
        pending=await _pending(request),
        enabled=await queries.totp_enabled(session, pid),
        required=await actions.mfa_required(session, rt, pid),
        recovery_left=await queries.recovery_codes_left(session, pid),
        enrolment=None,
        errors={},
    )


@router.post("/account/totp/start")
async def totp_start(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    next: NextField = "/",
) -> Response:
    enrolment = await actions.do_start_totp(session, rt, principal.person_id, principal.login)
    return render(
        request,
        "auth/totp_enrol.html",
        enrolment=enrolment,
        next=safe_next(next),
        errors={},
    )


@router.post("/account/totp/confirm")
async def totp_confirm(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    code: Annotated[str, Form(max_length=20)] = "",
    next: NextField = "/",
) -> Response:
    target = safe_next(next)
    try:
        row, step = await actions.check_totp_confirm(session, rt, principal.person_id, code)
    except Problem as problem:
        # A fresh seed and QR code: the person scans again (the old one was never confirmed).
        enrolment = await actions.do_start_totp(session, rt, principal.person_id, principal.login)
        return render(
            request,
            "auth/totp_enrol.html",
            problem.status,
            enrolment=enrolment,
            next=target,
            errors=_field_errors(problem) or {"code": str(problem.detail)},
        )
    codes = await actions.do_confirm_totp(session, rt, row, step, current_sid=principal.session_id)
    return render(request, "auth/recovery_codes.html", codes=codes, next=target, enabled_now=True)


@router.post("/account/totp/recovery-codes")
async def totp_new_codes(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        codes = await actions.do_regenerate_recovery_codes(session, rt, principal.person_id, code)
    except Problem as problem:
        response = RedirectResponse("/account/totp", status_code=303)
        flash(request, response, str(problem.detail), "danger")
        return response
    return render(
        request, "auth/recovery_codes.html", codes=codes, next="/account/totp", enabled_now=False
    )


@router.post("/account/totp/disable")
async def totp_disable(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    password: SecretField = "",
) -> Response:
    response = RedirectResponse("/account/totp", status_code=303)
    try:
        await actions.check_totp_disable(session, rt, principal.person_id, password)
    except Problem as problem:
        flash(request, response, str(problem.detail), "danger")
        return response
    await actions.do_remove_totp(session, principal.person_id, by_admin=False)
    flash(request, response, _("两步验证已停用"))
    return response


# ---------------------------------------------------------------- my devices


@router.get("/account/devices")
async def devices_page(
    request: Request, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    rows = await queries.live_sessions(session, principal.person_id, principal.session_id)
    return render(request, "auth/devices.html", devices=rows, when=china_time)


@router.post("/account/devices/{session_id}/revoke")
async def revoke_device(
    session_id: str,
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    row = await actions.check_own_session(session, principal.person_id, session_id[:64])
    await actions.do_revoke_session(session, rt.cache, row)
    if row.sid == principal.session_id:
        response = RedirectResponse("/login", status_code=303)
        sessions.clear_cookie(response, secure=_secure(rt))
        return response
    response = RedirectResponse("/account/devices", status_code=303)
    flash(request, response, _("该设备已退出登录"))
    return response


# ---------------------------------------------------------------- administrators


@router.get("/auth/accounts", dependencies=[require(ACCOUNT_READ)])
async def accounts_page(
    request: Request, session: ReadSessionDep, rt: RuntimeDep, login: str = ""
) -> Response:
    login = login.strip()[:64]
    values: dict[str, Any] = {"login": login, "account": None, "devices": [], "not_found": False}
    if login:
        person = await users.find_person_by_login(session, login)
        if person is None:
            values["not_found"] = True
        else:
            return RedirectResponse(f"/auth/accounts/{person.id}", status_code=303)
    return render(request, "auth/accounts.html", **values)


@router.get("/auth/accounts/{person_id}")
async def account_page(
    person_id: int,
    request: Request,
    session: ReadSessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, require(ACCOUNT_READ)],
) -> Response:
    account = await routes.account_out(session, rt, person_id)
    return render(
        request,
        "auth/account.html",
        account=account,
        devices=await queries.live_sessions(session, person_id),
        can_reset=principal.can(PASSWORD_RESET),
        can_unlock=principal.can(ACCOUNT_UNLOCK),
        can_revoke=principal.can(SESSION_REVOKE),
        can_reset_mfa=principal.can(MFA_RESET),
        temporary_password=None,
        when=china_time,
    )


@router.post("/auth/accounts/{person_id}/password")
async def account_reset_password(
    person_id: int,
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, require(PASSWORD_RESET)],
) -> Response:
    person = await actions.check_admin_reset(session, person_id, None)
    generated, _ended = await actions.do_admin_reset_password(session, rt.cache, person, None)
    account = await routes.account_out(session, rt, person_id)
    return render(
        request,
        "auth/account.html",
        account=account,
        devices=[],
        can_reset=True,
        can_unlock=principal.can(ACCOUNT_UNLOCK),
        can_revoke=principal.can(SESSION_REVOKE),
        can_reset_mfa=principal.can(MFA_RESET),
        temporary_password=generated,
        when=china_time,
    )


async def _account_action_done(request: Request, person_id: int, message: Any) -> Response:
    response = RedirectResponse(f"/auth/accounts/{person_id}", status_code=303)
    flash(request, response, message)
    return response


@router.post("/auth/accounts/{person_id}/unlock", dependencies=[require(ACCOUNT_UNLOCK)])
async def account_unlock(person_id: int, request: Request, session: SessionDep) -> Response:
    await actions.do_unlock(session, person_id)
    return await _account_action_done(request, person_id, _("账号已解锁"))


@router.post("/auth/accounts/{person_id}/logout-everywhere", dependencies=[require(SESSION_REVOKE)])
async def account_logout_everywhere(
    person_id: int, request: Request, session: SessionDep, rt: RuntimeDep
) -> Response:
    ended = await actions.do_admin_end_sessions(session, rt.cache, person_id)
    return await _account_action_done(request, person_id, _("已结束 {n} 个登录会话", n=ended))


@router.post("/auth/accounts/{person_id}/totp/reset", dependencies=[require(MFA_RESET)])
async def account_reset_totp(person_id: int, request: Request, session: SessionDep) -> Response:
    await actions.do_remove_totp(session, person_id, by_admin=True)
    return await _account_action_done(request, person_id, _("两步验证已重置，对方可重新绑定"))
