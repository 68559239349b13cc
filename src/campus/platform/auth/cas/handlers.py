"""Reactions of the CAS server: single logout when an SSO session ends, and the purge of spent
tickets.

When auth announces ``auth.session.ended``, one handler revokes the session's proxy-granting
and unused tickets (database only, so it cannot be held up by a slow service), and another
sends the SAML ``LogoutRequest`` (POST ``logoutRequest=…``) to every service that validated a
ticket in that session and takes back-channel logout, all at once with short timeouts. A
service that does not answer 2xx makes the handler fail, so the event pipeline tries again with
backoff (and dead-letters the event after the last attempt); the services that already
answered are remembered in the cache for that event and are not called twice.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock, runtime
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler, ScheduledJob
from campus.platform.auth.cas import actions, protocol
from campus.platform.auth.events import SESSION_ENDED

log = structlog.get_logger(__name__)

DELIVERED_TTL_SECONDS = 86400.0
PURGE_EVERY_SECONDS = 3600.0


class LogoutDeliveryFailed(Exception):
    """Some services did not acknowledge the logout request; the event is tried again."""


async def revoke_session_tickets(session: AsyncSession, event: Event) -> None:
    session_id = str(event.payload.get("session_id") or "")
    if session_id:
        revoked = await actions.do_end_session_tickets(session, session_id)
        log.info("cas_session_tickets_revoked", session_id=session_id, tickets=revoked)


async def single_logout(session: AsyncSession, event: Event) -> None:
    session_id = str(event.payload.get("session_id") or "")
    if not session_id:
        return
    targets = await actions.logged_in_services(session, session_id)
    log.info("cas_single_logout", session_id=session_id, services=len(targets))
    if targets:
        await deliver_logout_requests(event.id, targets)


async def deliver_logout_requests(event_id: str, targets: list[tuple[str, str]]) -> None:
    rt = runtime.current()
    pending = []
    for service_url, ticket in targets:
        marker = f"auth:cas:slo:{event_id}:{actions.digest(ticket)}"
        if await rt.cache.get(marker) is None:
            pending.append((service_url, ticket, marker))
    if not pending:
        return
    timeout = httpx.Timeout(rt.settings.cas_http_timeout_seconds)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        results = await asyncio.gather(
            *(_post_logout(client, url, ticket) for url, ticket, _marker in pending)
        )
    failed = []
    for (url, _ticket, marker), ok in zip(pending, results, strict=True):
        if ok:
            await rt.cache.set(marker, b"1", DELIVERED_TTL_SECONDS)
        else:
            failed.append(url)
    if failed:
        raise LogoutDeliveryFailed(
            f"no acknowledgement from {len(failed)} service(s): {failed[:5]}"
        )


async def _post_logout(client: httpx.AsyncClient, service_url: str, ticket: str) -> bool:
    body = protocol.logout_request(ticket, clock.now())
    try:
        response = await client.post(service_url, data={"logoutRequest": body})
    except httpx.HTTPError as exc:
        log.warning("cas_logout_request_failed", service=service_url[:200], error=repr(exc))
        return False
    if not response.is_success:
        log.warning(
            "cas_logout_request_refused", service=service_url[:200], status=response.status_code
        )
    return response.is_success


async def purge_spent_tickets() -> None:
    """Tickets are kept while their SSO session may still end (single logout needs them)."""
    rt = runtime.current()
    longest = max(rt.settings.session_max_age_seconds, rt.settings.session_remember_seconds)
    older_than = clock.now() - timedelta(seconds=longest + 3600)
    async with rt.db.transaction() as session:
        removed = await actions.do_purge(session, older_than)
    log.info("cas_tickets_purged", rows=removed)


REVOKE_TICKETS = EventHandler("auth.cas.revoke_tickets", SESSION_ENDED, revoke_session_tickets)
SINGLE_LOGOUT = EventHandler("auth.cas.single_logout", SESSION_ENDED, single_logout)
PURGE = ScheduledJob("auth.cas.purge_tickets", PURGE_EVERY_SECONDS, purge_spent_tickets)
