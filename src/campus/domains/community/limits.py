"""Rate limits per person (fixed windows in the shared cache, so every process counts the same
hits): a flood of posts, comments or reports is refused with a 429 until the window ends."""

from __future__ import annotations

from dataclasses import dataclass

from campus.kernel import runtime
from campus.kernel.errors import TooManyRequests
from campus.kernel.i18n import _


@dataclass(frozen=True)
class Limit:
    name: str
    hits: int
    window_seconds: float


POSTS = Limit("post", 5, 600.0)  # five posts in ten minutes
COMMENTS = Limit("comment", 20, 300.0)  # twenty comments in five minutes
REPORTS = Limit("report", 20, 3600.0)


async def spend(limit: Limit, person_id: int) -> None:
    """Count one hit; a 429 (nothing written) when the person is over the limit."""
    decision = await runtime.current().cache.hit(
        f"cmty:{limit.name}:{person_id}", limit.hits, limit.window_seconds
    )
    if not decision.allowed:
        wait = int(decision.retry_after) + 1
        raise TooManyRequests(
            _("操作过于频繁，请 {n} 秒后再试", n=wait), extra={"retry_after": wait}
        )
