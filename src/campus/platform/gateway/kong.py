"""The gateway's configuration as a Kong declarative configuration (``_format_version: "3.0"``),
so that a production site can put Kong in front with the same services, routes, consumers and
plugins. Deterministic: every list is sorted and the YAML is written with sorted keys, so the same
configuration gives the same bytes. Every entity carries the given tag.

A service offered on the developer platform (subscription ``open`` or ``approval``) admits only
subscribed consumers: its Kong service carries an ``acl`` allowing ``subscriber:<service>``, the
group every consumer with an approved subscription to it is given. A route of such a service
with its own groups needs both; Kong's route plugin replaces the service's, so that route's
``acl`` allows ``<group>:<service>``, given to a subscribed consumer for each of its groups
(group names never contain ``:``). A consumer's daily quota is the ``day`` limit of its
``rate-limiting`` plugin (Kong counts days in UTC, the gateway in campus time).

A protected route accepts any one of the gateway's credentials: an API key (``key-auth``), an
HMAC signature (``hmac-auth``) or a bearer token of the identity center (``jwt``, the consumer
found by the token's ``client_id``). Kong would demand all of its auth plugins at once, so each
names the consumer ``campus-anonymous`` as its ``anonymous`` fallback, and that consumer's
``request-termination`` answers 401: whoever passes none of them is refused, as at the gateway.

Secrets are not exported: API keys are stored only as hashes, and secrets do not belong in a
configuration file; consumers get new keys and HMAC credentials in Kong (or through its admin
API). A consumer bound to an OAuth client gets a ``jwt_secrets`` entry holding the identity
center's *public* signing key (RS256, the active key at export time): export again after the
keys are rotated.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import yaml

from campus.kernel.runtime import Runtime
from campus.platform.auth.oidc import service as oidc
from campus.platform.gateway import balancer, credentials, queries
from campus.platform.gateway.schemas import ConsumerOut, RouteOut, ServiceOut
from campus.platform.registry import service as registry

TAG_PATTERN = r"^[A-Za-z0-9._~:-]{1,60}$"
ANONYMOUS = "campus-anonymous"  # the consumer of requests that passed no auth plugin
CLIENT_CLAIM = "client_id"  # the claim of an access token that names its client
Entity = dict[str, Any]


async def export(rt: Runtime, tag: str) -> str:
    """The YAML text of the configuration, every entity tagged ``tag``."""
    async with rt.db.read() as session:
        services = await queries.list_services(session)
        routes = await queries.list_routes(session)
        consumers = await queries.list_consumers(session)
        subscribed: dict[str, set[str]] = {}
        for username, service in await queries.approved_subscriptions(session):
            subscribed.setdefault(username, set()).add(service)
    upstreams = {
        upstream_name(s): await _upstream(rt, s, tag) for s in services if s.registry_service
    }
    signing_key = await oidc.signing_public_key(rt)
    exported = [
        _consumer(c, subscribed.get(c.username, set()), signing_key, tag) for c in consumers
    ]
    document: Entity = {
        "_format_version": "3.0",
        "services": _services(services, routes, tag),
        "consumers": sorted([*exported, _anonymous(tag)], key=lambda c: str(c["username"])),
        "upstreams": [upstreams[name] for name in sorted(upstreams)],
    }
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True, default_flow_style=False)


def _services(services: list[ServiceOut], routes: list[RouteOut], tag: str) -> list[Entity]:
    """One Kong service per gateway service; a route that keeps its prefix gets a service of its
    own whose path is that prefix (Kong's services, not its routes, carry a path)."""
    out: list[Entity] = []
    for service in services:
        own = [r for r in routes if r.service == service.name]
        stripping = [r for r in own if r.strip_prefix or r.path_prefix == "/"]
        out.append(_service(service, service.name, None, stripping, tag))
        for route in own:
            if route not in stripping:
                name = f"{service.name}--{route.name}"
                out.append(_service(service, name, route.path_prefix, [route], tag))
    return sorted(out, key=lambda s: str(s["name"]))


def _service(
    service: ServiceOut, name: str, path: str | None, routes: list[RouteOut], tag: str
) -> Entity:
    entity: Entity = {
        "name": name,
        "connect_timeout": service.connect_timeout_ms,
        "read_timeout": service.read_timeout_ms,
        "write_timeout": service.read_timeout_ms,
        "retries": service.retries,
        "tags": [tag],
        "routes": sorted((_route(service, r, tag) for r in routes), key=lambda r: r["name"]),
        "plugins": [
            _plugin(
                "request-size-limiting",
                {"allowed_payload_size": service.max_body_bytes, "size_unit": "bytes"},
                tag,
            )
        ],
    }
    if service.subscription != "none":
        allow = {"allow": [subscriber_group(service.name)], "hide_groups_header": False}
        entity["plugins"].append(_plugin("acl", allow, tag))
        entity["plugins"].sort(key=lambda p: str(p["name"]))
    if service.url is not None:
        parts = urlsplit(service.url)
        entity["url"] = f"{parts.scheme}://{parts.netloc}{path or parts.path or ''}"
    else:
        entity.update(protocol="http", host=upstream_name(service), port=80)
        if path:
            entity["path"] = path
    return entity


def subscriber_group(service: str) -> str:
    return f"subscriber:{service}"


def _route(offered: ServiceOut, route: RouteOut, tag: str) -> Entity:
    service = offered.name
    prefix = "" if route.path_prefix == "/" else route.path_prefix
    plugins: list[Entity] = []
    if not route.public:
        plugins += _auth_plugins(tag)
    if route.allow_groups:
        allow = route.allow_groups
        if offered.subscription != "none":  # a group *and* the subscription
            allow = sorted(f"{group}:{service}" for group in allow)
        plugins.append(_plugin("acl", {"allow": allow, "hide_groups_header": False}, tag))
    if route.rate_limit_per_minute:
        limit = {"minute": route.rate_limit_per_minute, "limit_by": "service", "policy": "local"}
        plugins.append(_plugin("rate-limiting", limit, tag))
    paths = [f"/gw/{service}{prefix}"]
    if route.hosts:  # the same route at the root of its hosts
        paths.append(prefix or "/")
    entity: Entity = {
        "name": route.name,
        "paths": paths,
        "methods": sorted(route.methods),
        "strip_path": True,
        "preserve_host": False,
        "tags": [tag],
        "plugins": sorted(plugins, key=lambda p: str(p["name"])),
    }
    if route.hosts:
        entity["hosts"] = sorted(route.hosts)
    return entity


def _auth_plugins(tag: str) -> list[Entity]:
    """Any one of the three credentials; none of them: the anonymous consumer, refused."""
    key_auth = {"key_names": [credentials.KEY_HEADER], "hide_credentials": True}
    hmac_auth = {
        "clock_skew": credentials.CLOCK_SKEW_SECONDS,
        "enforce_headers": credentials.SIGNED_HEADERS.split(),
        "algorithms": sorted(credentials.ALGORITHMS),
        "validate_request_body": True,
        "hide_credentials": True,
    }
    jwt = {
        "header_names": ["authorization"],
        "uri_param_names": [],
        "cookie_names": [],
        "key_claim_name": CLIENT_CLAIM,
        "claims_to_verify": ["exp"],
    }
    return [
        _plugin(name, {**config, "anonymous": ANONYMOUS}, tag)
        for name, config in (("hmac-auth", hmac_auth), ("jwt", jwt), ("key-auth", key_auth))
    ]


def _anonymous(tag: str) -> Entity:
    refusal = {"status_code": 401, "message": "请提供有效的 API Key、请求签名或访问令牌"}
    return {
        "username": ANONYMOUS,
        "tags": [tag],
        "plugins": [_plugin("request-termination", refusal, tag)],
    }


def _consumer(
    consumer: ConsumerOut,
    subscriptions: set[str],
    signing_key: tuple[str, str] | None,
    tag: str,
) -> Entity:
    groups = set(consumer.groups)
    for service in subscriptions:
        groups.add(subscriber_group(service))
        groups.update(f"{group}:{service}" for group in consumer.groups)
    entity: Entity = {
        "username": consumer.username,
        "tags": [tag],
        "acls": [{"group": g, "tags": [tag]} for g in sorted(groups)],
        "plugins": [],
    }
    limit: Entity = {}
    if consumer.rate_limit_per_minute:
        limit["minute"] = consumer.rate_limit_per_minute
    if consumer.quota_per_day:
        limit["day"] = consumer.quota_per_day
    if limit:
        limit.update(limit_by="consumer", policy="local")
        entity["plugins"].append(_plugin("rate-limiting", limit, tag))
    if consumer.oauth_client_id and signing_key is not None:
        algorithm, public_key = signing_key
        secret = {"key": consumer.oauth_client_id, "algorithm": algorithm}
        entity["jwt_secrets"] = [{**secret, "rsa_public_key": public_key, "tags": [tag]}]
    return entity


def _plugin(name: str, config: Entity, tag: str) -> Entity:
    return {"name": name, "config": config, "tags": [tag]}


def upstream_name(service: ServiceOut) -> str:
    """The Kong upstream of a registry service (narrowed to one module's instances: a name of
    its own, hostname-shaped); services sharing both share it."""
    name = str(service.registry_service)
    if service.registry_module:
        name += "--" + service.registry_module.replace("_", "-")
    return name


async def _upstream(rt: Runtime, service: ServiceOut, tag: str) -> Entity:
    name = upstream_name(service)
    instances = await registry.discover(
        rt, str(service.registry_service), module=service.registry_module
    )
    targets = []
    for instance in instances:
        if instance.address and instance.weight > 0:
            parts = urlsplit(instance.address)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            targets.append(
                {"target": f"{parts.hostname}:{port}", "weight": instance.weight, "tags": [tag]}
            )
    failures = balancer.BREAKER_FAILURES
    passive = {
        "unhealthy": {
            "http_failures": failures,
            "tcp_failures": failures,
            "timeouts": failures,
            "http_statuses": [502, 503, 504],
        }
    }
    return {
        "name": name,
        "algorithm": "round-robin",
        "healthchecks": {"passive": passive},
        "targets": sorted(targets, key=lambda t: str(t["target"])),
        "tags": [tag],
    }
