"""Live Campus servers for the CAS tests driven by python-cas (which validates over real HTTP
with requests): one prepared database, two server processes on free 127.0.0.1 ports.

The database is a fresh SQLite file, or ``<name>_cas`` beside CAMPUS_DATABASE_URL's PostgreSQL
database in CI; with CAMPUS_REDIS_URL the servers share Redis database 13 (the in-process tests
flush their own). Both processes run the outbox relay and event handlers, as embedded mode does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

SCRIPT = Path(__file__).with_name("serve_cas.py")
START_TIMEOUT_SECONDS = 120.0
LIVE_REDIS_DB = 13


@dataclass(frozen=True)
class Live:
    urls: tuple[str, ...]
    workdir: Path
    _admins: dict[str, requests.Session] = field(default_factory=dict)

    def login(self, role: str) -> dict[str, str]:
        rows = json.loads((self.workdir / "demo-logins.json").read_text(encoding="utf-8"))
        return dict(next(row for row in rows if row["role"] == role))

    def signed_in(self, role: str, server: int = 0) -> requests.Session:
        """A browser-like session signed in on one of the servers."""
        base = self.urls[server]
        session = requests.Session()
        assert session.get(f"{base}/login", timeout=10).status_code == 200
        session.headers["X-CSRF-Token"] = session.cookies["campus_csrf"]
        login = self.login(role)
        response = session.post(
            f"{base}/api/v1/auth/login",
            json={"login": login["login"], "password": login["password"]},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return session

    def log_tail(self, lines: int = 40) -> str:
        text = ""
        for log in sorted(self.workdir.glob("server-*.log")):
            text += f"--- {log.name}\n" + "\n".join(
                log.read_text(errors="replace").splitlines()[-lines:]
            )
        return text


def _database_url(workdir: Path) -> str:
    base = os.environ.get("CAMPUS_DATABASE_URL", "")
    if base.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        url = make_url(base)
        return url.set(database=f"{url.database}_cas").render_as_string(hide_password=False)
    return f"sqlite+aiosqlite:///{workdir}/campus-cas.db"


def _redis_url() -> str:
    base = os.environ.get("CAMPUS_REDIS_URL", "")
    if not base.startswith("redis"):
        return "memory://"
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{LIVE_REDIS_DB}", parts.query, ""))


def _recreate(database_url: str, redis_url: str) -> None:
    """Start from nothing: an empty PostgreSQL database and Redis database."""
    import asyncio

    async def reset() -> None:
        if database_url.startswith("postgresql"):
            from sqlalchemy import text
            from sqlalchemy.engine import make_url
            from sqlalchemy.ext.asyncio import create_async_engine

            parsed = make_url(database_url)
            admin = create_async_engine(
                parsed.set(database="postgres"), isolation_level="AUTOCOMMIT"
            )
            async with admin.connect() as conn:
                await conn.execute(
                    text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
                )
                await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
            await admin.dispose()
        if redis_url.startswith("redis"):
            from redis import asyncio as aioredis

            client = aioredis.Redis.from_url(redis_url)
            await client.flushdb()
            await client.aclose()

    asyncio.run(reset())


def environment(workdir: Path, database_url: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
    env.update(
        CAMPUS_DATABASE_URL=database_url,
        CAMPUS_REDIS_URL=redis_url,
        CAMPUS_BROKER_URL="memory://",
        CAMPUS_STORAGE_URL=f"file://{workdir}/files",
        CAMPUS_ENVIRONMENT="test",
        CAMPUS_LOG_LEVEL="WARNING",
        CAMPUS_RELAY_IN_PROCESS="true",
        CAMPUS_CAS_CALLBACK_SCHEMES="https,http",
        # The tests sign the same demo accounts in many times within one rate-limit window.
        CAMPUS_LOGIN_ATTEMPTS_PER_ACCOUNT="1000",
        CAMPUS_LOGIN_ATTEMPTS_PER_IP="10000",
        CAMPUS_EVENT_RETRY_BASE_SECONDS="0.05",
        CAMPUS_EVENT_RETRY_MAX_SECONDS="0.2",
    )
    return env


@contextmanager
def live_servers(workdir: Path, count: int = 2) -> Iterator[Live]:
    database_url, redis_url = _database_url(workdir), _redis_url()
    _recreate(database_url, redis_url)
    env = environment(workdir, database_url, redis_url)
    prepared = subprocess.run(
        [sys.executable, str(SCRIPT), "prepare"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS,
        check=False,
    )
    if prepared.returncode != 0:
        raise RuntimeError(f"preparing the CAS test database failed:\n{prepared.stderr[-4000:]}")
    with ExitStack() as stack:
        urls = tuple(stack.enter_context(_server(workdir, env, n)) for n in range(count))
        live = Live(urls, workdir)
        for url in urls:
            _wait_until_ready(url, live)
        yield live


@contextmanager
def _server(workdir: Path, env: dict[str, str], number: int) -> Iterator[str]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    with (workdir / f"server-{number}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "serve", str(listener.fileno())],
            cwd=workdir,
            env=env,
            pass_fds=(listener.fileno(),),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    listener.close()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_ready(url: str, live: Live) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/login", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the Campus server at {url} did not answer:\n{live.log_tail()}")


def register(live: Live, **fields: Any) -> dict[str, Any]:
    """Register a CAS service through the JSON API, as an administrator."""
    admin = live._admins.get("admin") or live._admins.setdefault("admin", live.signed_in("admin"))
    response = admin.post(f"{live.urls[0]}/api/v1/auth/cas/services", json=fields, timeout=30)
    assert response.status_code == 201, response.text
    return dict(response.json())
