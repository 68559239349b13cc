"""Presence across processes: two hubs on one cache. A person stays online while any process
has a connection of theirs, whichever closes first; a process that dies without closing is
forgotten within two presence windows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campus.kernel.cache import MemoryCache
from campus.kernel.runtime import Runtime
from campus.platform.messaging import live


def process(runtime: Runtime, cache: MemoryCache | None = None) -> Runtime:
    """Another "process": its own hub; the given cache, else the runtime's (shared)."""
    return Runtime(
        settings=runtime.settings,
        db=runtime.db,
        cache=runtime.cache if cache is None else cache,  # an empty MemoryCache is falsy
        bus=runtime.bus,
    )


@pytest.fixture
async def processes(runtime: Runtime) -> AsyncIterator[tuple[Runtime, Runtime, Runtime]]:
    """Two processes with connections and an observer with none, sharing one cache."""
    cache = MemoryCache()
    found = (process(runtime, cache), process(runtime, cache), process(runtime, cache))
    yield found
    for rt in found:
        await live.close(rt)


@contextmanager
def window_at(start: int) -> Iterator[list[int]]:
    """The presence window under the test's control: ``now[0] += 1`` moves to the next one."""
    now = [start]
    with mock.patch.object(live, "_window", lambda: now[0]):
        yield now


@pytest.mark.parametrize("first_to_close", [0, 1])
async def test_a_person_stays_online_while_another_process_has_a_connection(
    processes: tuple[Runtime, Runtime, Runtime], first_to_close: int
) -> None:
    a, b, observer = processes
    order = (a, b) if first_to_close == 0 else (b, a)
    async with live.connect(order[1], 951):
        async with live.connect(order[0], 951):
            assert await live.is_online(observer, 951)
        # The process that closed has no connection of the person any more; the other has.
        assert not live.online(order[0], 951)
        assert await live.is_online(order[0], 951)
        assert await live.is_online(observer, 951)
    assert not await live.is_online(observer, 951)
    assert not await live.is_online(a, 951) and not await live.is_online(b, 951)


async def test_two_tabs_in_one_process_count_once(
    processes: tuple[Runtime, Runtime, Runtime],
) -> None:
    a, b, observer = processes
    async with live.connect(b, 952):
        async with live.connect(a, 952), live.connect(a, 952):
            pass
        assert await live.is_online(observer, 952)
    assert not await live.is_online(observer, 952)


async def test_presence_carries_over_windows_and_a_dead_process_is_forgotten(
    processes: tuple[Runtime, Runtime, Runtime],
) -> None:
    a, b, observer = processes
    with window_at(1000) as now:
        async with live.connect(a, 953):
            now[0] += 1  # a new window before the refresh came round: still online
            assert await live.is_online(observer, 953)
            await live.hub(a).refresh_presence()
            now[0] += 1
            assert await live.is_online(observer, 953)
        assert not await live.is_online(observer, 953)
        # A process that dies keeps its count until its windows are over.
        await live.hub(b).add(live.Connection(954))
        await live.hub(b).stop()
        assert await live.is_online(observer, 954)
        now[0] += 2
        assert not await live.is_online(observer, 954)


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.integers(0, 1), st.integers(0, 2)),
        st.tuples(st.just("close"), st.integers(0, 1), st.integers(0, 2)),
        st.tuples(st.just("tick"), st.just(0), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(OPS)
def test_presence_is_any_open_connection_on_any_process(
    runtime: Runtime, ops: list[tuple[str, int, int]]
) -> None:
    """Whatever the order of opening and closing connections on two processes, and windows
    passing (each process refreshing once per window), an observer sees a person online
    exactly while some connection of theirs is open."""

    async def scenario() -> None:
        cache = MemoryCache()
        hubs = (process(runtime, cache), process(runtime, cache))
        observer = process(runtime, cache)
        open_: dict[tuple[int, int], list[AsyncExitStack]] = {}
        try:
            with window_at(5000) as now:
                for op, where, person in ops:
                    if op == "open":
                        stack = AsyncExitStack()
                        await stack.enter_async_context(live.connect(hubs[where], person))
                        open_.setdefault((where, person), []).append(stack)
                    elif op == "close" and open_.get((where, person)):
                        await open_[(where, person)].pop().aclose()
                    elif op == "tick":
                        now[0] += 1
                    for someone in range(3):
                        expected = any(open_.get((w, someone)) for w in (0, 1))
                        assert await live.is_online(observer, someone) == expected
                    if op == "tick":
                        for rt in hubs:
                            await live.hub(rt).refresh_presence()
        finally:
            for stacks in open_.values():
                for stack in stacks:
                    await stack.aclose()
            for rt in (*hubs, observer):
                await live.close(rt)

    asyncio.run(scenario())
