"""A migrated database of a test module's own, beside the shared per-run one: for tests whose
requests must really commit (races, crashes, restarts), on whichever backend the run uses."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from campus.kernel import migrate


def own_database_url(name: str, tmp: Path) -> str:
    """``<run database>_<name>`` on PostgreSQL, a file in ``tmp`` on SQLite."""
    base = os.environ.get("CAMPUS_DATABASE_URL")
    if base and base.startswith("postgresql"):
        url = make_url(base)
        return url.set(database=f"{url.database}_{name}").render_as_string(hide_password=False)
    return f"sqlite+aiosqlite:///{tmp}/{name}.db"


async def _recreate_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    await admin.dispose()


async def migrated_database(name: str, tmp: Path) -> str:
    """The URL of a new, empty, migrated database named ``name``."""
    url = own_database_url(name, tmp)
    if url.startswith("postgresql"):
        await _recreate_postgres(url)
    await asyncio.to_thread(migrate.upgrade, url)
    return url
