"""The whole org tree in memory, for modules that need paths, subtrees and names of many units
in one request (scope checks, pickers, audiences). Built by ``service.org_directory``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OrgDirectory:
    """Every org unit's name, kind, code and parent; children in display order."""

    names: dict[int, str] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)
    codes: dict[int, str] = field(default_factory=dict)
    parents: dict[int, int | None] = field(default_factory=dict)
    children: dict[int | None, list[int]] = field(default_factory=dict)

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self.names

    def name(self, unit_id: int | None) -> str:
        return self.names.get(unit_id, "") if unit_id is not None else ""

    def path(self, unit_id: int) -> list[int]:
        """The unit's ancestors, root first, the unit itself last."""
        path: list[int] = []
        current: int | None = unit_id
        while current is not None and current in self.parents and current not in path:
            path.append(current)
            current = self.parents[current]
        return path[::-1]

    def within(self, unit_id: int, ancestor: int) -> bool:
        return ancestor in self.path(unit_id)

    def subtree(self, unit_id: int) -> list[int]:
        """The unit and every unit below it."""
        found, stack = [], [unit_id]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(self.children.get(current, []))
        return found

    @property
    def roots(self) -> list[int]:
        return list(self.children.get(None, []))

    def top_unit(self, unit_id: int) -> int:
        """The unit's ancestor just below the root (its college or office), or itself."""
        path = self.path(unit_id)
        return path[1] if len(path) > 1 else unit_id

    def nearest(self, unit_id: int, kind: str) -> int:
        """The nearest unit of ``kind`` at or above ``unit_id`` (else the unit itself)."""
        for candidate in reversed(self.path(unit_id)):
            if self.kinds.get(candidate) == kind:
                return candidate
        return unit_id

    def ordered(self) -> list[tuple[int, str, int]]:
        """Every unit as (id, name, depth), each followed by the units below it."""
        rows: list[tuple[int, str, int]] = []

        def visit(parent: int | None, depth: int) -> None:
            for unit_id in self.children.get(parent, []):
                rows.append((unit_id, self.names[unit_id], depth))
                visit(unit_id, depth + 1)

        visit(None, 0)
        return rows

    def of_kind(self, *kinds: str) -> list[int]:
        """The units of these kinds, in display order."""
        return [u for u, _name, _depth in self.ordered() if self.kinds.get(u) in kinds]

    def by_code(self) -> dict[str, int]:
        return {code: unit_id for unit_id, code in self.codes.items()}
