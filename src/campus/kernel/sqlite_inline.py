"""SQLite for the embedded mode, driven in the event loop's own thread.

aiosqlite runs every call on a helper thread: each statement costs several thread hand-overs
(0.3–0.6 ms here), ten times the statement itself. SQLite is an in-process library whose calls on
a local file take microseconds, so the embedded mode calls it directly instead, behind the small
async interface SQLAlchemy's aiosqlite dialect expects (ADR 0002).

The one call that could block for long is waiting for another writer's lock. The connection
therefore runs with ``busy_timeout = 0`` and waits here, with ``asyncio.sleep``, so that the
writer holding the lock (often another request of this very process) can finish meanwhile.
Polling alone is not fair: under a steady stream of writers one unlucky waiter can miss the lock
for seconds. So the transactions of one process that take the write lock up front
(``BEGIN IMMEDIATE``) first queue for it in order, on an ``asyncio.Lock`` (first come, first
served); only the one at the head polls SQLite, which then only waits for other processes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# How long a statement waits for another writer before failing as "database is locked".
LOCK_WAIT_SECONDS = 10.0
_FIRST_PAUSE = 0.0005
_LONGEST_PAUSE = 0.02


def _is_busy(error: sqlite3.OperationalError) -> bool:
    # SQLITE_BUSY (5) can be waited out; SQLITE_BUSY_SNAPSHOT (517) cannot: the transaction read
    # a state that another writer has since changed, and must start again.
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY


async def _patiently(call: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    pause = _FIRST_PAUSE
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)


def _locked() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = sqlite3.SQLITE_BUSY
    return error


class WriteTurns:
    """The queue of this process's writers to one database file, one per event loop (an
    ``asyncio.Lock`` belongs to the loop it first waited on)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def take(self) -> asyncio.Lock:
        """Wait for this writer's turn, as long as a statement waits for SQLite's lock."""
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        try:
            async with asyncio.timeout(LOCK_WAIT_SECONDS):
                await lock.acquire()
        except TimeoutError:
            raise _locked() from None
        return lock


def _takes_write_lock(sql: str) -> bool:
    return sql.lstrip()[:15].upper() == "BEGIN IMMEDIATE"


class Cursor:
    def __init__(self, cursor: sqlite3.Cursor, connection: Connection) -> None:
        self._cursor = cursor
        self._connection = connection

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        if _takes_write_lock(sql):
            await self._connection.begin_writing(lambda: self._cursor.execute(sql))
        elif parameters is None:
            await _patiently(lambda: self._cursor.execute(sql))
        else:
            await _patiently(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        rows = list(rows)
        await _patiently(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _Inline:
    """Stands in for aiosqlite's request queue, which SQLAlchemy uses to set the isolation
    level: the function runs at once and its future is resolved."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the awaiting caller
            future.set_exception(error)


class Connection:
    """The part of ``aiosqlite.Connection`` that SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, connection: sqlite3.Connection, turns: WriteTurns) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _Inline()
        self._turns = turns
        self._turn: asyncio.Lock | None = None

    async def begin_writing(self, begin: Callable[[], Any]) -> None:
        """Queue for this process's write turn, then take SQLite's write lock with ``begin``;
        the turn passes on when the transaction commits or rolls back."""
        if self._turn is None:
            self._turn = await self._turns.take()
        try:
            await _patiently(begin)
        except BaseException:
            self._end_turn()
            raise

    def _end_turn(self) -> None:
        if self._turn is not None:
            self._turn.release()
            self._turn = None

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor(), self)

    async def commit(self) -> None:
        await _patiently(self._conn.commit)
        self._end_turn()

    async def rollback(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._end_turn()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        self._end_turn()
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)


def connector(database: str) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine`` opening ``database`` inline; its
    connections share one queue of writers."""
    turns = WriteTurns()

    async def connect() -> Connection:
        connection = sqlite3.connect(
            database,
            uri=database.startswith("file:"),
            check_same_thread=False,
            detect_types=0,
        )
        connection.execute("PRAGMA busy_timeout=0")
        return Connection(connection, turns)

    return connect
