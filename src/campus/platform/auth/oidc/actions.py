"""Writes of the OpenID Connect provider: the client registry, signing-key rotation, and the
protocol's state (codes, grants, tokens, consent). ``check_*`` validates, ``do_*`` writes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.errors import Conflict, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import LazyText, _
from campus.platform.auth.oidc import events, keys, queries
from campus.platform.auth.oidc.claims import SUPPORTED_SCOPES
from campus.platform.auth.oidc.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    Consent,
    Grant,
    RefreshToken,
    SigningKey,
)
from campus.platform.auth.oidc.schemas import ClientCreate, ClientUpdate
from campus.platform.auth.oidc.tokens import digest, new_id, new_secret

CODE_SECONDS = 60
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
URI_MAX = 500

# ---------------------------------------------------------------- the client registry


def uri_problem(uri: str, *, native_app: bool = False) -> LazyText | None:
    """Why ``uri`` cannot be registered, or None. https anywhere, http only on the loopback
    interface; a public (native) client may also use a private-use scheme such as
    ``cn.edu.example.app:/callback`` (RFC 8252)."""
    if not uri or len(uri) > URI_MAX or any(c.isspace() for c in uri):
        return _("地址不能为空、不能含空白，且不超过 {n} 个字符", n=URI_MAX)
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return _("地址格式不正确")
    if parts.fragment or "#" in uri:
        return _("地址不能包含 # 片段")
    if parts.username or parts.password:
        return _("地址不能包含用户名或密码")
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return None
    if native_app and "." in parts.scheme and not parts.netloc:
        return None
    return _("应为 https 地址（本机回环地址可用 http）")


def _check_uris(field: str, uris: list[str], *, native_app: bool) -> list[str]:
    cleaned = list(dict.fromkeys(u.strip() for u in uris if u.strip()))
    for index, uri in enumerate(cleaned):
        problem = uri_problem(uri, native_app=native_app)
        if problem is not None:
            raise InvalidInput.on(f"{field}.{index}", problem)
    return cleaned


def _check_settings(values: dict[str, Any]) -> None:
    """Rules between the fields of a client, for creation and after an update."""
    unknown = sorted(set(values["allowed_scopes"]) - set(SUPPORTED_SCOPES))
    if unknown:
        raise InvalidInput.on(
            "allowed_scopes", _("不支持的授权范围：{scopes}", scopes="、".join(unknown))
        )
    grants = set(values["grant_types"])
    if not grants:
        raise InvalidInput.on("grant_types", _("至少选择一种授权方式"))
    if "client_credentials" in grants and values["client_type"] == "public":
        raise InvalidInput.on("grant_types", _("公开客户端没有密钥，不能使用客户端凭据方式"))
    if "refresh_token" in grants and "authorization_code" not in grants:
        raise InvalidInput.on("grant_types", _("刷新令牌需与授权码方式一起使用"))
    if "authorization_code" in grants and not values["redirect_uris"]:
        raise InvalidInput.on("redirect_uris", _("授权码方式至少需要一个回调地址"))


def _cleaned(values: dict[str, Any]) -> dict[str, Any]:
    native = values["client_type"] == "public"
    values["redirect_uris"] = _check_uris(
        "redirect_uris", values["redirect_uris"], native_app=native
    )
    values["post_logout_redirect_uris"] = _check_uris(
        "post_logout_redirect_uris", values["post_logout_redirect_uris"], native_app=native
    )
    for field in ("backchannel_logout_uri", "frontchannel_logout_uri"):
        uri = (values.get(field) or "").strip() or None
        if uri is not None:
            problem = uri_problem(uri)
            if problem is not None:
                raise InvalidInput.on(field, problem)
        values[field] = uri
    values["allowed_scopes"] = list(dict.fromkeys(values["allowed_scopes"]))
    values["grant_types"] = list(dict.fromkeys(values["grant_types"]))
    _check_settings(values)
    return values


def _snapshot(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "client_type": client.client_type,
        "first_party": client.first_party,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "allowed_scopes": list(client.allowed_scopes),
        "grant_types": list(client.grant_types),
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "frontchannel_logout_uri": client.frontchannel_logout_uri,
        "active": client.active,
    }


async def check_create_client(session: AsyncSession, data: ClientCreate) -> dict[str, Any]:
    values = _cleaned(data.model_dump())
    values["client_id"] = data.client_id or f"app-{secrets.token_hex(8)}"
    if await queries.client(session, values["client_id"]) is not None:
        raise Conflict.on("client_id", _("客户端标识 {id} 已被使用", id=values["client_id"]))
    return values


async def do_create_client(
    session: AsyncSession, data: ClientCreate, *, secret: str | None = None
) -> tuple[Client, str | None]:
    """Register a client; returns it and its secret (None for a public client), which is
    stored only as a digest. ``secret`` is for the demo's published values; else random."""
    values = await check_create_client(session, data)
    confidential = values["client_type"] == "confidential"
    secret = (secret or new_secret()) if confidential else None
    now = clock.now()
    client = Client(
        **values,
        secret_hash=digest(secret) if secret else None,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(client)
    await session.flush()
    audit.record(
        session, "auth.oidc.client.create", "oidc_client", client.client_id, after=_snapshot(client)
    )
    return client, secret


async def _existing(session: AsyncSession, client_id: str) -> Client:
    client = await queries.client(session, client_id)
    if client is None:
        raise NotFound(_("客户端 {id} 不存在", id=client_id))
    return client


async def do_update_client(session: AsyncSession, client_id: str, data: ClientUpdate) -> Client:
    client = await _existing(session, client_id)
    before = _snapshot(client)
    changes = data.model_dump(exclude_unset=True)
    values = _cleaned({**before, **changes})
    for field in changes:
        setattr(client, field, values[field])
    client.updated_at = clock.now()
    after = _snapshot(client)
    if after != before:
        audit.record(
            session, "auth.oidc.client.update", "oidc_client", client_id, before=before, after=after
        )
    if before["active"] and not client.active:
        await do_revoke_client_grants(session, client_id, "client_disabled")
    return client


async def do_new_secret(session: AsyncSession, client_id: str) -> tuple[Client, str]:
    """Replace a confidential client's secret; the old one stops working at once."""
    client = await _existing(session, client_id)
    if client.client_type != "confidential":
        raise InvalidInput.on("client_type", _("公开客户端没有密钥"))
    secret = new_secret()
    client.secret_hash = digest(secret)
    client.updated_at = clock.now()
    audit.record(session, "auth.oidc.client.secret", "oidc_client", client_id)
    return client, secret


async def do_rotate_keys(session: AsyncSession, secret_key: str) -> SigningKey:
    row, retired = await keys.rotate(session, secret_key)
    audit.record(
        session,
        "auth.oidc.key.rotate",
        "oidc_key",
        row.kid,
        after={"active": row.kid, "retired": retired},
    )
    return row


# ---------------------------------------------------------------- consent and codes


async def do_save_consent(
    session: AsyncSession, person_id: int, client_id: str, scopes: list[str]
) -> None:
    """Remember what the person allowed, merged with what they allowed before."""
    row = await session.get(Consent, (person_id, client_id))
    now = clock.now()
    if row is None:
        session.add(
            Consent(person_id=person_id, client_id=client_id, scopes=sorted(scopes), granted_at=now)
        )
    else:
        row.scopes = sorted(set(row.scopes) | set(scopes))
        row.granted_at = now
    audit.record(
        session, "auth.oidc.consent", "oidc_client", client_id, after={"scopes": sorted(scopes)}
    )


async def do_issue_code(
    session: AsyncSession,
    *,
    client_id: str,
    person_id: int,
    session_id: str | None,
    redirect_uri: str,
    scope: str,
    nonce: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
    auth_time: datetime,
    issuer: str,
) -> str:
    code = new_secret()
    now = clock.now()
    session.add(
        AuthorizationCode(
            code_hash=digest(code),
            client_id=client_id,
            person_id=person_id,
            session_id=session_id,
            redirect_uri=redirect_uri,
            scope=scope,
            nonce=nonce,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            auth_time=auth_time,
            issuer=issuer,
            created_at=now,
            expires_at=now + timedelta(seconds=CODE_SECONDS),
        )
    )
    audit.record(session, "auth.oidc.authorize", "oidc_client", client_id, after={"scope": scope})
    return code


async def do_consume_code(session: AsyncSession, code: AuthorizationCode, grant_id: str) -> bool:
    """Mark the code used, atomically: False when another request used it first."""
    result = await session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.code_hash == code.code_hash, AuthorizationCode.used_at.is_(None))
        .values(used_at=clock.now(), grant_id=grant_id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


# ---------------------------------------------------------------- grants and tokens


async def do_open_grant(
    session: AsyncSession,
    *,
    grant_id: str,
    client_id: str,
    person_id: int | None,
    session_id: str | None,
    scope: str,
    issuer: str,
    auth_time: datetime | None,
    expires_at: datetime,
) -> Grant:
    grant = Grant(
        id=grant_id,
        client_id=client_id,
        person_id=person_id,
        session_id=session_id,
        scope=scope,
        issuer=issuer,
        auth_time=auth_time,
        created_at=clock.now(),
        expires_at=expires_at,
    )
    session.add(grant)
    await session.flush()
    return grant


async def do_record_access_token(session: AsyncSession, grant: Grant, expires_at: datetime) -> str:
    jti = new_id()
    session.add(
        AccessToken(jti=jti, grant_id=grant.id, created_at=clock.now(), expires_at=expires_at)
    )
    return jti


async def do_issue_refresh_token(session: AsyncSession, grant: Grant, expires_at: datetime) -> str:
    token = new_secret()
    session.add(
        RefreshToken(
            token_hash=digest(token),
            grant_id=grant.id,
            created_at=clock.now(),
            expires_at=expires_at,
        )
    )
    grant.expires_at = max(grant.expires_at, expires_at)
    return token


async def do_use_refresh_token(session: AsyncSession, token: RefreshToken) -> bool:
    """Mark the refresh token used, atomically: False when it was used already (a reuse)."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == token.token_hash, RefreshToken.used_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def do_revoke_grant(session: AsyncSession, grant: Grant, reason: str) -> bool:
    """Revoke a whole token family; returns whether it was live until now."""
    if grant.revoked_at is not None:
        return False
    grant.revoked_at = clock.now()
    grant.revoke_reason = reason
    audit.record(
        session,
        "auth.oidc.grant.revoke",
        "oidc_grant",
        grant.id,
        after={"client_id": grant.client_id, "reason": reason},
    )
    return True


async def do_revoke_access_token(session: AsyncSession, token: AccessToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(
            session,
            "auth.oidc.token.revoke",
            "oidc_grant",
            token.grant_id,
            after={"jti": token.jti},
        )


async def do_revoke_client_grants(session: AsyncSession, client_id: str, reason: str) -> None:
    await session.execute(
        update(Grant)
        .where(Grant.client_id == client_id, Grant.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoke_reason=reason)
        .execution_options(synchronize_session=False)
    )


async def do_end_session_grants(
    session: AsyncSession, session_id: str, secret_key: str, public_sid: str
) -> list[Grant]:
    """Revoke every token family tied to an ended SSO session, and ask for a back-channel
    logout of each client that registered one (one event per client, retried on its own)."""
    grants = await queries.live_grants_of_session(session, session_id)
    for grant in grants:
        await do_revoke_grant(session, grant, "session_ended")
    notified: set[str] = set()
    for client in await queries.clients_by_ids(session, {g.client_id for g in grants}):
        if not client.backchannel_logout_uri or client.client_id in notified:
            continue
        notified.add(client.client_id)
        grant = next(g for g in grants if g.client_id == client.client_id)
        payload = events.BackchannelLogout(
            client_id=client.client_id,
            issuer=grant.issuer,
            subject=str(grant.person_id) if grant.person_id is not None else None,
            sid=public_sid,
        )
        await emit(session, events.BACKCHANNEL_LOGOUT, payload)
    return grants


async def do_purge_expired(session: AsyncSession, keep_retired_keys: timedelta) -> dict[str, int]:
    """Delete what can no longer be used: codes, tokens and families past their expiry, and
    retired keys past their publication."""
    now = clock.now()
    counts: dict[str, int] = {}
    for name, statement in (
        ("codes", delete(AuthorizationCode).where(AuthorizationCode.expires_at < now)),
        ("access_tokens", delete(AccessToken).where(AccessToken.expires_at < now)),
        ("refresh_tokens", delete(RefreshToken).where(RefreshToken.expires_at < now)),
    ):
        result = await session.execute(statement)
        counts[name] = int(getattr(result, "rowcount", 0) or 0)
    # Families whose every token has expired (their rows go with them).
    result = await session.execute(delete(Grant).where(Grant.expires_at < now))
    counts["grants"] = int(getattr(result, "rowcount", 0) or 0)
    counts["keys"] = await keys.purge_retired(session, keep_retired_keys)
    return counts
