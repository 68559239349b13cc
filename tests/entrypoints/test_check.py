"""`campus check`: every part the settings name is probed and reported, the registry's etcd
among them when the registry lives there; a part that does not answer is named with the
reason, the others still reported."""

from __future__ import annotations

import socket

import pytest

from campus.entrypoints.seed import check_parts
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from tests.platform.registry.conftest import ETCD_URL


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _check(settings: Settings, runtime: Runtime) -> dict[str, str | None]:
    try:
        return {name: error for name, _url, error in await check_parts(settings)}
    finally:
        runtime_module.set_current(runtime)


async def test_the_parts_of_the_test_settings_all_answer(
    settings: Settings, runtime: Runtime
) -> None:
    found = await _check(settings, runtime)
    assert found == {"database": None, "cache": None, "broker": None, "storage": None}


async def test_an_etcd_that_does_not_answer_is_named_with_its_reason(
    settings: Settings, runtime: Runtime
) -> None:
    dead = settings.model_copy(update={"registry_etcd_url": f"http://127.0.0.1:{_closed_port()}"})
    found = await _check(dead, runtime)
    assert found["database"] is None
    assert found["registry etcd"]


async def test_a_live_etcd_answers(settings: Settings, runtime: Runtime) -> None:
    if not ETCD_URL:
        pytest.skip("needs CAMPUS_TEST_ETCD_URL (an etcd to use)")
    found = await _check(settings.model_copy(update={"registry_etcd_url": ETCD_URL}), runtime)
    assert found["registry etcd"] is None
