"""``campus serve --workers N``: the processes behind one port report their metrics together, so
that a scrape answered by any of them counts every request, not only its own."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.own_database import migrated_database
from tests.serving import free_port, server_environment

REQUESTS = 120
MOST_REQUESTS = 3000


def _processes(figures: Path) -> set[str]:
    """The processes that have counted something (their pid names their file)."""
    return {p.stem.rsplit("_", 1)[-1] for p in figures.glob("counter_*.db")}


def _readyz_count(text: str) -> float:
    return sum(
        sample.value  # every status: a probe may also be refused while a process starts
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "campus_http_requests_total"
        and sample.labels.get("route") == "/readyz"
        and sample.labels.get("method") == "GET"
    )


def test_every_worker_counts_in_a_scrape_answered_by_any(tmp_path: Path) -> None:
    url = asyncio.run(migrated_database("serve_workers", tmp_path))
    figures = tmp_path / "metrics"
    figures.mkdir()
    (figures / "counter_1.db").write_bytes(b"an earlier run's figures")
    port = free_port()
    env = server_environment(
        url, tmp_path, "serve-workers-" + "x" * 40, PROMETHEUS_MULTIPROC_DIR=str(figures)
    )
    command = [
        str(Path(sys.executable).parent / "campus"), "serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
    ]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        sent = _until_answering(base, server, log)
        assert not (figures / "counter_1.db").exists(), "an earlier run's figures are cleared"
        # A new connection each, so that either process may take it, until both have answered.
        while sent < MOST_REQUESTS and (sent < REQUESTS or len(_processes(figures)) < 2):
            httpx.get(base + "/readyz", timeout=10)
            sent += 1
        assert len(_processes(figures)) == 2, f"one process took all {sent} requests"
        for _ in range(6):  # whichever process answers the scrape, the same sum
            scrape = httpx.get(base + "/metrics", timeout=10)
            assert scrape.status_code == 200, scrape.text
            assert _readyz_count(scrape.text) == sent
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _until_answering(base: str, server: subprocess.Popen[bytes], log: Path) -> int:
    """The number of readiness probes answered while waiting (each counts in the metrics; the
    registry's health checks call /healthz, so the test counts /readyz, which only it calls)."""
    answered, deadline = 0, time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server ended: {log.read_text()[-3000:]}")
        try:
            # Connections queue while the processes start (slowly, two at once on two
            # cores): wait for the answer rather than give up on it, or the server would
            # count a probe this test did not.
            status = httpx.get(base + "/readyz", timeout=httpx.Timeout(30, connect=2)).status_code
        except httpx.ConnectError:
            time.sleep(0.2)
            continue
        answered += 1
        if status == 200:
            return answered
        time.sleep(0.2)
    pytest.fail(f"the server did not answer: {log.read_text()[-3000:]}")
