from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from campus.entrypoints.http import MODULE_PACKAGES, create_app, load_modules
from campus.kernel.config import Settings
from campus.kernel.i18n import _
from campus.kernel.manifest import Module, discover, select


def _module(name: str, *depends: str) -> Module:
    return Module(name=name, title=_(name), package="campus", depends=depends)


def test_select_adds_dependencies_in_dependency_order() -> None:
    modules = [_module("portal", "auth"), _module("auth", "users"), _module("users")]
    assert [m.name for m in select(modules, {"portal"})] == ["users", "auth", "portal"]


def test_select_all_when_nothing_named() -> None:
    modules = [_module("b", "a"), _module("a")]
    assert [m.name for m in select(modules, None)] == ["a", "b"]


def test_unknown_module_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown modules: nosuch"):
        select([_module("a")], {"nosuch"})


def test_dependency_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="cycle"):
        select([_module("a", "b"), _module("b", "a")], None)


def test_discovery_finds_the_platform_modules() -> None:
    names = {m.name for m in discover(MODULE_PACKAGES)}
    assert {"users", "auth", "access", "portal"} <= names


def test_a_subset_serves_only_its_modules(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db", modules="access")
    assert [m.name for m in load_modules(settings)] == ["access"]
    subset = TestClient(create_app(settings))
    assert subset.get("/api/v1/auth/me").status_code == 404
    full = TestClient(create_app(settings.model_copy(update={"modules": "*"})))
    assert full.get("/api/v1/auth/me").status_code == 401
