"""FastAPI dependency aliases that make route signatures read like prose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _transaction(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_runtime(request).db.transaction(lock_early=True) as session:
        yield session


async def _late_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_runtime(request).db.transaction() as session:
        yield session


async def _read_only(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_runtime(request).db.read() as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# One transaction per request: committed by the kernel before the response is sent.
SessionDep = Annotated[AsyncSession, Depends(_transaction, scope="function")]
# The same, for a route that does slow work first and then calls db.lock_for_writing itself.
LateSessionDep = Annotated[AsyncSession, Depends(_late_transaction, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(_read_only, scope="function")]
