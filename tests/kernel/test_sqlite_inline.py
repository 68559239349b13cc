"""The embedded SQLite driver lets this process's writers in one at a time, in the order they
asked: under a steady stream of writers none waits longer than those before it, and a writer
whose turn does not come in time fails as "database is locked" (a 503 to retry), holding
nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from campus.kernel import sqlite_inline
from campus.kernel.sqlite_inline import Connection, connector


async def _held(path: Path) -> tuple[Callable[[], Awaitable[Connection]], Connection]:
    """A database with an empty table, its connector, and a writer holding its lock."""
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE turn (name TEXT)")
    connect = connector(str(path))
    holder: Connection = await connect()
    await holder.cursor().execute("BEGIN IMMEDIATE")
    return connect, holder


async def _write(connect: Callable[[], Awaitable[Connection]], name: str, order: list[str]) -> None:
    connection: Connection = await connect()
    try:
        await connection.cursor().execute("BEGIN IMMEDIATE")
        order.append(name)
        await connection.cursor().execute("INSERT INTO turn VALUES (?)", (name,))
        await connection.commit()
    finally:
        await connection.close()


async def test_writers_get_the_lock_in_the_order_they_asked(tmp_path: Path) -> None:
    path = tmp_path / "turns.db"
    connect, holder = await _held(path)
    order: list[str] = []
    writers = []
    for name in ("first", "second", "third", "fourth"):
        writers.append(asyncio.create_task(_write(connect, name, order)))
        await asyncio.sleep(0.03)  # each asks later than the one before
    await asyncio.sleep(0.1)
    assert order == [], "nobody writes while the lock is held"
    await holder.commit()
    await asyncio.gather(*writers)
    await holder.close()
    assert order == ["first", "second", "third", "fourth"]
    with sqlite3.connect(path) as check:
        assert [r[0] for r in check.execute("SELECT name FROM turn")] == order


async def test_the_turn_passes_on_when_a_writer_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "rollback.db"
    connect, holder = await _held(path)
    order: list[str] = []
    waiting = asyncio.create_task(_write(connect, "next", order))
    await asyncio.sleep(0.05)
    await holder.rollback()
    await asyncio.wait_for(waiting, 5)
    assert order == ["next"]
    await holder.close()


async def test_a_writer_whose_turn_does_not_come_fails_as_locked_and_holds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "LOCK_WAIT_SECONDS", 0.2)
    path = tmp_path / "stuck.db"
    connect, holder = await _held(path)
    late: Connection = await connect()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        await late.cursor().execute("BEGIN IMMEDIATE")
    await holder.commit()
    # The late writer kept no turn: it and a third writer both get in now.
    await late.cursor().execute("BEGIN IMMEDIATE")
    await late.commit()
    order: list[str] = []
    await asyncio.wait_for(_write(connect, "third", order), 5)
    assert order == ["third"]
    for connection in (holder, late):
        await connection.close()
