"""What every endpoint of the provider shares: its settings as seen from one request, OAuth
error responses (RFC 6749 §5.2, with Authlib's error classes), client authentication
(RFC 6749 §2.3: client_secret_basic, client_secret_post, or none for public clients) and the
audit entry every refusal leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse

from campus.kernel import audit
from campus.kernel.config import Settings
from campus.platform.auth.oidc import queries
from campus.platform.auth.oidc.models import Client
from campus.platform.auth.oidc.tokens import LEEWAY_SECONDS, LOGOUT_TOKEN_SECONDS, digests_match

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Longest parameter value accepted anywhere (state, nonce, tokens, URIs).
MAX_PARAM = 2048


@dataclass(frozen=True)
class Provider:
    """The provider's settings for one request: the issuer is the configured one, else the
    URL the request came in on."""

    issuer: str
    secret_key: str
    access_seconds: int
    refresh_seconds: int

    @classmethod
    def of(cls, request: Request) -> Provider:
        settings: Settings = request.app.state.runtime.settings
        return cls.from_settings(settings, settings.oidc_issuer or str(request.base_url))

    @classmethod
    def from_settings(cls, settings: Settings, issuer: str) -> Provider:
        return cls(
            issuer=issuer.rstrip("/"),
            secret_key=settings.secret_key,
            access_seconds=settings.oidc_access_token_seconds,
            refresh_seconds=settings.oidc_refresh_token_seconds,
        )

    @property
    def keep_retired_keys(self) -> timedelta:
        """How long a retired key stays published: until every token it signed has expired."""
        longest = max(self.access_seconds, LOGOUT_TOKEN_SECONDS)
        return timedelta(seconds=longest + 2 * LEEWAY_SECONDS)

    def url(self, path: str) -> str:
        return self.issuer + path


def error_response(error: OAuth2Error) -> JSONResponse:
    """The OAuth error JSON: ``error``, ``error_description``; never cached."""
    status, body, headers = error()
    return JSONResponse(body, status_code=status, headers={**dict(headers), **NO_STORE})


def reject(
    session: AsyncSession, endpoint: str, error: OAuth2Error, client_id: str | None
) -> JSONResponse:
    """Audit a refused request and answer it with the OAuth error."""
    record_refusal(session, endpoint, error, client_id)
    return error_response(error)


def record_refusal(
    session: AsyncSession, endpoint: str, error: OAuth2Error, client_id: str | None
) -> None:
    audit.record(
        session,
        f"auth.oidc.{endpoint}.refused",
        "oidc_client",
        (client_id or "")[:64] or None,
        after={"error": error.error, "description": error.description},
    )


def single(params: Any, name: str) -> str | None:
    """A parameter of a query or form that may appear at most once (RFC 6749 §3.1), bounded in
    length; an empty value counts as absent."""
    values = [v for v in params.getlist(name) if v is not None]
    if len(values) > 1:
        raise InvalidRequestError(f"Repeated parameter: {name}")
    if not values:
        return None
    value = str(values[0])
    if len(value) > MAX_PARAM:
        raise InvalidRequestError(f"Parameter too long: {name}")
    return value or None


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str | None
    secret: str | None
    method: str  # client_secret_basic | client_secret_post | none


def client_credentials_of(headers: Headers, form: Any) -> ClientCredentials:
    basic_id, basic_secret = extract_basic_authorization(headers)
    form_id = single(form, "client_id")
    form_secret = single(form, "client_secret")
    if basic_id is not None:
        if form_secret is not None:
            raise InvalidRequestError("Use one client authentication method, not two")
        if form_id is not None and form_id != basic_id:
            raise InvalidRequestError("client_id does not match the Authorization header")
        return ClientCredentials(basic_id, basic_secret, "client_secret_basic")
    if form_secret is not None:
        return ClientCredentials(form_id, form_secret, "client_secret_post")
    return ClientCredentials(form_id, None, "none")


async def authenticate_client(session: AsyncSession, credentials: ClientCredentials) -> Client:
    """The registered, active client the request authenticates as, or ``invalid_client``.

    Confidential clients must present their secret; public clients present none.
    """
    status = 401 if credentials.method == "client_secret_basic" else 400
    if not credentials.client_id:
        raise InvalidClientError("Client authentication is required", status_code=401)
    client = await queries.active_client(session, credentials.client_id)
    if client is None:
        # Hash anyway: an unknown client takes as long to refuse as a wrong secret.
        digests_match(None, credentials.secret or "")
        raise InvalidClientError("Unknown or disabled client", status_code=status)
    if client.client_type == "public":
        if credentials.secret is not None:
            raise InvalidClientError("A public client has no secret", status_code=status)
        return client
    if credentials.secret is None or not digests_match(client.secret_hash, credentials.secret):
        raise InvalidClientError("Client authentication failed", status_code=status)
    return client


def scopes_of(value: str | None) -> list[str]:
    return list(dict.fromkeys((value or "").split()))
