"""The OpenID Connect provider's public interface, for modules that accept its access tokens
(an API gateway, a resource server inside Campus) and for the authentication center's
manifest, which mounts what this sub-package contributes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.config import Settings
from campus.platform.auth.oidc import grants, handlers, pages, routes
from campus.platform.auth.oidc.protocol import Provider

ROUTER = routes.router
PAGES = pages.router
HANDLERS = handlers.HANDLERS
JOBS = (handlers.PURGE,)
CSRF_EXEMPT = routes.CSRF_EXEMPT


async def verify_access_token(
    session: AsyncSession, settings: Settings, issuer: str, token: str
) -> dict[str, Any] | None:
    """The claims of a live access token (signature, expiry, not revoked, session not ended),
    or None."""
    live = await grants.live_access_token(session, Provider.from_settings(settings, issuer), token)
    return None if live is None else live.claims
