"""The steps of QR-code login: create a challenge (desktop), open and decide it (phone), and
trade the confirmation for a session (desktop)."""

from __future__ import annotations

import hmac
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, context
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, Forbidden, NotFound, Problem, TooManyRequests
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.auth import service as auth
from campus.platform.auth.qr import challenges
from campus.platform.auth.qr.challenges import Challenge, QrState, Snapshot
from campus.platform.auth.schemas import OpenedSession
from campus.platform.users import service as users

# Challenges cost a cache entry each: one address may ask for this many per window.
CHALLENGES_PER_IP = 30
CHALLENGE_WINDOW_SECONDS = 60.0
# Each event stream holds a pub/sub subscription: reconnects included, a challenge gets this many.
STREAMS_PER_CHALLENGE = 20
USER_AGENT_MAX = 300
AMR = ("qr",)


class Gone(Problem):
    status = 410
    slug = "gone"
    title = _("已失效")


UNKNOWN_CHALLENGE = _("二维码无效或已失效，请在电脑上刷新二维码")
EXPIRED_CHALLENGE = _("二维码已过期，请在电脑上刷新二维码")
USED_CHALLENGE = _("该二维码已被使用，请在电脑上刷新二维码")
SCANNED_BY_OTHER = _("该二维码已被其他账号扫描")
NOT_SCANNED = _("请先扫描二维码，查看登录请求后再确认")
WRONG_BROWSER = _("请在显示该二维码的浏览器上完成登录")
DENIED = _("登录请求已在手机上被拒绝")
NOT_CONFIRMED = _("手机尚未确认登录")
CONFIRMATION_EXPIRED = _("登录确认已过期，请重新扫码")
BAD_TOKEN = _("登录凭证无效")
TOKEN_USED = _("登录凭证已被使用")
ACCOUNT_UNAVAILABLE = _("该账号当前不能登录")


async def check_create_allowed(rt: Runtime) -> None:
    ip = context.current().ip or "unknown"
    decision = await rt.cache.hit(f"qr:create:{ip}", CHALLENGES_PER_IP, CHALLENGE_WINDOW_SECONDS)
    if not decision.allowed:
        wait = int(decision.retry_after) + 1
        raise TooManyRequests(
            _("获取二维码过于频繁，请 {seconds} 秒后再试", seconds=wait),
            extra={"retry_after": wait},
        )


async def do_create_challenge(
    rt: Runtime, *, browser_secret: str, user_agent: str, next_path: str
) -> tuple[str, Challenge]:
    """A pending challenge bound to the asking browser; returns its secret and record."""
    await check_create_allowed(rt)
    return await challenges.create(
        rt.cache,
        ip=context.current().ip,
        user_agent=user_agent[:USER_AGENT_MAX],
        browser_secret=browser_secret,
        next_path=next_path,
    )


async def check_open(rt: Runtime, secret: str, person_id: int) -> Snapshot:
    """The challenge, still waiting for a decision and not claimed by someone else."""
    snapshot = await challenges.load(rt.cache, secret)
    if snapshot is None:
        raise NotFound(UNKNOWN_CHALLENGE)
    state = snapshot.state(challenges.now())
    if state is QrState.EXPIRED:
        raise Gone(EXPIRED_CHALLENGE)
    if state in (QrState.CONFIRMED, QrState.DENIED):
        raise Conflict(USED_CHALLENGE)
    if snapshot.scan is not None and snapshot.scan.person_id != person_id:
        raise Conflict(SCANNED_BY_OTHER)
    return snapshot


async def do_scan(rt: Runtime, secret: str, principal: Principal) -> Snapshot:
    """The phone opened the QR code's URL: the desktop learns it has been scanned."""
    snapshot = await check_open(rt, secret, principal.person_id)
    if snapshot.scan is not None:
        return snapshot
    scan = await challenges.claim_scan(rt.cache, snapshot.challenge, principal.person_id)
    if scan.person_id != principal.person_id:
        raise Conflict(SCANNED_BY_OTHER)
    await challenges.announce(rt.cache, snapshot.challenge.digest, QrState.SCANNED)
    return replace(snapshot, scan=scan)


async def do_decide(
    session: AsyncSession, rt: Runtime, secret: str, principal: Principal, *, confirm: bool
) -> QrState:
    """The phone's owner confirms or denies; only the first decision counts."""
    snapshot = await check_open(rt, secret, principal.person_id)
    if snapshot.scan is None:
        raise Conflict(NOT_SCANNED)
    challenge = snapshot.challenge
    if not await challenges.decide(rt.cache, challenge, principal.person_id, confirm):
        raise Conflict(USED_CHALLENGE)
    state = QrState.CONFIRMED if confirm else QrState.DENIED
    audit.record(
        session,
        f"auth.qr.{state.value}",
        "person",
        principal.person_id,
        after={"desktop_ip": challenge.ip, "desktop_user_agent": challenge.user_agent},
    )
    await challenges.announce(rt.cache, challenge.digest, state)
    return state


async def check_stream_allowed(rt: Runtime, challenge: Challenge) -> None:
    if await challenges.count_stream(rt.cache, challenge) > STREAMS_PER_CHALLENGE:
        raise TooManyRequests(_("连接次数过多，请刷新二维码"))


def check_bound_browser(snapshot: Snapshot, browser_secret: str | None) -> None:
    """Only the browser that showed the QR code may follow or redeem it."""
    supplied = challenges.digest_of(browser_secret) if browser_secret else ""
    if not hmac.compare_digest(supplied, snapshot.challenge.browser):
        raise Forbidden(WRONG_BROWSER, extra={"reason": "wrong_browser"})


async def check_exchange(
    rt: Runtime, secret: str, token: str, browser_secret: str | None
) -> Snapshot:
    snapshot = await challenges.load(rt.cache, secret)
    if snapshot is None:
        raise NotFound(UNKNOWN_CHALLENGE, extra={"reason": "unknown"})
    check_bound_browser(snapshot, browser_secret)
    now = challenges.now()
    state = snapshot.state(now)
    if state is QrState.DENIED:
        raise Forbidden(DENIED, extra={"reason": "denied"})
    if state is QrState.EXPIRED:
        raise Gone(EXPIRED_CHALLENGE, extra={"reason": "expired"})
    if state is not QrState.CONFIRMED or snapshot.decision is None:
        raise Conflict(NOT_CONFIRMED, extra={"reason": "not_confirmed"})
    if not snapshot.exchange_open(now):
        raise Gone(CONFIRMATION_EXPIRED, extra={"reason": "expired"})
    expected = challenges.exchange_token(
        rt.settings.secret_key, snapshot.challenge.digest, snapshot.decision.nonce
    )
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise Forbidden(BAD_TOKEN, extra={"reason": "bad_token"})
    if snapshot.used:
        raise Conflict(TOKEN_USED, extra={"reason": "replayed"})
    return snapshot


async def do_exchange(
    session: AsyncSession,
    rt: Runtime,
    secret: str,
    token: str,
    *,
    browser_secret: str | None,
    user_agent: str | None,
) -> tuple[OpenedSession, str] | Problem:
    """Trade a confirmed challenge for a session of the person who confirmed it.

    Returns the new session and where to go next, or the problem. A refusal is returned rather
    than raised, so that its audit entry commits.
    """
    try:
        snapshot = await check_exchange(rt, secret, token, browser_secret)
        assert snapshot.decision is not None
        person = await users.get_person_ref(session, snapshot.decision.person_id)
        if person is None or not users.may_sign_in(person):
            raise Forbidden(ACCOUNT_UNAVAILABLE, extra={"reason": "account_unavailable"})
        if not await challenges.consume(rt.cache, snapshot.challenge):
            raise Conflict(TOKEN_USED, extra={"reason": "replayed"})
    except Problem as refused:
        audit.record(
            session,
            "auth.qr.exchange.failed",
            "auth_qr_challenge",
            challenges.digest_of(secret)[:16],
            after={"reason": refused.extra.get("reason", refused.slug)},
        )
        return refused
    # Signing in again in a browser replaces the session its cookie held, as with a password.
    previous = context.current().principal
    if previous is not None and previous.session_id:
        await auth.end_session(session, rt.cache, previous.session_id, "relogin")
    # The session follows the rules of a password sign-in (an initial password still to change,
    # a required second factor to enrol); opening it is audited as auth.login with amr ["qr"].
    opened = await auth.open_session(
        session, rt, person.id, amr=AMR, user_agent=user_agent, ip=context.current().ip
    )
    return opened, snapshot.challenge.next
