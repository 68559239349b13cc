"""The demo university: every module contributes its part through its ``seed.py``."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from campus.kernel.runtime import Runtime

Scale = Literal["small", "medium", "large"]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    login: str
    password: str
    name: str


@dataclass
class SeedContext:
    runtime: Runtime
    scale: Scale
    seed: int
    logins: list[DemoLogin] = field(default_factory=list)

    def rng(self, module: str) -> random.Random:
        """A random source per module, so adding one module does not reshuffle another's data."""
        return random.Random(f"{self.seed}:{module}")  # noqa: S311 (demo data, not secrets)


async def seed_all(runtime: Runtime, scale: Scale, seed: int) -> SeedContext:
    ctx = SeedContext(runtime=runtime, scale=scale, seed=seed)
    for module in sorted(runtime.modules, key=lambda m: m.seed_order):
        if module.seed is not None:
            await module.seed(ctx)
    return ctx
