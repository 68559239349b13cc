"""Architecture rules of DESIGN.md, checked on every run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from fastapi.routing import APIRoute

from campus.entrypoints.http import MODULE_PACKAGES
from campus.kernel.manifest import discover
from campus.platform.access.service import declared_permission

ROOT = Path(__file__).resolve().parents[2]
# Files a module keeps to itself; others reach it through service.py and events.py.
PRIVATE = ("models", "queries", "actions", "handlers", "routes", "pages", "seed")
MODULE_PATTERN = re.compile(r"^campus\.(platform|domains|data|web)\.([a-z_]+)")


def _module_of(name: str) -> str | None:
    match = MODULE_PATTERN.match(name)
    return f"campus.{match.group(1)}.{match.group(2)}" if match else None


def test_import_linter_contracts_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_imports_another_modules_private_files() -> None:
    graph = grimp.build_graph("campus")
    offences = []
    for importer in sorted(graph.modules):
        own = _module_of(importer)
        for imported in graph.find_modules_directly_imported_by(importer):
            target = _module_of(imported)
            if target is None or target == own:
                continue
            if imported.rsplit(".", 1)[-1] in PRIVATE or ".models." in imported:
                if importer.startswith("campus.migrations"):
                    continue
                # A module's own pages may reuse its routes; the app factory reads manifests only.
                offences.append(f"{importer} imports {imported}")
    assert not offences, "private files imported across modules:\n" + "\n".join(offences)


def _routes() -> list[APIRoute]:
    return [route for m in discover(MODULE_PACKAGES) for route in m.api_routes()]


def test_every_route_declares_its_permission() -> None:
    undeclared = []
    routes = _routes()
    assert len(routes) > 5, "the modules mount their routes"
    for route in routes:
        codes = [declared_permission(d.call) for d in _all_dependencies(route.dependant)]
        if not any(codes):
            undeclared.append(f"{sorted(route.methods)} {route.path}")
    for module in discover(MODULE_PACKAGES):
        for plain in module.plain_routes():
            if not declared_permission(plain.endpoint):
                undeclared.append(f"{sorted(plain.methods or ())} {plain.path}")
    assert not undeclared, "routes without require()/signed_in()/public():\n" + "\n".join(
        undeclared
    )


def test_required_codes_are_declared_by_a_module() -> None:
    declared = {p.code for m in discover(MODULE_PACKAGES) for p in m.permissions}
    special = {"public", "signed-in"}
    unknown = set()
    for route in _routes():
        for dep in _all_dependencies(route.dependant):
            code = declared_permission(dep.call)
            if code and code not in declared | special:
                unknown.add(f"{route.path}: {code}")
    assert not unknown, sorted(unknown)


@pytest.mark.parametrize("module", discover(MODULE_PACKAGES), ids=lambda m: m.name)
def test_every_module_has_its_anatomy_and_a_page(module) -> None:  # type: ignore[no-untyped-def]
    package = module.directory
    init = (package / "__init__.py").read_text(encoding="utf-8")
    assert init.strip().startswith('"""'), f"{module.name}: __init__.py needs a docstring"
    assert (package / "manifest.py").exists()
    assert (ROOT / "docs" / "modules" / f"{module.name}.md").exists(), (
        f"docs/modules/{module.name}.md is missing"
    )


def test_module_names_are_unique() -> None:
    names = [m.name for m in discover(MODULE_PACKAGES)]
    assert len(names) == len(set(names))


def _all_dependencies(dependant):  # type: ignore[no-untyped-def]
    for dep in dependant.dependencies:
        yield dep
        yield from _all_dependencies(dep)
