"""JSON API of the authentication center: /api/v1/auth/..."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.deps import LateSessionDep, ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import (
    FieldError,
    InvalidInput,
    NotFound,
    Problem,
    TooManyRequests,
    Unauthenticated,
    problem_response,
)
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.access import service as access
from campus.platform.access.service import public, require, signed_in
from campus.platform.auth import actions, queries, sessions
from campus.platform.auth.actions import Device, LoginOutcome
from campus.platform.auth.permissions import (
    ACCOUNT_READ,
    ACCOUNT_UNLOCK,
    MFA_RESET,
    PASSWORD_RESET,
    SESSION_REVOKE,
)
from campus.platform.auth.schemas import (
    AccountOut,
    AdminPasswordResetIn,
    AdminPasswordResetOut,
    LoginIn,
    LoginOut,
    MeOut,
    MfaChallengeOut,
    PasswordChangeIn,
    RecoveryCodesOut,
    ResetCodeConfirmIn,
    ResetCodeRequestIn,
    ResetCodeRequestOut,
    SecondFactorIn,
    SessionOut,
    TotpCodeIn,
    TotpDisableIn,
    TotpEnrolmentOut,
    TotpStatusOut,
)
from campus.platform.users import service as users

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

RESET_CODE_SENT = _("如果该账号存在并绑定了所选方式，验证码已发送，请查收")
RESET_CODE_INVALID = _("验证码错误或已失效，请重新获取")


def device_of(request: Request) -> Device:
    return Device.current(request.headers.get("user-agent"))


def outcome_problem(outcome: LoginOutcome, *, second_factor: bool = False) -> Problem:
    """The Chinese answer to a sign-in that did not open a session."""
    wait = {"retry_after": outcome.retry_after}
    if outcome.status == "locked":
        minutes = max(1, math.ceil(outcome.retry_after / 60))
        return TooManyRequests(
            _(
                "连续登录失败次数过多，账号已临时锁定，请 {minutes} 分钟后再试或联系管理员解锁",
                minutes=minutes,
            ),
            extra=wait,
        )
    if outcome.status == "throttled":
        return TooManyRequests(
            _("登录尝试过多，请 {seconds} 秒后再试", seconds=outcome.retry_after), extra=wait
        )
    if outcome.status == "expired":
        return Unauthenticated(actions.SECOND_FACTOR_EXPIRED)
    return Unauthenticated(actions.SECOND_FACTOR_FAILED if second_factor else actions.LOGIN_FAILED)


def problem_with_retry(problem: Problem, request: Request) -> Response:
    response = problem_response(problem, request)
    if "retry_after" in problem.extra:
        response.headers["Retry-After"] = str(problem.extra["retry_after"])
    return response


async def end_previous_session(request: Request, session: AsyncSession, rt: Runtime) -> None:
    """Signing in again in a browser replaces the session its cookie held."""
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if token:
        await actions.do_end_session_by_token(session, rt.cache, token, "relogin")


async def _login_out(session: AsyncSession, rt: Runtime, outcome: LoginOutcome) -> LoginOut:
    opened = outcome.opened
    assert opened is not None
    person = await users.get_person_ref(session, opened.person_id)
    assert person is not None
    perms = (
        frozenset()
        if opened.pending
        else await access.permissions_of(session, rt.cache, opened.person_id)
    )
    return LoginOut(
        person_id=person.id,
        name=person.name,
        login=person.number or str(person.id),
        permissions=sorted(perms),
        session_id=opened.session_id,
        amr=opened.amr,
        next_step=opened.pending,
    )


async def _signed_in_response(
    request: Request, session: AsyncSession, rt: Runtime, outcome: LoginOutcome
) -> Response:
    if outcome.status == "mfa_required":
        assert outcome.mfa_token is not None
        body = MfaChallengeOut(
            mfa_token=outcome.mfa_token, expires_in=actions.MFA_CHALLENGE_SECONDS
        )
        return JSONResponse(body.model_dump(), status_code=202)
    if outcome.opened is None:
        return problem_with_retry(outcome_problem(outcome), request)
    await end_previous_session(request, session, rt)
    out = await _login_out(session, rt, outcome)
    response = JSONResponse(out.model_dump(mode="json"))
    sessions.set_cookie(
        response,
        outcome.opened.token,
        max_age=outcome.opened.max_age,
        secure=rt.settings.environment == "production",
    )
    return response


@router.post(
    "/login",
    response_model=LoginOut,
    responses={202: {"model": MfaChallengeOut, "description": "需要第二步验证"}},
    dependencies=[public()],
)
async def login(
    body: LoginIn, request: Request, session: LateSessionDep, rt: RuntimeDep
) -> Response:
    device = device_of(request)
    checked = await actions.check_password(rt, body.login, body.password, device)
    await rt.db.lock_for_writing(session)
    outcome = await actions.do_login(
        session, rt, body.login, body.password, checked, remember=body.remember, device=device
    )
    return await _signed_in_response(request, session, rt, outcome)


@router.post("/login/second-factor", response_model=LoginOut, dependencies=[public()])
async def login_second_factor(
    body: SecondFactorIn, request: Request, session: SessionDep, rt: RuntimeDep
) -> Response:
    outcome = await actions.do_login_second_factor(
        session, rt, body.mfa_token, body.code, device=device_of(request)
    )
    if outcome.opened is None:
        return problem_with_retry(outcome_problem(outcome, second_factor=True), request)
    return await _signed_in_response(request, session, rt, outcome)


@router.post("/logout", status_code=204, dependencies=[signed_in()])
async def logout(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    await actions.do_logout(session, rt.cache, request.cookies.get(sessions.SESSION_COOKIE, ""))
    response = Response(status_code=204)
    sessions.clear_cookie(response, secure=rt.settings.environment == "production")
    return response


@router.post("/logout-everywhere")
async def logout_everywhere(
    session: SessionDep, rt: RuntimeDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    ended = await actions.do_logout_everywhere(session, rt.cache, principal.person_id)
    response = JSONResponse({"ended": ended})
    sessions.clear_cookie(response, secure=rt.settings.environment == "production")
    return response


@router.get("/me", response_model=MeOut)
async def me(principal: Annotated[Principal, signed_in()]) -> MeOut:
    return MeOut(
        person_id=principal.person_id,
        name=principal.name,
        login=principal.login,
        permissions=sorted(principal.permissions),
    )


# ---------------------------------------------------------------- my devices


@router.get("/sessions", response_model=list[SessionOut])
async def my_sessions(
    session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> list[SessionOut]:
    return await queries.live_sessions(session, principal.person_id, principal.session_id)


@router.delete("/sessions/{session_id}", status_code=204)
async def revoke_session(
    session_id: str,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    row = await actions.check_own_session(session, principal.person_id, session_id[:64])
    await actions.do_revoke_session(session, rt.cache, row)
    response = Response(status_code=204)
    if session_id == principal.session_id:
        sessions.clear_cookie(response, secure=rt.settings.environment == "production")
    return response


# ---------------------------------------------------------------- passwords


@router.post("/password")
async def change_password(
    body: PasswordChangeIn,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> dict[str, int]:
    credential = await actions.check_password_change(
        session, rt, principal.person_id, body.current_password, body.new_password
    )
    ended = await actions.do_change_password(
        session, rt, credential, body.new_password, current_sid=principal.session_id
    )
    return {"sessions_ended": ended}


@router.post(
    "/password-reset/request",
    status_code=202,
    response_model=ResetCodeRequestOut,
    dependencies=[public()],
)
async def request_reset_code(
    body: ResetCodeRequestIn,
    session: SessionDep,
    rt: RuntimeDep,
    background: BackgroundTasks,
) -> ResetCodeRequestOut:
    await actions.check_reset_code_request(rt, body.login)
    delivery = await actions.do_request_reset_code(session, rt, body.login, body.channel)
    if delivery is not None:
        # Sent after the response: the answer takes as long whether or not a code went out.
        background.add_task(actions.deliver_code, delivery, str(_(rt.settings.site_name)))
    return ResetCodeRequestOut(
        detail=str(RESET_CODE_SENT), expires_in=rt.settings.reset_code_ttl_seconds
    )


@router.post("/password-reset/confirm", status_code=204, dependencies=[public()])
async def confirm_reset_code(
    body: ResetCodeConfirmIn, request: Request, session: SessionDep, rt: RuntimeDep
) -> Response:
    await actions.check_reset_code_confirm(rt, body.login, body.new_password)
    if not await actions.do_confirm_reset_code(
        session, rt, body.login, body.code, body.new_password
    ):
        problem = InvalidInput(RESET_CODE_INVALID, errors=[FieldError("code", RESET_CODE_INVALID)])
        return problem_response(problem, request)
    return Response(status_code=204)


# ---------------------------------------------------------------- TOTP


@router.get("/totp", response_model=TotpStatusOut)
async def totp_status(
    session: ReadSessionDep, rt: RuntimeDep, principal: Annotated[Principal, signed_in()]
) -> TotpStatusOut:
    return TotpStatusOut(
        enabled=await queries.totp_enabled(session, principal.person_id),
        required=await actions.mfa_required(session, rt, principal.person_id),
        recovery_codes_left=await queries.recovery_codes_left(session, principal.person_id),
    )


@router.post("/totp/enrolment", status_code=201, response_model=TotpEnrolmentOut)
async def start_totp(
    session: SessionDep, rt: RuntimeDep, principal: Annotated[Principal, signed_in()]
) -> TotpEnrolmentOut:
    return await actions.do_start_totp(session, rt, principal.person_id, principal.login)


@router.post("/totp/enrolment/confirm", response_model=RecoveryCodesOut)
async def confirm_totp(
    body: TotpCodeIn,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> RecoveryCodesOut:
    row, step = await actions.check_totp_confirm(session, rt, principal.person_id, body.code)
    codes = await actions.do_confirm_totp(session, rt, row, step, current_sid=principal.session_id)
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/totp/recovery-codes", response_model=RecoveryCodesOut)
async def renew_recovery_codes(
    body: TotpCodeIn,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> RecoveryCodesOut:
    codes = await actions.do_regenerate_recovery_codes(session, rt, principal.person_id, body.code)
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/totp/disable", status_code=204)
async def disable_totp(
    body: TotpDisableIn,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    await actions.check_totp_disable(session, rt, principal.person_id, body.password)
    await actions.do_remove_totp(session, principal.person_id, by_admin=False)
    return Response(status_code=204)


# ---------------------------------------------------------------- administrators


async def account_out(session: AsyncSession, rt: Runtime, person_id: int) -> AccountOut:
    person = await users.get_person_ref(session, person_id)
    if person is None:
        raise NotFound(_("没有这个人员"))
    credential = await queries.credential(session, person_id)
    return AccountOut(
        person_id=person.id,
        name=person.name,
        login=person.number or str(person.id),
        status=person.status,
        has_password=credential is not None,
        must_change=bool(credential and credential.must_change),
        failed_logins=credential.failed_logins if credential else 0,
        locked_until=queries.locked_until(credential),
        mfa_enabled=await queries.totp_enabled(session, person_id),
        mfa_required=await actions.mfa_required(session, rt, person_id),
        active_sessions=len(await sessions.active_of(session, person_id)),
    )


@router.get("/accounts", response_model=AccountOut, dependencies=[require(ACCOUNT_READ)])
async def find_account(login: str, session: ReadSessionDep, rt: RuntimeDep) -> AccountOut:
    person = await users.find_person_by_login(session, login[:64])
    if person is None:
        raise NotFound(_("没有使用该账号的人员"))
    return await account_out(session, rt, person.id)


@router.get(
    "/accounts/{person_id}", response_model=AccountOut, dependencies=[require(ACCOUNT_READ)]
)
async def get_account(person_id: int, session: ReadSessionDep, rt: RuntimeDep) -> AccountOut:
    return await account_out(session, rt, person_id)


@router.get(
    "/accounts/{person_id}/sessions",
    response_model=list[SessionOut],
    dependencies=[require(ACCOUNT_READ)],
)
async def account_sessions(person_id: int, session: ReadSessionDep) -> list[SessionOut]:
    return await queries.live_sessions(session, person_id)


@router.post(
    "/accounts/{person_id}/password",
    response_model=AdminPasswordResetOut,
    dependencies=[require(PASSWORD_RESET)],
)
async def admin_reset_password(
    person_id: int, body: AdminPasswordResetIn, session: SessionDep, rt: RuntimeDep
) -> AdminPasswordResetOut:
    person = await actions.check_admin_reset(session, person_id, body.password)
    generated, ended = await actions.do_admin_reset_password(
        session, rt.cache, person, body.password
    )
    return AdminPasswordResetOut(
        person_id=person.id, temporary_password=generated, sessions_ended=ended
    )


@router.post(
    "/accounts/{person_id}/unlock", status_code=204, dependencies=[require(ACCOUNT_UNLOCK)]
)
async def unlock_account(person_id: int, session: SessionDep) -> Response:
    await actions.do_unlock(session, person_id)
    return Response(status_code=204)


@router.post("/accounts/{person_id}/logout-everywhere", dependencies=[require(SESSION_REVOKE)])
async def end_account_sessions(
    person_id: int, session: SessionDep, rt: RuntimeDep
) -> dict[str, int]:
    if await users.get_person_ref(session, person_id) is None:
        raise NotFound(_("没有这个人员"))
    ended = await actions.do_admin_end_sessions(session, rt.cache, person_id)
    return {"ended": ended}


@router.post("/accounts/{person_id}/totp/reset", status_code=204, dependencies=[require(MFA_RESET)])
async def reset_account_totp(person_id: int, session: SessionDep) -> Response:
    if await users.get_person_ref(session, person_id) is None:
        raise NotFound(_("没有这个人员"))
    await actions.do_remove_totp(session, person_id, by_admin=True)
    return Response(status_code=204)
