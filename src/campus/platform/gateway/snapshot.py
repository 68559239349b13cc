"""The gateway's configuration as one process holds it: services, routes, consumers and their
active credentials, read from the database at once and kept until the shared version in the
cache changes (every write of the admin API sets a new one once it has committed)."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.cache import Cache
from campus.kernel.runtime import Runtime
from campus.platform.gateway import queries
from campus.platform.gateway.sealed import open_secret

VERSION_KEY = "gw:config-version"
MAX_AGE_SECONDS = 30.0  # read afresh at least this often, whatever the version says


@dataclass(frozen=True)
class Service:
    name: str
    registry_service: str | None
    url: str | None
    connect_timeout: float
    read_timeout: float
    retries: int
    max_body_bytes: int
    subscription: str = "none"  # "open"/"approval": only subscribed apps get through
    registry_module: str | None = None  # only instances serving this module


@dataclass(frozen=True)
class Route:
    name: str
    service: str
    path_prefix: str
    methods: frozenset[str]
    strip_prefix: bool
    public: bool
    allow_groups: frozenset[str]
    rate_limit_per_minute: int | None
    timeout: float | None
    hosts: frozenset[str] = frozenset()

    def matches(self, path: str) -> bool:
        prefix = self.path_prefix
        return prefix == "/" or path == prefix or path.startswith(prefix + "/")

    def admits(self, host: str) -> bool:
        """A route with hosts answers only requests for one of them."""
        return not self.hosts or host in self.hosts

    @property
    def stripped(self) -> str:
        """What the route takes off the front of the path before forwarding it ("" for none)."""
        return self.path_prefix if self.strip_prefix and self.path_prefix != "/" else ""


@dataclass(frozen=True)
class Consumer:
    username: str
    groups: frozenset[str]
    rate_limit_per_minute: int | None
    quota_per_day: int | None = None
    subscriptions: frozenset[str] = frozenset()  # services, approved


@dataclass
class Snapshot:
    version: bytes | None
    loaded_at: float
    services: dict[str, Service] = field(default_factory=dict)
    routes: dict[str, list[Route]] = field(default_factory=dict)  # by service, longest first
    consumers: dict[str, Consumer] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # key hash -> consumer
    hmac: dict[str, tuple[str, str]] = field(default_factory=dict)  # key id -> consumer, secret
    by_host: dict[str, list[Route]] = field(default_factory=dict)  # host -> routes, longest first
    clients: dict[str, str] = field(default_factory=dict)  # OAuth client id -> consumer

    def route_for(self, service: str, path: str, method: str, host: str = "") -> Route | None:
        for route in self.routes.get(service, ()):
            if route.matches(path) and method in route.methods and route.admits(host):
                return route
        return None

    def route_at_host(self, host: str, path: str, method: str) -> Route | None:
        """The route a request for ``host`` at the site's root goes to (host rules)."""
        for route in self.by_host.get(host, ()):
            if route.matches(path) and method in route.methods:
                return route
        return None


_held: Snapshot | None = None
_loading: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}  # one lock, of this loop


async def current(rt: Runtime) -> Snapshot:
    """This process's snapshot, read again when the shared version moved or it got old; one
    read at a time (the requests arriving meanwhile wait for it rather than read too)."""
    global _held
    version = await rt.cache.get(VERSION_KEY)
    if _fresh(_held, version):
        assert _held is not None
        return _held
    async with _lock():
        if not _fresh(_held, version):
            _held = await load(rt, version)
        assert _held is not None
        return _held


def _lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    if loop not in _loading:
        _loading.clear()
        _loading[loop] = asyncio.Lock()
    return _loading[loop]


def _fresh(held: Snapshot | None, version: bytes | None) -> bool:
    return (
        held is not None
        and held.version == version
        and time.monotonic() - held.loaded_at <= MAX_AGE_SECONDS
    )


async def bump(cache: Cache) -> None:
    """A new shared version: every process reads the configuration again."""
    await cache.set(VERSION_KEY, secrets.token_hex(8).encode())


def forget() -> None:
    global _held
    _held = None


async def load(rt: Runtime, version: bytes | None) -> Snapshot:
    snapshot = Snapshot(version=version, loaded_at=time.monotonic())
    async with rt.db.read() as session:
        # Inside: the rows expire when it ends.
        _fill(snapshot, await _rows(session), rt.settings.secret_key)
    return snapshot


async def _rows(session: AsyncSession) -> tuple[Any, ...]:
    return (
        await queries.all_services(session),
        await queries.list_routes(session),
        await queries.all_consumers(session),
        await queries.active_credentials(session),
        await queries.approved_subscriptions(session),
    )


def _fill(snapshot: Snapshot, rows: tuple[Any, ...], secret_key: str) -> None:
    services, routes, consumers, credentials, subscriptions = rows
    for s in services:
        snapshot.services[s.name] = Service(
            s.name,
            s.registry_service,
            s.url,
            s.connect_timeout_ms / 1000,
            s.read_timeout_ms / 1000,
            s.retries,
            s.max_body_bytes,
            s.subscription,
            s.registry_module,
        )
    for r in routes:
        snapshot.routes.setdefault(r.service, []).append(
            Route(
                r.name,
                r.service,
                r.path_prefix,
                frozenset(r.methods),
                r.strip_prefix,
                r.public,
                frozenset(r.allow_groups),
                r.rate_limit_per_minute,
                None if r.timeout_ms is None else r.timeout_ms / 1000,
                frozenset(r.hosts),
            )
        )
    for listed in snapshot.routes.values():
        listed.sort(key=lambda route: len(route.path_prefix), reverse=True)
        for route in listed:
            for host in route.hosts:
                snapshot.by_host.setdefault(host, []).append(route)
    for listed in snapshot.by_host.values():
        listed.sort(key=lambda route: len(route.path_prefix), reverse=True)
    subscribed: dict[str, set[str]] = {}
    for username, service in subscriptions:
        subscribed.setdefault(username, set()).add(service)
    for c in consumers:
        if c.oauth_client_id:
            snapshot.clients[c.oauth_client_id] = c.username
        snapshot.consumers[c.username] = Consumer(
            c.username,
            frozenset(c.groups),
            c.rate_limit_per_minute,
            c.quota_per_day,
            frozenset(subscribed.get(c.username, ())),
        )
    for credential, username in credentials:
        if credential.kind == "key":
            snapshot.keys[credential.key_id] = username
        elif credential.secret is not None:
            secret = open_secret(secret_key, credential.key_id, credential.secret)
            if secret is not None:
                snapshot.hmac[credential.key_id] = (username, secret)
