"""Writes of the API center: services, routes, consumers and credentials. Each checks first and
writes only then, in the request's one transaction; audited and evented; once committed, the
shared configuration version moves so that every gateway process reads the change."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock, context
from campus.kernel.cache import Cache
from campus.kernel.db import after_commit
from campus.kernel.errors import Conflict, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.auth.oidc import service as oidc
from campus.platform.gateway import events, queries, snapshot
from campus.platform.gateway.models import (
    GatewayConsumer,
    GatewayCredential,
    GatewayRoute,
    GatewayService,
)
from campus.platform.gateway.schemas import (
    ConsumerIn,
    ConsumerOut,
    CredentialIn,
    CredentialIssued,
    CredentialOut,
    LimitsIn,
    OAuthClientIssued,
    RouteIn,
    RouteOut,
    ServiceIn,
    ServiceOut,
)
from campus.platform.gateway.sealed import seal_secret
from campus.platform.users import service as users

KEY_PREFIX = "gwk_"  # every API key starts so
HMAC_PREFIX = "gwh_"  # every HMAC key id starts so


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def changed(session: AsyncSession, cache: Cache) -> None:
    """Once the transaction commits, every gateway process reads the configuration again."""

    async def bump() -> None:
        await snapshot.bump(cache)

    after_commit(session, bump)


# ---------------------------------------------------------------- services


async def do_create_service(session: AsyncSession, cache: Cache, body: ServiceIn) -> ServiceOut:
    if await queries.find_service(session, body.name) is not None:
        raise Conflict.on("name", _("网关服务“{name}”已存在", name=body.name))
    if body.owner_id is not None and await users.get_person_ref(session, body.owner_id) is None:
        raise InvalidInput.on("owner_id", _("人员 {id} 不存在", id=body.owner_id))
    service = GatewayService(**body.model_dump(), created_at=clock.now())
    session.add(service)
    await session.flush()
    after = body.model_dump()
    audit.record(session, "gateway.service.create", "gw_service", service.id, after=after)
    await emit(session, events.SERVICE_CREATED, events.EntityChanged(id=service.id, name=body.name))
    changed(session, cache)
    return ServiceOut.model_validate(service)


async def do_delete_service(session: AsyncSession, cache: Cache, name: str) -> None:
    service = await queries.get_service(session, name)
    routes = await session.scalar(
        select(func.count()).select_from(GatewayRoute).where(GatewayRoute.service_id == service.id)
    )
    if routes:
        raise Conflict(_("网关服务“{name}”还有 {n} 条路由，请先删除路由", name=name, n=routes))
    await session.delete(service)
    audit.record(session, "gateway.service.delete", "gw_service", service.id, before={"name": name})
    await emit(session, events.SERVICE_DELETED, events.EntityChanged(id=service.id, name=name))
    changed(session, cache)


# ---------------------------------------------------------------- routes


async def check_route(session: AsyncSession, body: RouteIn) -> GatewayService:
    service = await queries.find_service(session, body.service)
    if service is None:
        raise InvalidInput.on("service", _("网关服务“{name}”不存在", name=body.service))
    if await session.scalar(select(GatewayRoute.id).where(GatewayRoute.name == body.name)):
        raise Conflict.on("name", _("路由“{name}”已存在", name=body.name))
    clash = select(GatewayRoute.id).where(
        GatewayRoute.service_id == service.id, GatewayRoute.path_prefix == body.path_prefix
    )
    if await session.scalar(clash):
        raise Conflict.on("path_prefix", _("该服务已有路径前缀为“{p}”的路由", p=body.path_prefix))
    return service


async def do_create_route(session: AsyncSession, cache: Cache, body: RouteIn) -> RouteOut:
    service = await check_route(session, body)
    fields = body.model_dump(exclude={"service"})
    route = GatewayRoute(**fields, service_id=service.id, created_at=clock.now())
    session.add(route)
    await session.flush()
    audit.record(session, "gateway.route.create", "gw_route", route.id, after=body.model_dump())
    await emit(session, events.ROUTE_CREATED, events.EntityChanged(id=route.id, name=body.name))
    changed(session, cache)
    return queries.route_out(route, service.name)


async def do_delete_route(session: AsyncSession, cache: Cache, name: str) -> None:
    route = await session.scalar(select(GatewayRoute).where(GatewayRoute.name == name))
    if route is None:
        raise NotFound(_("路由“{name}”不存在", name=name))
    await session.delete(route)
    audit.record(session, "gateway.route.delete", "gw_route", route.id, before={"name": name})
    await emit(session, events.ROUTE_DELETED, events.EntityChanged(id=route.id, name=name))
    changed(session, cache)


# ---------------------------------------------------------------- consumers and credentials


async def do_create_consumer(session: AsyncSession, cache: Cache, body: ConsumerIn) -> ConsumerOut:
    if await queries.find_consumer(session, body.username) is not None:
        raise Conflict.on("username", _("消费者“{name}”已存在", name=body.username))
    consumer = GatewayConsumer(**body.model_dump(), created_at=clock.now())
    session.add(consumer)
    await session.flush()
    after = body.model_dump()
    audit.record(session, "gateway.consumer.create", "gw_consumer", consumer.id, after=after)
    payload = events.EntityChanged(id=consumer.id, name=body.username)
    await emit(session, events.CONSUMER_CREATED, payload)
    changed(session, cache)
    return queries.consumer_out(consumer, [])


async def do_set_limits(
    session: AsyncSession, cache: Cache, username: str, body: LimitsIn
) -> ConsumerOut:
    consumer = await queries.get_consumer(session, username)
    before = {
        "rate_limit_per_minute": consumer.rate_limit_per_minute,
        "quota_per_day": consumer.quota_per_day,
    }
    consumer.rate_limit_per_minute = body.rate_limit_per_minute
    consumer.quota_per_day = body.quota_per_day
    after = body.model_dump()
    audit.record(
        session, "gateway.consumer.limits", "gw_consumer", consumer.id, before=before, after=after
    )
    payload = events.EntityChanged(id=consumer.id, name=username)
    await emit(session, events.CONSUMER_LIMITS_CHANGED, payload)
    changed(session, cache)
    return await queries.consumer_detail(session, consumer)


async def do_bind_oauth_client(
    session: AsyncSession, cache: Cache, username: str, name: str
) -> OAuthClientIssued:
    """Register a client-credentials client at the identity center for the consumer (its id
    is the consumer's username) and bind it: its bearer tokens then identify the consumer."""
    consumer = await queries.get_consumer(session, username)
    if consumer.oauth_client_id is not None:
        raise Conflict(_("消费者“{name}”已有 OAuth 客户端", name=username))
    description = f"API 网关消费者 {username}"
    secret = await oidc.register_machine_client(session, username, name, description)
    consumer.oauth_client_id = username
    after = {"consumer": username, "client_id": username}
    audit.record(session, "gateway.consumer.oauth_client", "gw_consumer", consumer.id, after=after)
    payload = events.EntityChanged(id=consumer.id, name=username)
    await emit(session, events.CONSUMER_OAUTH_BOUND, payload)
    changed(session, cache)
    return OAuthClientIssued(
        client_id=username, client_secret=secret, token_endpoint=oidc.TOKEN_PATH
    )


def _new_secret(kind: str) -> tuple[str, str, str | None, dict[str, Any]]:
    """(stored key id, hint, stored secret, what is shown once)."""
    if kind == "key":
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        return hash_key(key), key[:10], None, {"key": key}
    key_id = HMAC_PREFIX + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, key_id[:10], secret, {"key_id": key_id, "secret": secret}


async def do_issue_credential(
    session: AsyncSession, rt: Runtime, username: str, body: CredentialIn
) -> CredentialIssued:
    """A new API key or HMAC key of the consumer, shown once (an HMAC secret is stored sealed)."""
    consumer = await queries.get_consumer(session, username)
    key_id, hint, secret, shown = _new_secret(body.kind)
    if secret is not None:
        secret = seal_secret(rt.settings.secret_key, key_id, secret)
    credential = GatewayCredential(
        consumer_id=consumer.id,
        kind=body.kind,
        key_id=key_id,
        hint=hint,
        secret=secret,
        created_by=context.actor_id(),
        created_at=clock.now(),
    )
    session.add(credential)
    await session.flush()
    after = {"consumer": username, "kind": body.kind, "hint": hint}
    audit.record(session, "gateway.credential.issue", "gw_credential", credential.id, after=after)
    payload = events.CredentialChanged(
        credential_id=credential.id, consumer=username, kind=body.kind
    )
    await emit(session, events.CREDENTIAL_ISSUED, payload)
    changed(session, rt.cache)
    out = CredentialOut.model_validate(credential).model_dump()
    return CredentialIssued(**out, consumer=username, **shown)


async def do_revoke_credential(
    session: AsyncSession, cache: Cache, credential_id: int
) -> CredentialOut:
    credential = await session.get(GatewayCredential, credential_id)
    if credential is None:
        raise NotFound(_("凭据 {id} 不存在", id=credential_id))
    if credential.revoked_at is not None:
        raise Conflict(_("该凭据已吊销"))
    consumer = await session.get(GatewayConsumer, credential.consumer_id)
    assert consumer is not None
    credential.revoked_at = clock.now()
    after = {"consumer": consumer.username, "kind": credential.kind}
    audit.record(session, "gateway.credential.revoke", "gw_credential", credential.id, after=after)
    payload = events.CredentialChanged(
        credential_id=credential.id, consumer=consumer.username, kind=credential.kind
    )
    await emit(session, events.CREDENTIAL_REVOKED, payload)
    changed(session, cache)
    return CredentialOut.model_validate(credential)
