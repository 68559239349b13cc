"""A Kong declarative configuration, as ``kong.export`` writes it, read back into the gateway:
services, routes, consumers, their groups, limits and subscriptions. Exporting what was
imported gives the same bytes (the round trip the tests hold), so a site can move its gateway
configuration between installations, or edit it as a file.

All or nothing: the document is checked whole first (422 naming the entry, e.g.
``services[1].routes[0].paths``; 409 when a name is already taken), then written in the caller's
one transaction. Upstreams and their targets are not imported: the registry has the instances.
Nor are a consumer's ``jwt_secrets`` (its OAuth client lives at the identity center; bind one
again there) or the ``campus-anonymous`` consumer, which only backs the auth plugins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock, context
from campus.kernel.cache import Cache
from campus.kernel.errors import Conflict, FieldError, InvalidInput
from campus.kernel.i18n import _
from campus.platform.gateway import actions, kong, queries
from campus.platform.gateway.models import GatewayConsumer, GatewaySubscription
from campus.platform.gateway.schemas import ConsumerIn, RouteIn, ServiceIn

OWN_ROUTE = "--"  # a Kong service "<service>--<route>" carries a route that keeps its prefix
SUBSCRIBER = "subscriber:"
AUTH_PLUGINS = frozenset({"key-auth", "hmac-auth", "jwt"})  # any one: a protected route


@dataclass
class Plan:
    services: list[ServiceIn] = field(default_factory=list)
    routes: list[RouteIn] = field(default_factory=list)
    consumers: list[ConsumerIn] = field(default_factory=list)
    subscriptions: list[tuple[str, str]] = field(default_factory=list)  # (consumer, service)

    def counts(self) -> dict[str, int]:
        return {
            "services": len(self.services),
            "routes": len(self.routes),
            "consumers": len(self.consumers),
            "subscriptions": len(self.subscriptions),
        }


def parse(text: str, owner_id: int) -> Plan:
    """The plan of a Kong document, or InvalidInput naming what is wrong. A service open only
    to subscribers comes back needing approval, owned by ``owner_id`` (the importer): Kong
    does not say whose it was, and opening it to every app would widen it."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput.on("document", _("不是合法的 YAML：{e}", e=str(exc)[:200])) from exc
    if not isinstance(document, dict) or document.get("_format_version") != "3.0":
        raise InvalidInput.on("_format_version", _("应为 Kong 声明式配置，_format_version 为 3.0"))
    plan = Plan()
    offered: set[str] = set()
    for i, entity in enumerate(_list(document, "services")):
        _service(plan, entity, f"services[{i}]", offered, owner_id)
    for i, entity in enumerate(_list(document, "consumers")):
        _consumer(plan, entity, f"consumers[{i}]", offered)
    return plan


def _list(node: dict[str, Any], key: str, where: str = "") -> list[dict[str, Any]]:
    found = node.get(key) or []
    if not isinstance(found, list) or not all(isinstance(e, dict) for e in found):
        raise InvalidInput.on(f"{where}{key}", _("应为对象的列表"))
    return found


def _plugins(entity: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    found = {}
    for i, plugin in enumerate(_list(entity, "plugins", f"{where}.")):
        config = plugin.get("config") or {}
        if not isinstance(config, dict):
            raise InvalidInput.on(f"{where}.plugins[{i}].config", _("应为对象"))
        found[str(plugin.get("name"))] = config
    return found


def _valid(model: type[Any], values: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = [
            FieldError(f"{where}.{'.'.join(str(p) for p in e['loc'])}".rstrip("."), e["msg"])
            for e in exc.errors()
        ]
        raise InvalidInput(_("配置中有不合规的项"), errors=errors) from exc


def _service(
    plan: Plan, entity: dict[str, Any], where: str, offered: set[str], owner_id: int
) -> None:
    name = str(entity.get("name", ""))
    plugins = _plugins(entity, where)
    routes = _list(entity, "routes", f"{where}.")
    if OWN_ROUTE in name:  # the route of another service that keeps its prefix
        owner = name.split(OWN_ROUTE, 1)[0]
        for j, route in enumerate(routes):
            _route(plan, route, f"{where}.routes[{j}]", owner, str(entity.get("path", "/")))
        return
    upstream = _upstream_of(entity, where)
    limit = plugins.get("request-size-limiting", {})
    allowed = (plugins.get("acl") or {}).get("allow") or []
    if any(str(g) == SUBSCRIBER + name for g in allowed):
        offered.add(name)
    values = {
        "name": name,
        **upstream,
        "connect_timeout_ms": entity.get("connect_timeout"),
        "read_timeout_ms": entity.get("read_timeout"),
        "retries": entity.get("retries"),
        "max_body_bytes": limit.get("allowed_payload_size"),
        "subscription": "approval" if name in offered else "none",
        "owner_id": owner_id if name in offered else None,
    }
    plan.services.append(_valid(ServiceIn, _drop_none(values), where))
    for j, route in enumerate(routes):
        _route(plan, route, f"{where}.routes[{j}]", name, None)


def _upstream_of(entity: dict[str, Any], where: str) -> dict[str, Any]:
    if entity.get("url"):
        return {"url": entity["url"]}
    host = str(entity.get("host") or "")
    if not host:
        raise InvalidInput.on(f"{where}.url", _("服务需要 url 或指向上游的 host"))
    service, _sep, module = host.partition(OWN_ROUTE)
    return {"registry_service": service, "registry_module": module.replace("-", "_") or None}


def _route(
    plan: Plan, entity: dict[str, Any], where: str, service: str, kept_prefix: str | None
) -> None:
    paths = entity.get("paths") or []
    hosts = entity.get("hosts") or []
    base = f"/gw/{service}"
    if len(paths) != 1 + bool(hosts) or not str(paths[0]).startswith(base):
        raise InvalidInput.on(f"{where}.paths", _("路由应有一条以 {p} 开头的路径", p=base))
    plugins = _plugins(entity, where)
    groups = (plugins.get("acl") or {}).get("allow") or []
    suffix = f":{service}"
    values = {
        "name": entity.get("name"),
        "service": service,
        "path_prefix": kept_prefix or str(paths[0])[len(base) :] or "/",
        "methods": entity.get("methods"),
        "strip_prefix": kept_prefix is None,
        "public": not AUTH_PLUGINS.intersection(plugins),
        "hosts": hosts,
        "allow_groups": [str(g).removesuffix(suffix) for g in groups],
        "rate_limit_per_minute": (plugins.get("rate-limiting") or {}).get("minute"),
    }
    plan.routes.append(_valid(RouteIn, _drop_none(values), where))


def _consumer(plan: Plan, entity: dict[str, Any], where: str, offered: set[str]) -> None:
    username = str(entity.get("username", ""))
    if username == kong.ANONYMOUS:  # the export's fallback of the auth plugins, not a consumer
        return
    groups: list[str] = []
    for acl in _list(entity, "acls", f"{where}."):
        group = str(acl.get("group", ""))
        if group.startswith(SUBSCRIBER):
            plan.subscriptions.append((username, group.removeprefix(SUBSCRIBER)))
        elif not any(group.endswith(f":{s}") for s in offered):  # group *and* subscription
            groups.append(group)
    limits = _plugins(entity, where).get("rate-limiting") or {}
    values = {
        "username": username,
        "groups": groups,
        "rate_limit_per_minute": limits.get("minute"),
        "quota_per_day": limits.get("day"),
    }
    plan.consumers.append(_valid(ConsumerIn, _drop_none(values), where))


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


async def apply(session: AsyncSession, cache: Cache, plan: Plan) -> dict[str, int]:
    """Write the plan (after checking that none of its names is taken)."""
    await _check_free(session, plan)
    for service in plan.services:
        await actions.do_create_service(session, cache, service)
    for route in plan.routes:
        await actions.do_create_route(session, cache, route)
    for consumer in plan.consumers:
        await actions.do_create_consumer(session, cache, consumer)
    await _subscribe(session, plan)
    counts = plan.counts()
    audit.record(session, "gateway.kong.import", "gw_service", None, after=counts)
    return counts


async def _check_free(session: AsyncSession, plan: Plan) -> None:
    for service in plan.services:
        if await queries.find_service(session, service.name) is not None:
            raise Conflict.on("services", _("网关服务“{name}”已存在", name=service.name))
    for consumer in plan.consumers:
        if await queries.find_consumer(session, consumer.username) is not None:
            raise Conflict.on("consumers", _("消费者“{name}”已存在", name=consumer.username))
    names = {s.name for s in plan.services}
    for username, subscribed in plan.subscriptions:
        if subscribed not in names:
            message = _("消费者“{c}”订阅的服务“{s}”不在配置中", c=username, s=subscribed)
            raise InvalidInput.on("consumers", message)


async def _subscribe(session: AsyncSession, plan: Plan) -> None:
    now = clock.now()
    for username, name in plan.subscriptions:
        consumer: GatewayConsumer = await queries.get_consumer(session, username)
        service = await queries.get_service(session, name)
        session.add(
            GatewaySubscription(
                consumer_id=consumer.id,
                service_id=service.id,
                status="approved",
                note=str(_("随 Kong 配置导入")),
                decision_note="",
                requested_by=None,
                requested_at=now,
                decided_by=context.actor_id(),
                decided_at=now,
            )
        )
    await session.flush()
