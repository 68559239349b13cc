"""Sign-in and sign-out."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, context
from campus.kernel.errors import TooManyRequests
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.auth.models import Credential
from campus.platform.auth.passwords import hash_password, needs_rehash, verify_password
from campus.platform.auth.sessions import (
    SessionData,
    create_session,
    end_session,
    new_session_data,
)
from campus.platform.users import service as users

# Guessing is slowed per account and per address; real lockout policy comes with SSO.
ATTEMPTS_PER_ACCOUNT = 10
ATTEMPTS_PER_IP = 60
WINDOW_SECONDS = 300.0


async def check_login_allowed(rt: Runtime, login: str) -> None:
    ip = context.current().ip or "unknown"
    per_account = await rt.cache.hit(f"login:acct:{login}", ATTEMPTS_PER_ACCOUNT, WINDOW_SECONDS)
    per_ip = await rt.cache.hit(f"login:ip:{ip}", ATTEMPTS_PER_IP, WINDOW_SECONDS)
    if not (per_account.allowed and per_ip.allowed):
        wait = int(max(per_account.retry_after, per_ip.retry_after)) + 1
        raise TooManyRequests(
            _("登录尝试过多，请 {seconds} 秒后再试", seconds=wait), extra={"retry_after": wait}
        )


async def do_login(
    session: AsyncSession, rt: Runtime, login: str, password: str
) -> tuple[str, SessionData] | None:
    """Verify the password and open a session; returns the cookie token and the session, or None.

    A failure returns rather than raises, so that its audit entry commits.
    """
    await check_login_allowed(rt, login)
    person = await users.find_person_by_login(session, login)
    credential = await session.get(Credential, person.id) if person else None
    ok = verify_password(credential.password_hash if credential else None, password)
    if person is None or credential is None or not ok or person.status not in ("active",):
        audit.record(session, "auth.login.failed", "login", login[:64])
        return None
    if needs_rehash(credential.password_hash):
        credential.password_hash = hash_password(password)
    audit.record(session, "auth.login", "person", person.id)
    data = new_session_data(person.id, person.name, person.number or login)
    token = await create_session(rt.cache, data, rt.settings.session_max_age_seconds)
    return token, data


async def do_logout(session: AsyncSession, rt: Runtime, token: str) -> None:
    await end_session(rt.cache, token)
    audit.record(session, "auth.logout", "person", context.actor_id())


LOGIN_FAILED = _("账号或密码错误")
