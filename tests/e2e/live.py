"""A real Campus server and a real Chromium for browser tests and screenshots.

The server runs in a subprocess (its runtime, settings and event loop are process-wide, so it
must not share the test process) on a socket bound here to a free 127.0.0.1 port, against a
fresh SQLite file in a temporary folder that ``serve.py`` migrates and seeds (small) first.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVE_SCRIPT = Path(__file__).with_name("serve.py")
START_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class DemoLogin:
    role: str
    login: str
    password: str
    name: str


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    workdir: Path

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def login(self, role: str) -> DemoLogin:
        """A demo login of the seeded university (serve.py wrote them before serving)."""
        rows = json.loads((self.workdir / "demo-logins.json").read_text(encoding="utf-8"))
        return next(DemoLogin(**row) for row in rows if row["role"] == role)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def server_environment(workdir: Path) -> dict[str, str]:
    """Embedded parts only, whatever the surrounding CI run uses for the other tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
    env.update(
        CAMPUS_DATABASE_URL=f"sqlite+aiosqlite:///{workdir}/campus-e2e.db",
        CAMPUS_REDIS_URL="memory://",
        CAMPUS_BROKER_URL="memory://",
        CAMPUS_STORAGE_URL=f"file://{workdir}/files",
        CAMPUS_ENVIRONMENT="test",
        CAMPUS_MODULES="*",
        CAMPUS_LOG_LEVEL="WARNING",
        # Every browser test signs its people in afresh: the demo admin alone more often than
        # the production limit of 10 sign-ins per account in 5 minutes allows.
        CAMPUS_LOGIN_ATTEMPTS_PER_ACCOUNT="1000",
        CAMPUS_LOGIN_ATTEMPTS_PER_IP="10000",
    )
    return env


@contextmanager
def live_server(workdir: Path) -> Iterator[LiveServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    server = LiveServer(f"http://127.0.0.1:{port}", workdir)
    with server.log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(SERVE_SCRIPT), str(listener.fileno())],
            cwd=workdir,
            env=server_environment(workdir),
            pass_fds=(listener.fileno(),),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    listener.close()  # the server process holds its own copy
    try:
        _wait_until_ready(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_ready(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Campus server exited early:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.base_url + "/login", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the Campus server did not answer in time:\n{server.log_tail()}")


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless; never a browser build downloaded by Playwright."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
