"""Writes of the authentication center: sign-in and its second factor, sessions, lockout,
passwords (changed, reset by an administrator or by a verification code) and TOTP.

``check_*`` validates, ``do_*`` writes, in the caller's transaction; this is the only file that
emits events. A failed sign-in or a wrong code returns an outcome instead of raising, so that
its audit entry and the failure count commit.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock, context
from campus.kernel.cache import Cache
from campus.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.access import service as access
from campus.platform.auth import channels, queries, sessions, totp
from campus.platform.auth.events import SESSION_ENDED, SessionEnded
from campus.platform.auth.models import AuthSession, Credential, RecoveryCode, ResetCode, Totp
from campus.platform.auth.passwords import (
    check_policy,
    code_digest,
    digests_equal,
    hash_password_off_loop,
    needs_rehash,
    temporary_password,
    token_digest,
    verify_password_off_loop,
)
from campus.platform.auth.schemas import OpenedSession, PendingStep, TotpEnrolmentOut
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef

log = structlog.get_logger(__name__)

LOGIN_FAILED = _("账号或密码错误")
SECOND_FACTOR_FAILED = _("验证码不正确")
SECOND_FACTOR_EXPIRED = _("验证已超时，请重新登录")
MFA_CHALLENGE_SECONDS = 300
MFA_CHALLENGE_ATTEMPTS = 5
RESET_CODE_ATTEMPTS = 5
RESET_CODE_INTERVAL_SECONDS = 60
RESET_CODES_PER_HOUR = 5
RESET_REQUESTS_PER_IP_HOUR = 30
RESET_CONFIRMS_PER_ACCOUNT = 10
CODE_CHECKS_PER_PERSON = 10
EXPIRY_BATCH = 500
SESSION_RETENTION_DAYS = 90

Status = Literal["signed_in", "mfa_required", "failed", "locked", "throttled", "expired"]


@dataclass(frozen=True)
class Device:
    """Where a request comes from, as sessions and the audit log record it."""

    user_agent: str | None
    ip: str | None

    @classmethod
    def current(cls, user_agent: str | None) -> Device:
        return cls(
            user_agent=(user_agent or "")[: sessions.USER_AGENT_MAX] or None,
            ip=context.current().ip,
        )


@dataclass(frozen=True)
class LoginOutcome:
    status: Status
    opened: OpenedSession | None = None
    mfa_token: str | None = None
    retry_after: int = 0


# ---------------------------------------------------------------- sign-in


def _normalise_login(login: str) -> str:
    return login.strip().lower()[:64]


async def _throttled(rt: Runtime, login: str, device: Device) -> int:
    """Seconds to wait when this account or address has had too many attempts, else 0."""
    s = rt.settings
    window = float(s.login_window_seconds)
    per_account = await rt.cache.hit(f"login:acct:{login}", s.login_attempts_per_account, window)
    per_ip = await rt.cache.hit(
        f"login:ip:{device.ip or 'unknown'}", s.login_attempts_per_ip, window
    )
    if per_account.allowed and per_ip.allowed:
        return 0
    return int(max(per_account.retry_after, per_ip.retry_after)) + 1


def _lock_remaining(credential: Credential | None, now: datetime) -> int:
    if credential is None or credential.locked_until is None or credential.locked_until <= now:
        return 0
    return int((credential.locked_until - now).total_seconds()) + 1


async def _unknown_lock_remaining(cache: Cache, login: str) -> int:
    raw = await cache.get(f"auth:lock:{login}")
    if raw is None:
        return 0
    return max(1, int(float(raw) - clock.now().timestamp()) + 1)


@dataclass(frozen=True)
class PasswordCheck:
    """A password checked before the sign-in's write transaction begins: argon2 takes tens of
    milliseconds, and on SQLite a write transaction holds the one write lock all that time.

    ``retry_after`` > 0: throttled, nothing was checked. Otherwise ``matches`` tells whether
    the password fits ``seen_hash``, the stored hash it was checked against (None: no account)."""

    retry_after: int = 0
    seen_hash: str | None = None
    matches: bool = False


async def check_password(rt: Runtime, login: str, password: str, device: Device) -> PasswordCheck:
    """The slow part of a sign-in, on a short read of its own; counts the attempt."""
    wait = await _throttled(rt, _normalise_login(login), device)
    if wait:
        return PasswordCheck(retry_after=wait)
    async with rt.db.read() as session:
        person = await users.find_person_by_login(session, login)
        credential = await session.get(Credential, person.id) if person else None
        seen = credential.password_hash if credential else None
        locked = _lock_remaining(credential, clock.now())
    if locked:  # do_login answers "locked" without the verdict: spare the work
        return PasswordCheck(seen_hash=seen)
    return PasswordCheck(seen_hash=seen, matches=await verify_password_off_loop(seen, password))


async def do_login(
    session: AsyncSession,
    rt: Runtime,
    login: str,
    password: str,
    checked: PasswordCheck,
    *,
    remember: bool,
    device: Device,
) -> LoginOutcome:
    """Open a session for a checked password sign-in, or ask for the second factor.

    Call it in a transaction that has taken the write lock after ``check_password``."""
    key = _normalise_login(login)
    if checked.retry_after:
        await _audit_throttled(session, rt.cache, key, device)
        return LoginOutcome("throttled", retry_after=checked.retry_after)
    now = clock.now()
    person = await users.find_person_by_login(session, login)
    credential = await session.get(Credential, person.id) if person else None
    locked = (
        _lock_remaining(credential, now)
        if credential
        else await _unknown_lock_remaining(rt.cache, key)
    )
    if locked:
        _audit_failure(session, key, "locked", device)
        return LoginOutcome("locked", retry_after=locked)
    ok = checked.matches
    if credential is not None and credential.password_hash != checked.seen_hash:
        # The password changed between the check and now: check against the new one.
        ok = await verify_password_off_loop(credential.password_hash, password)
    if person is None or credential is None or not ok or not users.may_sign_in(person):
        reason = "unknown_account" if credential is None else "bad_password"
        if ok and person is not None:
            reason = "inactive"
        return await _failed(session, rt, key, credential, reason, device)
    _clear_failures(credential)
    if needs_rehash(credential.password_hash):
        credential.password_hash = await hash_password_off_loop(password)
    if await queries.totp_enabled(session, person.id):
        token = await _open_challenge(rt.cache, person.id, remember)
        return LoginOutcome("mfa_required", mfa_token=token)
    return await _signed_in(session, rt, person, credential, ["pwd"], remember, device)


async def _failed(
    session: AsyncSession,
    rt: Runtime,
    login: str,
    credential: Credential | None,
    reason: str,
    device: Device,
) -> LoginOutcome:
    _audit_failure(session, login, reason, device)
    locked_for = (
        _count_failure(session, rt, credential)
        if credential is not None
        else await _count_unknown_failure(rt, login)
    )
    if locked_for:
        return LoginOutcome("locked", retry_after=locked_for)
    return LoginOutcome("failed")


def _count_failure(session: AsyncSession, rt: Runtime, credential: Credential) -> int:
    """One more consecutive failure; locks the account at the threshold. Returns the lock's
    length in seconds when this failure locked it, else 0."""
    s = rt.settings
    now = clock.now()
    stale = (
        credential.last_failed_at is None
        or (now - credential.last_failed_at).total_seconds() > s.lockout_seconds
    )
    credential.failed_logins = 1 if stale else credential.failed_logins + 1
    credential.last_failed_at = now
    if credential.failed_logins < s.lockout_failures:
        return 0
    credential.locked_until = now + timedelta(seconds=s.lockout_seconds)
    credential.failed_logins = 0
    audit.record(
        session,
        "auth.account.locked",
        "person",
        credential.person_id,
        after={"until": credential.locked_until.isoformat(), "failures": s.lockout_failures},
    )
    return s.lockout_seconds


async def _count_unknown_failure(rt: Runtime, login: str) -> int:
    """The same lockout for names that are nobody's account: the answers must not differ."""
    s = rt.settings
    failures = await rt.cache.incr(f"auth:fail:{login}", 1, ttl=float(s.lockout_seconds))
    if failures < s.lockout_failures:
        return 0
    until = clock.now().timestamp() + s.lockout_seconds
    await rt.cache.set(f"auth:lock:{login}", str(until).encode(), float(s.lockout_seconds))
    await rt.cache.delete(f"auth:fail:{login}")
    return s.lockout_seconds


def _clear_failures(credential: Credential) -> None:
    credential.failed_logins = 0
    credential.last_failed_at = None
    credential.locked_until = None


def _audit_failure(session: AsyncSession, login: str, reason: str, device: Device) -> None:
    audit.record(
        session,
        "auth.login.failed",
        "login",
        login,
        after={"reason": reason, "user_agent": device.user_agent},
    )


async def _audit_throttled(session: AsyncSession, cache: Cache, login: str, device: Device) -> None:
    # Once per account and address per window: a flood of refused attempts is one entry.
    marker = f"auth:throttle-audited:{login}:{device.ip}"
    if await cache.set_if_absent(marker, b"1", 300.0):
        _audit_failure(session, login, "throttled", device)


async def _signed_in(
    session: AsyncSession,
    rt: Runtime,
    person: PersonRef,
    credential: Credential,
    amr: list[str],
    remember: bool,
    device: Device,
) -> LoginOutcome:
    pending = await pending_step(session, rt, person.id, credential, amr)
    opened = await do_open_session(
        session, rt, person.id, amr=amr, remember=remember, device=device, pending=pending
    )
    return LoginOutcome("signed_in", opened=opened)


async def pending_step(
    session: AsyncSession,
    rt: Runtime,
    person_id: int,
    credential: Credential | None,
    amr: Sequence[str],
) -> PendingStep | None:
    """What a new session must do before it carries permissions: change an initial password,
    or enrol a second factor when the person's role requires one."""
    if credential is not None and credential.must_change:
        return "change_password"
    if "otp" not in amr and await mfa_required(session, rt, person_id):
        return "enrol_mfa"
    return None


async def mfa_required(session: AsyncSession, rt: Runtime, person_id: int) -> bool:
    required = {r.strip() for r in rt.settings.mfa_required_roles.split(",") if r.strip()}
    if not required:
        return False
    return bool(required & set(await access.roles_of(session, person_id)))


# ---------------------------------------------------------------- the second factor at sign-in


def _challenge_key(token: str) -> str:
    return "auth:mfa:" + token_digest(token)


async def _open_challenge(cache: Cache, person_id: int, remember: bool) -> str:
    token = secrets.token_urlsafe(32)
    value = json.dumps({"person_id": person_id, "remember": remember}).encode()
    await cache.set(_challenge_key(token), value, float(MFA_CHALLENGE_SECONDS))
    return token


async def do_login_second_factor(
    session: AsyncSession, rt: Runtime, mfa_token: str, code: str, *, device: Device
) -> LoginOutcome:
    """Finish a sign-in whose password was right with a TOTP code or a recovery code."""
    key = _challenge_key(mfa_token)
    raw = await rt.cache.get(key)
    if raw is None:
        return LoginOutcome("expired")
    challenge = json.loads(raw)
    person = await users.get_person_ref(session, int(challenge["person_id"]))
    credential = await session.get(Credential, person.id) if person else None
    if person is None or credential is None or not users.may_sign_in(person):
        await rt.cache.delete(key)
        return LoginOutcome("expired")
    login = person.number or str(person.id)
    locked = _lock_remaining(credential, clock.now())
    if locked:
        await rt.cache.delete(key)
        _audit_failure(session, login, "locked", device)
        return LoginOutcome("locked", retry_after=locked)
    method = await verify_second_factor(session, rt, person.id, code)
    if method is None:
        outcome = await _failed(session, rt, login, credential, "bad_second_factor", device)
        tries = await rt.cache.incr(key + ":tries", 1, ttl=float(MFA_CHALLENGE_SECONDS))
        if tries < MFA_CHALLENGE_ATTEMPTS:
            return outcome
        # Out of attempts: the challenge is spent and the password must be entered again.
        await rt.cache.delete(key, key + ":tries")
        return outcome if outcome.status == "locked" else LoginOutcome("expired")
    await rt.cache.delete(key, key + ":tries")
    if method == "recovery_code":
        left = await queries.recovery_codes_left(session, person.id)
        audit.record(
            session, "auth.mfa.recovery_code_used", "person", person.id, after={"left": left}
        )
    _clear_failures(credential)
    return await _signed_in(
        session, rt, person, credential, ["pwd", "otp"], bool(challenge["remember"]), device
    )


async def verify_second_factor(
    session: AsyncSession, rt: Runtime, person_id: int, code: str
) -> Literal["totp", "recovery_code"] | None:
    """Accept a current TOTP code (once) or an unused recovery code (spent by this call)."""
    if totp.looks_like_recovery_code(code):
        return "recovery_code" if await _spend_recovery_code(session, rt, person_id, code) else None
    row = await session.get(Totp, person_id)
    if row is None or row.confirmed_at is None:
        return None
    seed = totp.decrypt_seed(rt.settings.secret_key, row.secret_encrypted)
    step = totp.matching_step(seed, code, row.last_step) if seed else None
    if step is None:
        return None
    # A conditional update: two requests presenting the same code cannot both succeed.
    result = await session.execute(
        update(Totp)
        .where(
            Totp.person_id == person_id,
            or_(Totp.last_step.is_(None), Totp.last_step < step),
        )
        .values(last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    return "totp" if (result.rowcount or 0) == 1 else None  # type: ignore[attr-defined]


async def _spend_recovery_code(
    session: AsyncSession, rt: Runtime, person_id: int, code: str
) -> bool:
    digest = _recovery_digest(rt, person_id, totp.normalise_recovery_code(code))
    # A conditional update: two requests spending the same code cannot both succeed.
    result = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.person_id == person_id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]


def _recovery_digest(rt: Runtime, person_id: int, code: str) -> str:
    return code_digest(rt.settings.secret_key, "recovery", person_id, code)


# ---------------------------------------------------------------- sessions


async def do_open_session(
    session: AsyncSession,
    rt: Runtime,
    person_id: int,
    *,
    amr: Sequence[str],
    remember: bool = False,
    device: Device,
    pending: PendingStep | None = None,
) -> OpenedSession:
    s = rt.settings
    lifetime = s.session_remember_seconds if remember else s.session_max_age_seconds
    token, row = await sessions.insert(
        session,
        person_id=person_id,
        amr=amr,
        lifetime_seconds=lifetime,
        remember=remember,
        pending=pending,
        user_agent=device.user_agent,
        ip=device.ip,
    )
    audit.record(
        session,
        "auth.login",
        "person",
        person_id,
        after={
            "session_id": row.sid,
            "amr": list(amr),
            "remember": remember,
            "user_agent": device.user_agent,
        },
    )
    return OpenedSession(
        token=token,
        session_id=row.sid,
        person_id=person_id,
        expires_at=row.expires_at,
        max_age=lifetime if remember else None,
        amr=list(amr),
        pending=pending,
    )


async def do_end_session(
    session: AsyncSession, cache: Cache, row: AuthSession, reason: str
) -> bool:
    """End one session (idempotent); announces ``auth.session.ended``."""
    if row.ended_at is not None:
        return False
    row.ended_at = clock.now()
    row.end_reason = reason
    await emit(
        session,
        SESSION_ENDED,
        SessionEnded(session_id=row.sid, person_id=row.person_id, reason=reason),
    )
    await sessions.forget(cache, row)
    return True


async def do_end_session_by_token(
    session: AsyncSession, cache: Cache, token: str, reason: str
) -> AuthSession | None:
    row = await session.scalar(
        select(AuthSession).where(AuthSession.token_hash == token_digest(token))
    )
    if row is None or not await do_end_session(session, cache, row, reason):
        return None
    return row


async def do_logout(session: AsyncSession, cache: Cache, token: str) -> None:
    row = await do_end_session_by_token(session, cache, token, "logout")
    if row is not None:
        audit.record(session, "auth.logout", "person", row.person_id, after={"session_id": row.sid})


async def do_end_sessions_of(
    session: AsyncSession,
    cache: Cache,
    person_id: int,
    reason: str,
    *,
    keep_sid: str | None = None,
) -> int:
    """End every live session of a person (but ``keep_sid``); returns how many ended."""
    ended = 0
    for row in await sessions.active_of(session, person_id):
        if row.sid != keep_sid and await do_end_session(session, cache, row, reason):
            ended += 1
    return ended


async def do_admin_end_sessions(session: AsyncSession, cache: Cache, person_id: int) -> int:
    ended = await do_end_sessions_of(session, cache, person_id, "admin")
    audit.record(
        session, "auth.sessions.ended_by_admin", "person", person_id, after={"ended": ended}
    )
    return ended


async def do_logout_everywhere(session: AsyncSession, cache: Cache, person_id: int) -> int:
    ended = await do_end_sessions_of(session, cache, person_id, "logout_everywhere")
    audit.record(session, "auth.logout_everywhere", "person", person_id, after={"ended": ended})
    return ended


async def check_own_session(session: AsyncSession, person_id: int, sid: str) -> AuthSession:
    """The person's own live session ``sid``; anybody else's is "not found" (no probing)."""
    row = await sessions.get(session, sid)
    if row is None or row.person_id != person_id or row.ended_at is not None:
        raise NotFound(_("没有这个登录设备，或它已退出"))
    return row


async def do_revoke_session(session: AsyncSession, cache: Cache, row: AuthSession) -> None:
    await do_end_session(session, cache, row, "revoked")
    audit.record(
        session, "auth.session.revoked", "person", row.person_id, after={"session_id": row.sid}
    )


async def do_expire_sessions(session: AsyncSession, cache: Cache) -> int:
    """End the sessions whose lifetime has run out (the scheduled job calls this)."""
    rows = await sessions.expired(session, clock.now(), EXPIRY_BATCH)
    for row in rows:
        await do_end_session(session, cache, row, "expired")
    return len(rows)


async def do_purge_ended_sessions(session: AsyncSession) -> int:
    """Forget sessions that ended more than ``SESSION_RETENTION_DAYS`` ago (the audit log
    keeps the sign-ins and sign-outs themselves)."""
    cutoff = clock.now() - timedelta(days=SESSION_RETENTION_DAYS)
    result = await session.execute(
        delete(AuthSession).where(AuthSession.ended_at.is_not(None), AuthSession.ended_at < cutoff)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def do_update_session(
    session: AsyncSession,
    cache: Cache,
    sid: str,
    *,
    pending: PendingStep | None,
    add_amr: str | None = None,
) -> None:
    """Change what a live session carries (a step completed, a factor added)."""
    row = await sessions.get(session, sid)
    if row is None or row.ended_at is not None:
        return
    row.pending = pending
    if add_amr and add_amr not in row.amr:
        row.amr = [*row.amr, add_amr]
    await sessions.invalidate(cache, row)


# ---------------------------------------------------------------- passwords


async def _account_names(session: AsyncSession, person_id: int) -> list[str]:
    detail = await users.person_detail(session, person_id, users.PersonAccess.FULL)
    if detail is None:
        return []
    names = [detail.number, detail.student_no, detail.staff_no, detail.phone, detail.email]
    return [n for n in names if n]


async def check_password_change(
    session: AsyncSession, rt: Runtime, person_id: int, current: str, new: str
) -> Credential:
    guesses = await rt.cache.hit(f"auth:pwchange:{person_id}", 10, 900.0)
    if not guesses.allowed:
        raise TooManyRequests(_("尝试次数过多，请稍后再试"))
    credential = await session.get(Credential, person_id)
    if credential is None or not await verify_password_off_loop(credential.password_hash, current):
        raise InvalidInput.on("current_password", _("当前密码不正确"))
    if new == current:
        raise InvalidInput.on("new_password", _("新密码不能与当前密码相同"))
    check_policy(new, await _account_names(session, person_id), field="new_password")
    return credential


async def do_change_password(
    session: AsyncSession,
    rt: Runtime,
    credential: Credential,
    new: str,
    *,
    current_sid: str | None,
) -> int:
    """Set the new password; every other session of the person ends. Returns how many."""
    _set_hash(credential, await hash_password_off_loop(new), must_change=False)
    ended = await do_end_sessions_of(
        session, rt.cache, credential.person_id, "password_changed", keep_sid=current_sid
    )
    if current_sid is not None:
        row = await sessions.get(session, current_sid)
        if row is not None and row.pending == "change_password":
            step = await pending_step(session, rt, credential.person_id, credential, row.amr)
            await do_update_session(session, rt.cache, current_sid, pending=step)
    audit.record(
        session,
        "auth.password.changed",
        "person",
        credential.person_id,
        after={"sessions_ended": ended},
    )
    return ended


def _set_hash(credential: Credential, password_hash: str, *, must_change: bool) -> None:
    credential.password_hash = password_hash
    credential.must_change = must_change
    credential.updated_at = clock.now()
    _clear_failures(credential)


async def check_admin_reset(
    session: AsyncSession, person_id: int, password: str | None
) -> PersonRef:
    person = await users.get_person_ref(session, person_id)
    if person is None:
        raise NotFound(_("没有这个人员"))
    if password is not None:
        check_policy(password, await _account_names(session, person_id), field="password")
    return person


async def do_admin_reset_password(
    session: AsyncSession, cache: Cache, person: PersonRef, password: str | None
) -> tuple[str | None, int]:
    """Set a temporary password the person must change; ends their sessions. Returns the
    generated password (None when the administrator chose one) and the sessions ended."""
    generated = temporary_password() if password is None else None
    chosen = password if password is not None else generated
    assert chosen is not None
    credential = await session.get(Credential, person.id)
    if credential is None:
        credential = Credential(person_id=person.id, password_hash="", updated_at=clock.now())
        session.add(credential)
    _set_hash(credential, await hash_password_off_loop(chosen), must_change=True)
    ended = await do_end_sessions_of(session, cache, person.id, "password_reset")
    audit.record(
        session,
        "auth.password.reset",
        "person",
        person.id,
        after={"generated": generated is not None, "sessions_ended": ended},
    )
    return generated, ended


async def do_unlock(session: AsyncSession, person_id: int) -> None:
    credential = await session.get(Credential, person_id)
    if credential is None:
        raise NotFound(_("该人员还没有登录密码"))
    before = {
        "locked_until": credential.locked_until.isoformat() if credential.locked_until else None
    }
    _clear_failures(credential)
    audit.record(session, "auth.account.unlocked", "person", person_id, before=before)


# ---------------------------------------------------------------- reset by verification code


@dataclass(frozen=True)
class CodeDelivery:
    """A code to send after the transaction commits (it is never stored in clear)."""

    channel: channels.CodeChannel
    address: str
    code: str
    ttl_minutes: int


async def check_reset_code_request(rt: Runtime, login: str) -> None:
    key = _normalise_login(login)
    ip = context.current().ip or "unknown"
    limits = (
        await rt.cache.hit(f"auth:resetcode:acct:{key}", 1, float(RESET_CODE_INTERVAL_SECONDS)),
        await rt.cache.hit(f"auth:resetcode:acct-hour:{key}", RESET_CODES_PER_HOUR, 3600.0),
        await rt.cache.hit(f"auth:resetcode:ip:{ip}", RESET_REQUESTS_PER_IP_HOUR, 3600.0),
    )
    blocked = [d for d in limits if not d.allowed]
    if blocked:
        wait = int(max(d.retry_after for d in blocked)) + 1
        raise TooManyRequests(
            _("获取验证码过于频繁，请 {seconds} 秒后再试", seconds=wait),
            extra={"retry_after": wait},
        )


async def do_request_reset_code(
    session: AsyncSession, rt: Runtime, login: str, channel_name: str
) -> CodeDelivery | None:
    """Issue a code when the account exists, is active and has an address for the channel.

    The caller answers the same in every case (no account enumeration) and sends the code
    after the commit, so that timing does not tell either.
    """
    channel = channels.available_channels(rt.settings).get(channel_name)
    person = await users.find_person_by_login(session, login)
    if person is None or not users.may_sign_in(person) or channel is None:
        audit.record(
            session,
            "auth.reset_code.refused",
            "login",
            _normalise_login(login),
            after={"channel": channel_name},
        )
        return None
    detail = await users.person_detail(session, person.id, users.PersonAccess.FULL)
    address = channel.address_of(detail) if detail else None
    if address is None:
        audit.record(
            session,
            "auth.reset_code.refused",
            "person",
            person.id,
            after={"channel": channel_name, "reason": "no_address"},
        )
        return None
    now = clock.now()
    # A new code voids the older ones.
    await session.execute(
        update(ResetCode)
        .where(
            ResetCode.person_id == person.id,
            ResetCode.used_at.is_(None),
            ResetCode.expires_at > now,
        )
        .values(expires_at=now)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    ttl = rt.settings.reset_code_ttl_seconds
    session.add(
        ResetCode(
            person_id=person.id,
            channel=channel.name,
            code_hash=code_digest(rt.settings.secret_key, "reset", person.id, code),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
            attempts=0,
        )
    )
    audit.record(
        session,
        "auth.reset_code.sent",
        "person",
        person.id,
        after={"channel": channel.name, "address": channels.mask_address(address)},
    )
    return CodeDelivery(channel, address, code, max(1, ttl // 60))


async def deliver_code(delivery: CodeDelivery, site: str) -> None:
    """Send a code; a failure is logged (the person may ask again), never shown."""
    try:
        await delivery.channel.send_code(
            delivery.address, delivery.code, delivery.ttl_minutes, site
        )
    except Exception:
        log.exception("reset_code_delivery_failed", channel=delivery.channel.name)


async def check_reset_code_confirm(rt: Runtime, login: str, new_password: str) -> None:
    key = _normalise_login(login)
    tries = await rt.cache.hit(f"auth:resetconfirm:{key}", RESET_CONFIRMS_PER_ACCOUNT, 900.0)
    if not tries.allowed:
        raise TooManyRequests(
            _("尝试次数过多，请稍后再试"), extra={"retry_after": int(tries.retry_after) + 1}
        )
    # The rules that need nothing but what was typed come first: they reveal nothing.
    check_policy(new_password, [login], field="new_password")


async def do_confirm_reset_code(
    session: AsyncSession, rt: Runtime, login: str, code: str, new_password: str
) -> bool:
    """Set a new password with a valid code; False (with the attempt counted) otherwise.

    A wrong, expired, spent or unknown code, or an unknown account, all answer the same.
    """
    person = await users.find_person_by_login(session, login)
    row = await _live_reset_code(session, person.id) if person else None
    if person is None or row is None:
        audit.record(
            session,
            "auth.reset_code.failed",
            "login",
            _normalise_login(login),
            after={"reason": "no_live_code"},
        )
        return False
    expected = code_digest(rt.settings.secret_key, "reset", person.id, code.strip())
    if not digests_equal(expected, row.code_hash):
        row.attempts += 1
        audit.record(
            session,
            "auth.reset_code.failed",
            "person",
            person.id,
            after={"reason": "wrong_code", "attempts": row.attempts},
        )
        return False
    check_policy(new_password, await _account_names(session, person.id), field="new_password")
    row.used_at = clock.now()
    credential = await session.get(Credential, person.id)
    if credential is None:
        credential = Credential(person_id=person.id, password_hash="", updated_at=clock.now())
        session.add(credential)
    _set_hash(credential, await hash_password_off_loop(new_password), must_change=False)
    ended = await do_end_sessions_of(session, rt.cache, person.id, "password_reset")
    audit.record(
        session,
        "auth.password.reset_by_code",
        "person",
        person.id,
        after={"channel": row.channel, "sessions_ended": ended},
    )
    return True


async def _live_reset_code(session: AsyncSession, person_id: int) -> ResetCode | None:
    return await session.scalar(
        select(ResetCode)
        .where(
            ResetCode.person_id == person_id,
            ResetCode.used_at.is_(None),
            ResetCode.expires_at > clock.now(),
            ResetCode.attempts < RESET_CODE_ATTEMPTS,
        )
        .order_by(ResetCode.id.desc())
        .limit(1)
    )


# ---------------------------------------------------------------- TOTP enrolment


async def do_start_totp(
    session: AsyncSession, rt: Runtime, person_id: int, account: str
) -> TotpEnrolmentOut:
    """A new, unconfirmed seed (replacing an unconfirmed one) and its QR code."""
    row = await session.get(Totp, person_id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict.on("totp", _("已启用两步验证；如需更换手机，请先停用再重新绑定"))
    seed = totp.new_seed()
    sealed = totp.encrypt_seed(rt.settings.secret_key, seed)
    if row is None:
        session.add(Totp(person_id=person_id, secret_encrypted=sealed, created_at=clock.now()))
    else:
        row.secret_encrypted, row.created_at, row.last_step = sealed, clock.now(), None
    uri = totp.provisioning_uri(seed, account, rt.settings.site_name)
    return TotpEnrolmentOut(secret=seed, otpauth_uri=uri, qr_data_uri=totp.qr_data_uri(uri))


async def _check_code_rate(rt: Runtime, person_id: int) -> None:
    decision = await rt.cache.hit(f"auth:totpcheck:{person_id}", CODE_CHECKS_PER_PERSON, 300.0)
    if not decision.allowed:
        raise TooManyRequests(
            _("尝试次数过多，请稍后再试"), extra={"retry_after": int(decision.retry_after) + 1}
        )


async def check_totp_confirm(
    session: AsyncSession, rt: Runtime, person_id: int, code: str
) -> tuple[Totp, int]:
    await _check_code_rate(rt, person_id)
    row = await session.get(Totp, person_id)
    if row is None or row.confirmed_at is not None:
        raise Conflict.on("code", _("没有待确认的两步验证绑定，请重新开始"))
    seed = totp.decrypt_seed(rt.settings.secret_key, row.secret_encrypted)
    step = totp.matching_step(seed, code, row.last_step) if seed else None
    if step is None:
        raise InvalidInput.on("code", _("验证码不正确或已过期，请输入手机上当前显示的 6 位数字"))
    return row, step


async def do_confirm_totp(
    session: AsyncSession, rt: Runtime, row: Totp, step: int, *, current_sid: str | None
) -> list[str]:
    """Switch the second factor on; returns the new recovery codes (shown once)."""
    row.confirmed_at = clock.now()
    row.last_step = step
    codes = await _replace_recovery_codes(session, rt, row.person_id)
    if current_sid is not None:
        current = await sessions.get(session, current_sid)
        pending: PendingStep | None = (
            "change_password" if current and current.pending == "change_password" else None
        )
        await do_update_session(session, rt.cache, current_sid, pending=pending, add_amr="otp")
    audit.record(session, "auth.mfa.enabled", "person", row.person_id)
    return codes


async def _replace_recovery_codes(session: AsyncSession, rt: Runtime, person_id: int) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.person_id == person_id))
    codes = totp.new_recovery_codes()
    now = clock.now()
    session.add_all(
        RecoveryCode(
            person_id=person_id, code_hash=_recovery_digest(rt, person_id, c), created_at=now
        )
        for c in codes
    )
    return codes


async def do_regenerate_recovery_codes(
    session: AsyncSession, rt: Runtime, person_id: int, code: str
) -> list[str]:
    await _check_code_rate(rt, person_id)
    row = await session.get(Totp, person_id)
    if row is None or row.confirmed_at is None:
        raise Conflict.on("code", _("尚未启用两步验证"))
    seed = totp.decrypt_seed(rt.settings.secret_key, row.secret_encrypted)
    step = totp.matching_step(seed, code, row.last_step) if seed else None
    if step is None:
        raise InvalidInput.on("code", _("验证码不正确或已过期，请输入手机上当前显示的 6 位数字"))
    row.last_step = step
    codes = await _replace_recovery_codes(session, rt, person_id)
    audit.record(session, "auth.mfa.recovery_codes_renewed", "person", person_id)
    return codes


async def check_totp_disable(
    session: AsyncSession, rt: Runtime, person_id: int, password: str
) -> None:
    await _check_code_rate(rt, person_id)
    credential = await session.get(Credential, person_id)
    if credential is None or not await verify_password_off_loop(credential.password_hash, password):
        raise InvalidInput.on("password", _("密码不正确"))
    if not await queries.totp_enabled(session, person_id):
        raise Conflict.on("password", _("尚未启用两步验证"))
    if await mfa_required(session, rt, person_id):
        raise Forbidden(_("您的角色要求使用两步验证，不能停用"))


async def do_remove_totp(session: AsyncSession, person_id: int, *, by_admin: bool) -> bool:
    result = await session.execute(delete(Totp).where(Totp.person_id == person_id))
    await session.execute(delete(RecoveryCode).where(RecoveryCode.person_id == person_id))
    removed = (result.rowcount or 0) > 0  # type: ignore[attr-defined]
    action = "auth.mfa.reset" if by_admin else "auth.mfa.disabled"
    audit.record(session, action, "person", person_id, after={"removed": removed})
    return removed
