"""Reactions to events: an ended SSO session revokes the tokens issued under it and tells the
relying parties that asked to be told (OpenID Connect Back-Channel Logout 1.0). Each
notification is an event of its own, so a client that is down is retried with backoff by the
event dispatcher (and dead-lettered at last) without holding up the others."""

from __future__ import annotations

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, runtime
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler, ScheduledJob
from campus.platform.auth.events import SESSION_ENDED, SessionEnded
from campus.platform.auth.oidc import actions, events, keys, queries, tokens
from campus.platform.auth.oidc.protocol import Provider

log = structlog.get_logger(__name__)

BACKCHANNEL_TIMEOUT_SECONDS = 5.0
PURGE_EVERY_SECONDS = 3600.0


class BackchannelLogoutFailed(Exception):
    """The relying party did not acknowledge the logout token; the dispatcher retries."""


async def revoke_session_tokens(session: AsyncSession, event: Event) -> None:
    ended = SessionEnded.model_validate(event.payload)
    secret_key = runtime.current().settings.secret_key
    grants = await actions.do_end_session_grants(
        session, ended.session_id, secret_key, tokens.public_sid(secret_key, ended.session_id)
    )
    log.info("oidc_session_tokens_revoked", session_id=ended.session_id, grants=len(grants))


async def send_backchannel_logout(session: AsyncSession, event: Event) -> None:
    """POST a logout token to the client's back-channel URI (§2.5); any answer but 2xx fails."""
    request = events.BackchannelLogout.model_validate(event.payload)
    client = await queries.active_client(session, request.client_id)
    if client is None or not client.backchannel_logout_uri:
        return
    key = await keys.signing_key(session, runtime.current().settings.secret_key)
    token = tokens.logout_token(
        key,
        issuer=request.issuer,
        client_id=client.client_id,
        subject=request.subject,
        sid=request.sid,
    )
    async with httpx.AsyncClient(
        timeout=BACKCHANNEL_TIMEOUT_SECONDS, follow_redirects=False
    ) as http:
        try:
            response = await http.post(
                client.backchannel_logout_uri,
                data={"logout_token": token},
                headers={"Cache-Control": "no-store"},
            )
        except httpx.HTTPError as exc:
            raise BackchannelLogoutFailed(f"{client.client_id}: {exc!r}") from exc
    if not response.is_success:
        raise BackchannelLogoutFailed(f"{client.client_id}: HTTP {response.status_code}")
    audit.record(
        session,
        "auth.oidc.backchannel_logout",
        "oidc_client",
        client.client_id,
        after={"sid": request.sid},
    )


async def purge_expired() -> None:
    rt = runtime.current()
    keep = Provider.from_settings(rt.settings, "").keep_retired_keys
    async with rt.db.transaction() as session:
        counts = await actions.do_purge_expired(session, keep)
    log.info("oidc_purged", **counts)


HANDLERS = (
    EventHandler("auth.oidc.revoke_session_tokens", SESSION_ENDED, revoke_session_tokens),
    EventHandler(
        "auth.oidc.backchannel_logout", events.BACKCHANNEL_LOGOUT, send_backchannel_logout
    ),
)
PURGE = ScheduledJob("auth.oidc.purge", PURGE_EVERY_SECONDS, purge_expired)
