"""Writes of the CAS server: the service registry, and tickets issued, claimed and revoked.

Tickets are random (``secrets``), stored only as SHA-256 digests, bound to the service URL they
were issued for and short-lived. A service or proxy ticket is claimed by one conditional
UPDATE (``consumed_at IS NULL``): whichever validation wins that UPDATE gets the ticket, every
other one finds it used, on one process or many, SQLite or PostgreSQL. A claim counts whether
or not the validation then succeeds (the specification wants every ticket tried once only).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.db import Database
from campus.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.auth.cas import queries, urls
from campus.platform.auth.cas.models import CasService, CasTicket
from campus.platform.auth.cas.protocol import Code, Failure
from campus.platform.auth.cas.schemas import CasServiceIn, CasServiceOut, CasServicePatch

log = structlog.get_logger(__name__)

ALPHABET = string.ascii_letters + string.digits
# Total lengths within what the specification says every client must accept.
SERVICE_TICKET_LENGTH = 32
GRANTING_TICKET_LENGTH = 64
TICKET_SHAPE = re.compile(r"^[A-Za-z]{2,6}-[A-Za-z0-9-]{8,250}$")
SERVICE_TICKET, PROXY_TICKET, PROXY_GRANTING_TICKET = "ST", "PT", "PGT"
AUDIT_TEXT_LIMIT = 300


def new_ticket(prefix: str, length: int) -> str:
    """``prefix-`` and random letters and digits, ``length`` characters in all."""
    head = f"{prefix}-"
    return head + "".join(secrets.choice(ALPHABET) for _ in range(length - len(head)))


def digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def _shown(ticket: str) -> str:
    """A ticket as failures and the audit log mention it: bounded, never a whole live ticket."""
    return ticket[:12] + "…" if len(ticket) > 12 else ticket


def _clip(text: str) -> str:
    return text[:AUDIT_TEXT_LIMIT]


# ---------------------------------------------------------------- the service registry


async def check_service(
    session: AsyncSession, data: CasServiceIn, except_id: int | None = None
) -> None:
    errors = []
    problem = urls.check_pattern(data.match_kind, data.url_pattern)
    if problem is not None:
        errors.append(FieldError("url_pattern", problem))
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    if await queries.name_taken(session, data.name.strip(), except_id):
        raise Conflict.on("name", _("已有同名的应用"))


async def do_create_service(session: AsyncSession, data: CasServiceIn) -> CasServiceOut:
    await check_service(session, data)
    now = clock.now()
    row = CasService(**_values(data), created_at=now, updated_at=now)
    session.add(row)
    await session.flush()
    out = CasServiceOut.model_validate(row)
    audit.record(session, "auth.cas.service.create", "cas_service", row.id, after=_audit(out))
    return out


async def do_update_service(
    session: AsyncSession, service_id: int, patch: CasServicePatch
) -> CasServiceOut:
    row = await _service_row(session, service_id)
    before = CasServiceOut.model_validate(row)
    merged = CasServiceIn.model_validate(
        {
            **before.model_dump(include=set(CasServiceIn.model_fields)),
            **patch.model_dump(exclude_unset=True, exclude_none=True),
        }
    )
    await check_service(session, merged, except_id=service_id)
    for key, value in _values(merged).items():
        setattr(row, key, value)
    row.updated_at = clock.now()
    await session.flush()
    after = CasServiceOut.model_validate(row)
    audit.record(
        session,
        "auth.cas.service.update",
        "cas_service",
        service_id,
        before=_audit(before),
        after=_audit(after),
    )
    return after


async def do_delete_service(session: AsyncSession, service_id: int) -> None:
    row = await _service_row(session, service_id)
    before = _audit(CasServiceOut.model_validate(row))
    await session.execute(delete(CasTicket).where(CasTicket.service_id == service_id))
    await session.delete(row)
    audit.record(session, "auth.cas.service.delete", "cas_service", service_id, before=before)


async def _service_row(session: AsyncSession, service_id: int) -> CasService:
    row = await session.get(CasService, service_id)
    if row is None:
        raise NotFound(_("CAS 应用 {id} 不存在", id=service_id))
    return row


def _values(data: CasServiceIn) -> dict[str, object]:
    values = data.model_dump()
    values["name"] = data.name.strip()
    values["match_kind"] = data.match_kind.value
    values["url_pattern"] = data.url_pattern.strip()
    values["released_attributes"] = list(dict.fromkeys(a.value for a in data.released_attributes))
    return values


def _audit(service: CasServiceOut) -> dict[str, object]:
    return service.model_dump(mode="json", exclude={"created_at", "updated_at"})


# ---------------------------------------------------------------- issuing tickets


@dataclass(frozen=True)
class Grant:
    """Who a ticket is for, from which SSO session, and how they signed in."""

    person_id: int
    user: str
    session_id: str
    authenticated_at: datetime
    from_new_login: bool
    long_term: bool


async def do_issue_service_ticket(
    session: AsyncSession, rt: Runtime, service_url: str, service: CasServiceOut, grant: Grant
) -> str:
    ticket = new_ticket(SERVICE_TICKET, SERVICE_TICKET_LENGTH)
    _add_ticket(session, rt, ticket, SERVICE_TICKET, service_url, service.id, grant)
    audit.record(
        session,
        "auth.cas.login",
        "person",
        grant.person_id,
        after={
            "service": _clip(service_url),
            "service_id": service.id,
            "renew": grant.from_new_login,
        },
    )
    return ticket


def _add_ticket(
    session: AsyncSession,
    rt: Runtime,
    ticket: str,
    kind: str,
    service_url: str,
    service_id: int,
    grant: Grant,
    *,
    proxies: list[str] | None = None,
    parent_id: str | None = None,
    lifetime: float | None = None,
) -> CasTicket:
    now = clock.now()
    seconds = lifetime if lifetime is not None else rt.settings.cas_service_ticket_seconds
    row = CasTicket(
        id=digest(ticket),
        kind=kind,
        service=service_url,
        service_id=service_id,
        person_id=grant.person_id,
        user=grant.user,
        session_id=grant.session_id,
        from_new_login=grant.from_new_login,
        long_term=grant.long_term,
        authenticated_at=grant.authenticated_at,
        proxies=proxies or [],
        parent_id=parent_id,
        created_at=now,
        expires_at=now + timedelta(seconds=seconds),
    )
    session.add(row)
    return row


def grant_of(ticket: CasTicket, *, from_new_login: bool | None = None) -> Grant:
    return Grant(
        person_id=ticket.person_id,
        user=ticket.user,
        session_id=ticket.session_id,
        authenticated_at=ticket.authenticated_at,
        from_new_login=ticket.from_new_login if from_new_login is None else from_new_login,
        long_term=ticket.long_term,
    )


# ---------------------------------------------------------------- validating tickets


@dataclass(frozen=True)
class Validated:
    """A ticket that passed validation (a detached copy of its row) and its service."""

    ticket: CasTicket
    service: CasServiceOut


@dataclass(frozen=True)
class ValidationRequest:
    endpoint: str
    ticket: str
    service_url: str
    renew: bool
    accept_proxy_tickets: bool


async def validate(db: Database, request: ValidationRequest) -> Validated | Failure:
    """Claim the ticket and check it, in a transaction of its own that commits either way."""
    async with db.transaction() as session:
        result = await do_validate(session, request)
        if isinstance(result, Failure):
            audit_failure(session, request.endpoint, request.ticket, request.service_url, result)
        else:
            session.expunge(result.ticket)
    return result


async def do_validate(session: AsyncSession, request: ValidationRequest) -> Validated | Failure:
    ticket = request.ticket
    if not TICKET_SHAPE.match(ticket):
        return Failure(Code.INVALID_TICKET, str(_("票据 {t} 格式不正确", t=_shown(ticket))))
    row = await _claim(session, ticket)
    if row is None:
        return await _unclaimable(session, ticket)
    if row.expires_at <= clock.now():
        return Failure(Code.INVALID_TICKET, str(_("票据 {t} 已过期", t=_shown(ticket))))
    if row.kind == PROXY_TICKET and not request.accept_proxy_tickets:
        return Failure(
            Code.INVALID_TICKET_SPEC,
            str(_("票据 {t} 是代理票据，请使用 proxyValidate 校验", t=_shown(ticket))),
        )
    if not urls.same_service(row.service, request.service_url):
        return Failure(
            Code.INVALID_SERVICE,
            str(_("票据 {t} 不是为该 service 签发的，票据已作废", t=_shown(ticket))),
        )
    service = await queries.get_service(session, row.service_id)
    if service is None or not service.enabled:
        return Failure(Code.INVALID_SERVICE, str(_("该应用未注册或已停用")))
    if request.renew and not row.from_new_login:
        return Failure(
            Code.INVALID_TICKET,
            str(_("票据 {t} 来自单点登录会话，而校验要求重新输入凭据（renew）", t=_shown(ticket))),
        )
    return Validated(ticket=row, service=service)


async def _claim(session: AsyncSession, ticket: str) -> CasTicket | None:
    """Mark the service or proxy ticket used; None if it is unknown or was used already."""
    claimed = await session.scalars(
        update(CasTicket)
        .where(
            CasTicket.id == digest(ticket),
            CasTicket.kind.in_((SERVICE_TICKET, PROXY_TICKET)),
            CasTicket.consumed_at.is_(None),
        )
        .values(consumed_at=clock.now(), session_index=ticket[:64])
        .returning(CasTicket),
        execution_options={"synchronize_session": False},
    )
    return claimed.one_or_none()


async def _unclaimable(session: AsyncSession, ticket: str) -> Failure:
    row = await queries.ticket_by_digest(session, digest(ticket))
    if row is not None and row.kind != PROXY_GRANTING_TICKET:
        return Failure(Code.INVALID_TICKET, str(_("票据 {t} 已被使用过", t=_shown(ticket))))
    return Failure(Code.INVALID_TICKET, str(_("票据 {t} 无法识别", t=_shown(ticket))))


def audit_failure(
    session: AsyncSession, endpoint: str, ticket: str, service_url: str, failure: Failure
) -> None:
    audit.record(
        session,
        "auth.cas.validate.failed",
        "cas_ticket",
        _shown(ticket) if ticket else None,
        after={"endpoint": endpoint, "code": failure.code.value, "service": _clip(service_url)},
    )


# ---------------------------------------------------------------- proxy granting


def check_proxy_callback(rt: Runtime, service: CasServiceOut, pgt_url: str) -> Failure | None:
    """The service may proxy, and the callback is a URL of that same service."""
    if not service.proxy_allowed:
        return Failure(Code.UNAUTHORIZED_SERVICE_PROXY, str(_("该应用未获准使用代理认证")))
    schemes = {s.strip().lower() for s in rt.settings.cas_callback_schemes.split(",") if s}
    canonical = urls.canonical_url(pgt_url, schemes)
    if canonical is None or not urls.matches(service.match_kind, service.url_pattern, canonical):
        return Failure(
            Code.INVALID_PROXY_CALLBACK,
            str(_("代理回调地址不可接受：须为 HTTPS，且属于该应用的注册网址")),
        )
    return None


async def grant_proxy(rt: Runtime, validated: Validated, pgt_url: str) -> str | Failure:
    """Hand a new PGT to the service's callback; returns its IOU once the callback said 200.

    The callback is called outside any transaction: no database lock waits on another site.
    """
    problem = check_proxy_callback(rt, validated.service, pgt_url)
    if problem is None:
        pgt = new_ticket(PROXY_GRANTING_TICKET, GRANTING_TICKET_LENGTH)
        iou = new_ticket("PGTIOU", GRANTING_TICKET_LENGTH)
        if await deliver_pgt(rt, pgt_url, pgt, iou):
            async with rt.db.transaction() as session:
                do_store_pgt(session, rt, validated, pgt, pgt_url)
            return iou
        problem = Failure(
            Code.INVALID_PROXY_CALLBACK, str(_("代理回调地址未以 200 应答，未签发代理授权票据"))
        )
    async with rt.db.transaction() as session:
        audit_failure(session, "pgtUrl", "", pgt_url, problem)
    return problem


async def deliver_pgt(rt: Runtime, pgt_url: str, pgt: str, iou: str) -> bool:
    """GET pgtUrl?pgtId=…&pgtIou=… (its own parameters kept); success is a 200 answer."""
    target = urls.with_params(pgt_url, {"pgtId": pgt, "pgtIou": iou})
    try:
        async with httpx.AsyncClient(
            timeout=rt.settings.cas_http_timeout_seconds, follow_redirects=False
        ) as client:
            response = await client.get(target)
    except httpx.HTTPError as exc:
        log.info("cas_pgt_callback_failed", url=pgt_url[:200], error=repr(exc))
        return False
    return response.status_code == 200


def do_store_pgt(
    session: AsyncSession, rt: Runtime, validated: Validated, pgt: str, pgt_url: str
) -> None:
    source = validated.ticket
    _add_ticket(
        session,
        rt,
        pgt,
        PROXY_GRANTING_TICKET,
        pgt_url,
        validated.service.id,
        grant_of(source),
        proxies=[pgt_url, *source.proxies],
        parent_id=source.id,
        lifetime=rt.settings.session_max_age_seconds,
    )


async def do_issue_proxy_ticket(
    session: AsyncSession, rt: Runtime, pgt: str | None, target_service: str | None
) -> str | Failure:
    if not pgt or not target_service:
        return Failure(Code.INVALID_REQUEST, str(_("必须同时提供 pgt 和 targetService 参数")))
    now = clock.now()
    granting = (
        await queries.ticket_by_digest(session, digest(pgt)) if TICKET_SHAPE.match(pgt) else None
    )
    if (
        granting is None
        or granting.kind != PROXY_GRANTING_TICKET
        or granting.consumed_at is not None
        or granting.expires_at <= now
    ):
        return Failure(
            Code.INVALID_TICKET, str(_("代理授权票据 {t} 无法识别或已失效", t=_shown(pgt)))
        )
    owner = await queries.get_service(session, granting.service_id)
    if owner is None or not owner.enabled or not owner.proxy_allowed:
        return Failure(Code.UNAUTHORIZED_SERVICE_PROXY, str(_("该应用未获准使用代理认证")))
    target = await queries.service_for_url(session, target_service)
    if target is None:
        return Failure(Code.UNAUTHORIZED_SERVICE, str(_("目标服务未在 CAS 注册或已停用")))
    ticket = new_ticket(PROXY_TICKET, SERVICE_TICKET_LENGTH)
    _add_ticket(
        session,
        rt,
        ticket,
        PROXY_TICKET,
        target_service,
        target.id,
        grant_of(granting, from_new_login=False),
        proxies=list(granting.proxies),
        parent_id=granting.id,
    )
    audit.record(
        session,
        "auth.cas.proxy",
        "person",
        granting.person_id,
        after={
            "target": _clip(target_service),
            "service_id": target.id,
            "proxies": granting.proxies,
        },
    )
    return ticket


# ---------------------------------------------------------------- the end of an SSO session


async def do_end_session_tickets(session: AsyncSession, session_id: str) -> int:
    """Revoke the session's proxy-granting tickets and unused tickets; returns how many."""
    now = clock.now()
    result = await session.execute(
        update(CasTicket)
        .where(
            CasTicket.session_id == session_id,
            CasTicket.consumed_at.is_(None),
            or_(CasTicket.kind == PROXY_GRANTING_TICKET, CasTicket.expires_at > now),
        )
        .values(consumed_at=now, expires_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def logged_in_services(session: AsyncSession, session_id: str) -> list[tuple[str, str]]:
    """(service URL, ticket) of every ticket validated in the session by a service that takes
    back-channel logout requests."""
    rows = await session.execute(
        select(CasTicket.service, CasTicket.session_index)
        .join(CasService, CasService.id == CasTicket.service_id)
        .where(
            CasTicket.session_id == session_id,
            CasTicket.kind.in_((SERVICE_TICKET, PROXY_TICKET)),
            CasTicket.session_index.is_not(None),
            CasService.slo_enabled.is_(True),
        )
        .order_by(CasTicket.created_at)
    )
    return [(service, index) for service, index in rows.all() if index]


async def do_purge(session: AsyncSession, older_than: datetime) -> int:
    """Delete tickets created before ``older_than`` whose use is over."""
    result = await session.execute(
        delete(CasTicket).where(
            CasTicket.created_at < older_than, CasTicket.expires_at < clock.now()
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
