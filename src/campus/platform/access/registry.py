"""The registered permission codes: what the enabled modules' manifests declare.

Built once per set of modules (the process's runtime, at its first use after start-up). A code
belongs to the module whose name it starts with; ``problems`` lists codes declared twice or
outside their module's name space (the architecture tests require it to be empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from campus.kernel import runtime
from campus.kernel.i18n import LazyText
from campus.kernel.manifest import Module


@dataclass(frozen=True)
class Registered:
    code: str
    title: LazyText
    module: str
    module_title: LazyText


@dataclass(frozen=True)
class Registry:
    by_code: dict[str, Registered]
    modules: tuple[tuple[Module, tuple[Registered, ...]], ...]  # modules that declare codes

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    def title_of(self, code: str) -> str:
        found = self.by_code.get(code)
        return str(found.title) if found is not None else code


def build_registry(modules: Sequence[Module]) -> Registry:
    by_code: dict[str, Registered] = {}
    groups: list[tuple[Module, tuple[Registered, ...]]] = []
    for module in modules:
        declared: list[Registered] = []
        for permission in module.permissions:
            if permission.code in by_code:
                continue  # the first declaration wins; ``problems`` reports the second
            entry = Registered(permission.code, permission.title, module.name, module.title)
            by_code[permission.code] = entry
            declared.append(entry)
        if declared:
            groups.append((module, tuple(declared)))
    return Registry(by_code, tuple(groups))


def problems(modules: Sequence[Module]) -> list[str]:
    """Codes declared by two modules, or outside the declaring module's name space."""
    found: list[str] = []
    owner: dict[str, str] = {}
    for module in modules:
        for permission in module.permissions:
            if permission.code in owner:
                found.append(
                    f"{permission.code}: declared by {owner[permission.code]} and {module.name}"
                )
            owner.setdefault(permission.code, module.name)
            if not permission.code.startswith(module.name + "."):
                found.append(f"{permission.code}: declared by {module.name}, outside its name")
    return found


_built: tuple[tuple[str, ...], Registry] | None = None


def registry() -> Registry:
    """The codes of the current runtime's modules."""
    global _built
    modules = runtime.current().modules
    names = tuple(m.name for m in modules)
    if _built is None or _built[0] != names:
        _built = (names, build_registry(modules))
    return _built[1]
