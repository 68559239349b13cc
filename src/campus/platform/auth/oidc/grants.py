"""The token endpoint's grants (authorization code with PKCE, refresh token with rotation and
reuse detection, client credentials), the tokens they issue, and the checks introspection,
revocation and userinfo make on a presented token.

Every refusal is an Authlib ``OAuth2Error``; the endpoints turn it into the OAuth error JSON.
Validation comes before any write, so a refused request changes nothing, except on purpose: a
replayed code or a reused refresh token revokes the token family it belongs to.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
    UnsupportedTokenTypeError,
)
from authlib.oauth2.rfc7636.challenge import CODE_VERIFIER_PATTERN, create_s256_code_challenge
from joserfc.jwk import RSAKey
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.platform.auth import service as auth
from campus.platform.auth.oidc import actions, keys, queries, tokens
from campus.platform.auth.oidc.claims import OPENID, person_claims, person_may_sign_in
from campus.platform.auth.oidc.models import AuthorizationCode, Client, Grant
from campus.platform.auth.oidc.protocol import Provider, scopes_of, single
from campus.platform.users import service as users

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"  # noqa: S105 (a name, not a secret)
CLIENT_CREDENTIALS = "client_credentials"
GRANT_TYPES = (AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS)
TOKEN_TYPE_HINTS = ("access_token", "refresh_token")


# ---------------------------------------------------------------- issuing


@dataclass(frozen=True)
class Material:
    """What issuing tokens reads, read before the grant's first write: SQLite holds its one
    write lock from the first write to the commit, so the writes come last and close together."""

    key: RSAKey
    claims: dict[str, Any] | None
    amr: list[str] | None


async def material(
    session: AsyncSession,
    provider: Provider,
    person_id: int | None,
    scopes: list[str],
    live: auth.SessionOut | None,
) -> Material:
    key = await keys.signing_key(session, provider.secret_key)
    claims = None
    if OPENID in scopes and person_id is not None:
        claims = await person_claims(session, person_id, scopes)
    return Material(key, claims, live.amr if live else None)


async def issue_tokens(
    session: AsyncSession,
    provider: Provider,
    client: Client,
    grant: Grant,
    made: Material,
    *,
    scopes: list[str],
    with_refresh: bool,
    nonce: str | None = None,
) -> dict[str, Any]:
    """An access token, and a refresh token and an ID token where they apply (RFC 6749 §5.1)."""
    now = clock.now()
    expires = now + timedelta(seconds=provider.access_seconds)
    jti = await actions.do_record_access_token(session, grant, expires)
    scope = " ".join(scopes)
    common: dict[str, Any] = {
        "iss": provider.issuer,
        "aud": client.client_id,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    if grant.auth_time is not None:
        common["auth_time"] = int(grant.auth_time.timestamp())
    if grant.session_id is not None:
        common["sid"] = tokens.public_sid(provider.secret_key, grant.session_id)
    subject = str(grant.person_id) if grant.person_id is not None else client.client_id
    access = tokens.access_token(
        made.key,
        {**common, "sub": subject, "client_id": client.client_id, "jti": jti, "scope": scope},
    )
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": provider.access_seconds,
        "scope": scope,
    }
    if with_refresh:
        refresh_expires = now + timedelta(seconds=provider.refresh_seconds)
        body["refresh_token"] = await actions.do_issue_refresh_token(
            session, grant, refresh_expires
        )
    if made.claims is not None:
        id_claims = {**made.claims, **common, "azp": client.client_id}
        if nonce:
            id_claims["nonce"] = nonce
        if made.amr:
            id_claims["amr"] = made.amr
        body["id_token"] = tokens.id_token(made.key, id_claims, access)
    return body


# ---------------------------------------------------------------- the token endpoint


async def token_response(
    session: AsyncSession, provider: Provider, client: Client, form: Any
) -> dict[str, Any]:
    grant_type = single(form, "grant_type")
    if grant_type not in GRANT_TYPES:
        raise UnsupportedGrantTypeError(grant_type or "")
    if grant_type not in client.grant_types:
        raise UnauthorizedClientError(f"The client may not use the {grant_type} grant")
    if grant_type == AUTHORIZATION_CODE:
        return await _exchange_code(session, provider, client, form)
    if grant_type == REFRESH_TOKEN:
        return await _refresh(session, provider, client, form)
    return await _client_credentials(session, provider, client, form)


async def _exchange_code(
    session: AsyncSession, provider: Provider, client: Client, form: Any
) -> dict[str, Any]:
    value = single(form, "code")
    if not value:
        raise InvalidRequestError("Missing code")
    code = await queries.code_by_value(session, value)
    if code is None or code.client_id != client.client_id:
        raise InvalidGrantError("Invalid authorization code")
    if code.used_at is not None:
        await _code_replayed(session, code)
    if code.expires_at <= clock.now():
        raise InvalidGrantError("The authorization code has expired")
    if single(form, "redirect_uri") != code.redirect_uri:
        raise InvalidGrantError("redirect_uri does not match the authorization request")
    _check_verifier(code, single(form, "code_verifier"))
    if not await person_may_sign_in(session, code.person_id):
        raise InvalidGrantError("The account is not active")
    live = await live_session(session, code.session_id)
    if code.session_id is not None and live is None:
        raise InvalidGrantError("The sign-in session has ended")
    scopes = code.scope.split()
    made = await material(session, provider, code.person_id, scopes, live)
    grant_id = tokens.new_id()
    if not await actions.do_consume_code(session, code, grant_id):
        await _code_replayed(session, code)
    grant = await actions.do_open_grant(
        session,
        grant_id=grant_id,
        client_id=client.client_id,
        person_id=code.person_id,
        session_id=code.session_id,
        scope=code.scope,
        issuer=code.issuer,
        auth_time=code.auth_time,
        expires_at=clock.now() + timedelta(seconds=provider.access_seconds),
    )
    return await issue_tokens(
        session,
        provider,
        client,
        grant,
        made,
        scopes=scopes,
        with_refresh=REFRESH_TOKEN in client.grant_types,
        nonce=code.nonce,
    )


async def live_session(session: AsyncSession, session_id: str | None) -> auth.SessionOut | None:
    if session_id is None:
        return None
    found = await auth.get_session(session, session_id)
    if found is None or found.ended_at is not None or found.expires_at <= clock.now():
        return None
    return found


async def _code_replayed(session: AsyncSession, code: AuthorizationCode) -> NoReturn:
    """RFC 6749 §4.1.2: a code used twice revokes what its first use obtained."""
    grant = await queries.grant(session, code.grant_id) if code.grant_id else None
    if grant is not None:
        await actions.do_revoke_grant(session, grant, "code_replayed")
    raise InvalidGrantError("The authorization code has already been used")


def _check_verifier(code: AuthorizationCode, verifier: str | None) -> None:
    if code.code_challenge is None:
        if verifier is not None:
            raise InvalidGrantError("code_verifier given, but no code_challenge was")
        return
    if not verifier:
        raise InvalidRequestError("Missing code_verifier")
    if not CODE_VERIFIER_PATTERN.match(verifier):
        raise InvalidRequestError("Malformed code_verifier")
    computed = create_s256_code_challenge(verifier)
    if not hmac.compare_digest(computed.encode(), code.code_challenge.encode()):
        raise InvalidGrantError("code_verifier does not match the code_challenge")


async def _refresh(
    session: AsyncSession, provider: Provider, client: Client, form: Any
) -> dict[str, Any]:
    value = single(form, "refresh_token")
    if not value:
        raise InvalidRequestError("Missing refresh_token")
    token = await queries.refresh_token_by_value(session, value)
    grant = await queries.grant(session, token.grant_id) if token else None
    if token is None or grant is None or grant.client_id != client.client_id:
        raise InvalidGrantError("Invalid refresh token")
    if token.used_at is not None:
        await _refresh_reused(session, grant)
    if grant.revoked_at is not None:
        raise InvalidGrantError("The grant has been revoked")
    if token.expires_at <= clock.now():
        raise InvalidGrantError("The refresh token has expired")
    scopes = _narrowed(grant, single(form, "scope"))
    live = await live_session(session, grant.session_id)
    reason = await _grant_no_longer_valid(session, grant, live)
    if reason is not None:
        await actions.do_revoke_grant(session, grant, reason)
        raise InvalidGrantError("The grant is no longer valid")
    made = await material(session, provider, grant.person_id, scopes, live)
    if not await actions.do_use_refresh_token(session, token):
        await _refresh_reused(session, grant)
    return await issue_tokens(
        session, provider, client, grant, made, scopes=scopes, with_refresh=True
    )


async def _refresh_reused(session: AsyncSession, grant: Grant) -> NoReturn:
    """A rotated refresh token came back: someone holds a copy. Revoke the whole family."""
    await actions.do_revoke_grant(session, grant, "refresh_reused")
    audit.record(
        session,
        "auth.oidc.refresh.reused",
        "oidc_grant",
        grant.id,
        after={"client_id": grant.client_id, "person_id": grant.person_id},
    )
    raise InvalidGrantError("Refresh token reuse detected; the grant has been revoked")


def _narrowed(grant: Grant, requested: str | None) -> list[str]:
    granted = grant.scope.split()
    scopes = scopes_of(requested)
    if not scopes:
        return granted
    if not set(scopes) <= set(granted):
        raise InvalidScopeError("A refresh cannot widen the granted scope")
    return scopes


async def _grant_no_longer_valid(
    session: AsyncSession, grant: Grant, live: auth.SessionOut | None
) -> str | None:
    if grant.session_id is not None and live is None:
        return "session_ended"
    if grant.person_id is not None and not await person_may_sign_in(session, grant.person_id):
        return "account_inactive"
    return None


async def _client_credentials(
    session: AsyncSession, provider: Provider, client: Client, form: Any
) -> dict[str, Any]:
    if client.client_type != "confidential":
        raise UnauthorizedClientError("Only confidential clients may use client credentials")
    scopes = scopes_of(single(form, "scope"))
    if OPENID in scopes:
        raise InvalidScopeError("openid needs a person; client credentials have none")
    refused = [s for s in scopes if s not in client.allowed_scopes]
    if refused:
        raise InvalidScopeError(f"Scope not allowed for this client: {' '.join(refused)[:200]}")
    made = await material(session, provider, None, scopes, None)
    grant = await actions.do_open_grant(
        session,
        grant_id=tokens.new_id(),
        client_id=client.client_id,
        person_id=None,
        session_id=None,
        scope=" ".join(scopes),
        issuer=provider.issuer,
        auth_time=None,
        expires_at=clock.now() + timedelta(seconds=provider.access_seconds),
    )
    return await issue_tokens(
        session, provider, client, grant, made, scopes=scopes, with_refresh=False
    )


# ---------------------------------------------------------------- presented tokens


@dataclass(frozen=True)
class LiveToken:
    claims: dict[str, Any]
    grant: Grant


async def live_access_token(
    session: AsyncSession, provider: Provider, value: str | None
) -> LiveToken | None:
    """The claims of a valid, unrevoked access token we issued, or None."""
    if not value:
        return None
    keyset = await keys.verification_keys(session, provider.keep_retired_keys)
    try:
        claims = tokens.verify(value, keyset, issuer=provider.issuer, typ=tokens.ACCESS_TOKEN_TYPE)
    except tokens.TokenInvalid:
        return None
    row = await queries.access_token(session, str(claims.get("jti", "")))
    if row is None or row.revoked_at is not None:
        return None
    grant = await queries.grant(session, row.grant_id)
    if grant is None or grant.revoked_at is not None:
        return None
    # The handler of auth.session.ended revokes the family; until it has run, look directly.
    if grant.session_id is not None and await live_session(session, grant.session_id) is None:
        return None
    return LiveToken(claims, grant)


async def introspection(
    session: AsyncSession, provider: Provider, client: Client, form: Any
) -> dict[str, Any]:
    """RFC 7662: whether the token is active, and what it is about."""
    if client.client_type != "confidential":
        raise UnauthorizedClientError("Only confidential clients may introspect tokens")
    value = single(form, "token")
    if not value:
        raise InvalidRequestError("Missing token")
    live = await live_access_token(session, provider, value)
    if live is not None:
        claims = live.claims
        answer: dict[str, Any] = {
            "active": True,
            "token_type": "Bearer",
            **{
                k: claims[k]
                for k in (
                    "scope",
                    "client_id",
                    "sub",
                    "aud",
                    "iss",
                    "exp",
                    "iat",
                    "jti",
                    "sid",
                    "auth_time",
                )
                if k in claims
            },
        }
        return await _with_username(session, live.grant, answer)
    return await _refresh_introspection(session, provider, client, value)


async def _refresh_introspection(
    session: AsyncSession, provider: Provider, client: Client, value: str
) -> dict[str, Any]:
    token = await queries.refresh_token_by_value(session, value)
    grant = await queries.grant(session, token.grant_id) if token else None
    # A refresh token is only of use to its own client, so only that client learns about it.
    if token is None or grant is None or grant.client_id != client.client_id:
        return {"active": False}
    if token.used_at or grant.revoked_at or token.expires_at <= clock.now():
        return {"active": False}
    answer = {
        "active": True,
        "token_type": "refresh_token",
        "scope": grant.scope,
        "client_id": grant.client_id,
        "iss": grant.issuer,
        "iat": int(token.created_at.timestamp()),
        "exp": int(token.expires_at.timestamp()),
        "sub": str(grant.person_id) if grant.person_id is not None else grant.client_id,
    }
    return await _with_username(session, grant, answer)


async def _with_username(
    session: AsyncSession, grant: Grant, answer: dict[str, Any]
) -> dict[str, Any]:
    if grant.person_id is not None:
        person = await users.get_person_ref(session, grant.person_id)
        if person is not None and person.number:
            answer["username"] = person.number
    return answer


async def revocation(session: AsyncSession, provider: Provider, client: Client, form: Any) -> None:
    """RFC 7009: revoke a refresh token (with its whole family) or one access token. An
    unknown or already invalid token is not an error."""
    value = single(form, "token")
    if not value:
        raise InvalidRequestError("Missing token")
    hint = single(form, "token_type_hint")
    if hint is not None and hint not in TOKEN_TYPE_HINTS:
        raise UnsupportedTokenTypeError()
    refresh = await queries.refresh_token_by_value(session, value)
    if refresh is not None:
        grant = await queries.grant(session, refresh.grant_id)
        if grant is not None:
            _check_owner(grant, client)
            await actions.do_revoke_grant(session, grant, "revoked_by_client")
        return
    live = await live_access_token(session, provider, value)
    if live is not None:
        _check_owner(live.grant, client)
        row = await queries.access_token(session, str(live.claims["jti"]))
        if row is not None:
            await actions.do_revoke_access_token(session, row)


def _check_owner(grant: Grant, client: Client) -> None:
    if grant.client_id != client.client_id:
        raise InvalidGrantError("The token was issued to another client")


async def id_token_hint_claims(
    session: AsyncSession, provider: Provider, hint: str
) -> dict[str, Any] | None:
    """The claims of an ID token we issued (expired or not), or None if it is not one."""
    keyset = await keys.verification_keys(session, provider.keep_retired_keys)
    try:
        return tokens.verify(hint, keyset, issuer=provider.issuer, typ="jwt", check_expiry=False)
    except tokens.TokenInvalid:
        return None
