"""Helpers for tests that start real Campus server processes on loopback ports."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(
    database_url: str, tmp: Path, secret_key: str, **settings: str
) -> dict[str, str]:
    """The environment of a server process on ``database_url`` with its files under ``tmp``:
    in-process cache and bus unless ``settings`` (more ``CAMPUS_*`` variables) say otherwise."""
    return {
        **os.environ,
        "CAMPUS_DATABASE_URL": database_url,
        "CAMPUS_REDIS_URL": "memory://",
        "CAMPUS_BROKER_URL": "memory://",
        "CAMPUS_STORAGE_URL": f"file://{tmp}/files",
        "CAMPUS_SECRET_KEY": secret_key,
        **settings,
    }
