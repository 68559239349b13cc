"""The authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1, RFC 7636).

Two kinds of failure: a request whose client or redirect URI cannot be trusted is shown on an
error page and never redirected (``UntrustedRequest``); any other bad parameter goes back to
the client's redirect URI as an OAuth error (an Authlib ``OAuth2Error`` carrying the URI).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import (
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN
from authlib.oidc.core.errors import RequestNotSupportedError, RequestURINotSupportedError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.i18n import LazyText, _
from campus.platform.auth.oidc import queries
from campus.platform.auth.oidc.claims import SUPPORTED_SCOPES
from campus.platform.auth.oidc.models import Client
from campus.platform.auth.oidc.protocol import scopes_of, single

PKCE_METHOD = "S256"
KNOWN_PROMPTS = frozenset({"none", "login", "consent", "select_account"})
# Parameters the consent form carries back unchanged.
FORWARDED = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
)


class UntrustedRequest(Exception):
    """The client is unknown or the redirect URI is not registered: nothing is redirected."""

    def __init__(self, reason: LazyText, error: str, client_id: str | None) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.error = error
        self.client_id = client_id


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: frozenset[str]
    params: dict[str, str]

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)


def _untrusted_single(params: Any, name: str, client_id: str | None) -> str | None:
    try:
        return single(params, name)
    except InvalidRequestError as exc:
        raise UntrustedRequest(
            _("请求参数重复或过长：{name}", name=name), "invalid_request", client_id
        ) from exc


async def trusted_client_and_redirect(session: AsyncSession, params: Any) -> tuple[Client, str]:
    """The client and its exactly-registered redirect URI, or ``UntrustedRequest``."""
    client_id = _untrusted_single(params, "client_id", None)
    if not client_id:
        raise UntrustedRequest(_("请求缺少应用标识（client_id）"), "invalid_request", None)
    client = await queries.active_client(session, client_id)
    if client is None:
        raise UntrustedRequest(
            _("未登记或已停用的应用：{id}", id=client_id[:64]), "invalid_client", client_id
        )
    redirect_uri = _untrusted_single(params, "redirect_uri", client_id)
    if not redirect_uri:
        raise UntrustedRequest(_("请求缺少回调地址（redirect_uri）"), "invalid_request", client_id)
    if redirect_uri not in client.redirect_uris:
        raise UntrustedRequest(
            _("回调地址与该应用登记的地址不一致，已拒绝跳转"), "invalid_redirect_uri", client_id
        )
    return client, redirect_uri


async def validate(session: AsyncSession, params: Any) -> AuthorizationRequest:
    """A validated request, or ``UntrustedRequest``, or an ``OAuth2Error`` to redirect."""
    client, redirect_uri = await trusted_client_and_redirect(session, params)
    state = None
    try:
        state = single(params, "state")
        return _checked(client, redirect_uri, state, params)
    except OAuth2Error as error:
        error.redirect_uri = redirect_uri
        error.state = state
        raise


def _checked(
    client: Client, redirect_uri: str, state: str | None, params: Any
) -> AuthorizationRequest:
    if single(params, "request") is not None:
        raise RequestNotSupportedError("Request objects are not supported")
    if single(params, "request_uri") is not None:
        raise RequestURINotSupportedError("request_uri is not supported")
    response_type = single(params, "response_type")
    if response_type != "code":
        raise UnsupportedResponseTypeError(response_type or "")
    response_mode = single(params, "response_mode")
    if response_mode not in (None, "query"):
        raise InvalidRequestError("Only response_mode=query is supported")
    if "authorization_code" not in client.grant_types:
        raise UnauthorizedClientError("The client may not use the authorization code grant")
    scopes = _scopes(client, single(params, "scope"))
    challenge, method = _pkce(client, params)
    nonce = single(params, "nonce")
    prompt = frozenset(scopes_of(single(params, "prompt"))) & KNOWN_PROMPTS
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values")
    forwarded = {name: value for name in FORWARDED if (value := single(params, name))}
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        code_challenge_method=method,
        prompt=prompt,
        params=forwarded,
    )


def _scopes(client: Client, value: str | None) -> list[str]:
    scopes = scopes_of(value)
    if not scopes:
        raise InvalidScopeError("The scope parameter is required")
    unknown = [s for s in scopes if s not in SUPPORTED_SCOPES]
    if unknown:
        raise InvalidScopeError(f"Unsupported scope: {' '.join(unknown)[:200]}")
    refused = [s for s in scopes if s not in client.allowed_scopes]
    if refused:
        raise InvalidScopeError(f"Scope not allowed for this client: {' '.join(refused)}")
    return scopes


def _pkce(client: Client, params: Any) -> tuple[str | None, str | None]:
    challenge = single(params, "code_challenge")
    method = single(params, "code_challenge_method")
    if challenge is None:
        if method is not None:
            raise InvalidRequestError("code_challenge_method without code_challenge")
        if client.client_type == "public":
            raise InvalidRequestError("PKCE with S256 is required for public clients")
        return None, None
    # RFC 7636 §4.3: a missing method means "plain", which this server does not accept.
    if (method or "plain") != PKCE_METHOD:
        raise InvalidRequestError("Only code_challenge_method=S256 is supported")
    if not CODE_CHALLENGE_PATTERN.match(challenge):
        raise InvalidRequestError("Malformed code_challenge")
    return challenge, method


def redirect_location(redirect_uri: str, params: dict[str, str | None], issuer: str) -> str:
    """The client's redirect URI with the response parameters and ``iss`` (RFC 9207)."""
    values = [(k, v) for k, v in params.items() if v is not None]
    values.append(("iss", issuer))
    return add_params_to_uri(redirect_uri, values)


def error_location(error: OAuth2Error, issuer: str) -> str:
    assert error.redirect_uri is not None
    return redirect_location(error.redirect_uri, dict(error.get_body()), issuer)


def needs_consent(request: AuthorizationRequest, consented: set[str]) -> bool:
    if request.client.first_party:
        return False
    return "consent" in request.prompt or not set(request.scopes) <= consented
