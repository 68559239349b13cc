"""Async SQLAlchemy 2.0 on SQLite (WAL, embedded) or PostgreSQL (production).

One transaction per request or handled event: the kernel opens it and commits it; routes, pages
and actions never call ``commit()`` themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import BigInteger, CursorResult, DateTime, Executable, MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from campus.kernel import sqlite_inline

log = structlog.get_logger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every table; names follow NAMING_CONVENTION."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class FixedDecimal(TypeDecorator[Decimal]):
    """Exact decimals (credits, money) stored as integers of ``10**-places`` units.

    SQLite has no exact decimal type; an integer column is exact on every backend, and sums in
    SQL stay exact (``func.sum`` keeps the column's type, so the result comes back scaled)."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places

    def __repr__(self) -> str:  # how Alembic writes the column into a migration
        return f"{type(self).__name__}({self.places})"

    def process_bind_param(self, value: Decimal | int | None, dialect: Any) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.places)


async def on_connection(
    session: AsyncSession, statement: Executable, params: Any = None
) -> CursorResult[Any]:
    """A Core statement on the session's connection, in its transaction, past the ORM: no
    autoflush and no ORM dispatch (about 0.05 ms a statement; a hot path that also builds its
    statements once saves about 0.1 ms more). For statements that depend on nothing pending in
    the session."""
    connection = await session.connection()
    return await connection.execute(statement, params)


async def insert_ignore(
    session: AsyncSession,
    model: Any,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str] | None = None,
) -> int:
    """Insert the rows that do not clash with an existing one; returns how many went in.

    A clash is on the unique ``keys`` when given, else on any unique constraint. Two
    transactions inserting the same row at once both succeed, one of them inserting nothing
    (PostgreSQL makes the second wait for the first's outcome), so a counter bumped by the
    returned number stays exact."""
    if not rows:
        return 0
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(model).values(list(rows)).on_conflict_do_nothing(index_elements=keys)
    result: Any = await session.execute(stmt)
    return int(result.rowcount or 0)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"async_creator": sqlite_inline.connector(database or ":memory:")}
        if database in ("", ":memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


_AFTER_COMMIT = "campus.after_commit"
_AFTER_ROLLBACK = "campus.after_rollback"
AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` once the session's transaction has committed, never if it rolls back.

    For effects outside the database that must not announce what may still be undone, such
    as a live push to connected browsers. The durable record is the committed row (and its
    outbox event); a callback that fails is logged, not raised: the request has succeeded."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def after_rollback(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` if the session's transaction rolls back, never if it commits.

    For an effect taken outside the database ahead of the commit (a seat claimed in the
    cache) that must be given back when the write it stands for is undone."""
    session.info.setdefault(_AFTER_ROLLBACK, []).append(callback)


async def _run_after_commit(session: AsyncSession) -> None:
    session.info.pop(_AFTER_ROLLBACK, None)
    await _run_callbacks(session, _AFTER_COMMIT)


async def _run_after_rollback(session: AsyncSession) -> None:
    session.info.pop(_AFTER_COMMIT, None)
    await _run_callbacks(session, _AFTER_ROLLBACK)


async def _run_callbacks(session: AsyncSession, kind: str) -> None:
    for callback in session.info.pop(kind, []):
        try:
            await callback()
        except Exception:
            log.exception(f"{kind}_failed", callback=getattr(callback, "__name__", "?"))


class Database:
    """The engine and the session factory of one process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._bound = False

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def bind_to(self, connection: AsyncConnection) -> None:
        """Route every session through one connection whose outer transaction the caller owns.

        Tests use this to roll back everything a test wrote; commits become savepoint releases.
        """
        self._sessions = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        self._bound = True

    def unbind(self) -> None:
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._bound = False

    @asynccontextmanager
    async def transaction(self, *, lock_early: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on any error.

        ``lock_early`` (request transactions): on SQLite, which lets one writer in at a time,
        take the write lock up front. A transaction that reads first and writes later fails at
        once (SQLITE_BUSY_SNAPSHOT) if another writer committed in between; locking early makes
        it wait its turn (busy_timeout) instead. Work that opens a second transaction while its
        first is open (the embedded relay dispatching to handlers) must not lock early."""
        async with self._sessions() as session:
            try:
                if lock_early:
                    await self.lock_for_writing(session)
                yield session
                await session.commit()
            except BaseException:
                try:
                    await session.rollback()
                finally:
                    await _run_after_rollback(session)
                raise
            await _run_after_commit(session)

    async def lock_for_writing(self, session: AsyncSession) -> None:
        """Take the write lock now, as the transaction's first statement (SQLite; a no-op
        elsewhere). For a request that must do slow work before it touches the database (a
        password check) and so does not lock early: it calls this when the slow work is done."""
        if self.dialect == "sqlite" and not self._bound:
            await session.execute(text("BEGIN IMMEDIATE"))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only; whatever it touched is rolled back."""
        async with self._sessions() as session:
            try:
                yield session
            finally:
                await session.rollback()

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
