"""The API center's public interface.

- ``export_kong(rt, tag)``: the gateway's configuration as a deterministic Kong declarative
  configuration (YAML text), every entity tagged ``tag``.
"""

from __future__ import annotations

from campus.kernel.runtime import Runtime
from campus.platform.gateway import kong

__all__ = ["export_kong"]


async def export_kong(rt: Runtime, tag: str) -> str:
    return await kong.export(rt, tag)
