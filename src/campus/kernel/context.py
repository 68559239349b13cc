"""What the current request or handled event is about: who acts, from where, under which id."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """A signed-in person as the kernel sees them: an id, a name and permission codes.

    ``audience`` is "student" or "staff" for a person signed in through a session (which of
    the menu's personal entries are theirs); None where it is not known."""

    person_id: int
    name: str
    login: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    session_id: str | None = None
    audience: str | None = None

    def can(self, code: str) -> bool:
        return code in self.permissions or "*" in self.permissions


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    principal: Principal | None = None


_context: ContextVar[RequestContext] = ContextVar("campus_request", default=RequestContext())  # noqa: B039 (frozen)


def current() -> RequestContext:
    return _context.get()


def set_context(ctx: RequestContext) -> None:
    _context.set(ctx)


def actor_id() -> int | None:
    principal = _context.get().principal
    return principal.person_id if principal else None
