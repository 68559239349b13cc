"""Imports every module's tables so that Alembic sees the whole schema."""

from __future__ import annotations

import importlib
import pkgutil

import campus


def import_all_models() -> None:
    importlib.import_module("campus.kernel.events")
    importlib.import_module("campus.kernel.audit")
    for info in pkgutil.walk_packages(campus.__path__, "campus."):
        if info.name.endswith(".models") or info.name.startswith("campus.kernel."):
            if info.name.startswith("campus.migrations"):
                continue
            importlib.import_module(info.name)
