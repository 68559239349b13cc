"""Choosing an upstream: the healthy instances of a registry service (or a fixed URL), smooth
weighted round-robin among them, and a circuit breaker per instance.

All of it is this process's own state: each gateway process balances and breaks on what it sees.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from campus.kernel.runtime import Runtime
from campus.platform.gateway.snapshot import Service
from campus.platform.registry import service as registry

DISCOVERY_SECONDS = 1.0  # instances are read from the registry at most this often per service
BREAKER_FAILURES = 5  # consecutive failures that open an instance's breaker
BREAKER_COOLDOWN = 30.0  # seconds an open breaker waits before letting one trial through


@dataclass(frozen=True)
class Target:
    key: str  # instance id, or the fixed URL
    address: str
    weight: int


@dataclass
class Breaker:
    failures: int = 0
    opened_at: float | None = None
    trial: bool = False  # a half-open trial is on its way

    def allows(self, now: float) -> bool:
        if self.opened_at is None:
            return True
        if now - self.opened_at < BREAKER_COOLDOWN or self.trial:
            return False
        self.trial = True  # half-open: this one request tries
        return True

    def succeeded(self) -> None:
        self.failures, self.opened_at, self.trial = 0, None, False

    def failed(self, now: float) -> None:
        self.failures += 1
        self.trial = False
        if self.opened_at is not None or self.failures >= BREAKER_FAILURES:
            self.opened_at = now


_targets: dict[str, tuple[float, list[Target]]] = {}
_current: dict[str, int] = {}  # smooth round-robin weights by target key
_breakers: dict[str, Breaker] = {}


def reset() -> None:
    """Forget everything (tests)."""
    _targets.clear()
    _current.clear()
    _breakers.clear()


async def targets(rt: Runtime, service: Service) -> list[Target]:
    if service.url is not None:
        return [Target(service.url, service.url, 1)]
    assert service.registry_service is not None
    key = f"{service.registry_service}/{service.registry_module or ''}"
    cached = _targets.get(key)
    if cached is not None and time.monotonic() - cached[0] < DISCOVERY_SECONDS:
        return cached[1]
    instances = await registry.discover(
        rt, service.registry_service, module=service.registry_module
    )
    found = [Target(i.id, i.address, i.weight) for i in instances if i.address and i.weight > 0]
    _targets[key] = (time.monotonic(), found)
    return found


def choose(candidates: list[Target], tried: set[str]) -> Target | None:
    """The next target by smooth weighted round-robin among those not tried yet and whose
    breaker lets a request through."""
    now = time.monotonic()
    open_ = [t for t in candidates if t.key not in tried]
    if not open_:
        return None
    total = sum(t.weight for t in open_)
    for target in open_:
        _current[target.key] = _current.get(target.key, 0) + target.weight
    for target in sorted(open_, key=lambda t: _current[t.key], reverse=True):
        if breaker(target.key).allows(now):
            _current[target.key] -= total
            return target
    return None


def breaker(key: str) -> Breaker:
    found = _breakers.get(key)
    if found is None:
        found = _breakers[key] = Breaker()
    return found


def succeeded(target: Target) -> None:
    breaker(target.key).succeeded()


def failed(target: Target) -> None:
    breaker(target.key).failed(time.monotonic())


def is_open(key: str) -> bool:
    found = _breakers.get(key)
    return found is not None and found.opened_at is not None
