"""Run by live.py in a subprocess: migrate and seed a fresh database, write its demo logins to
demo-logins.json in the working folder, then serve Campus with uvicorn on the listening socket
whose file descriptor is the first argument."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import uvicorn

from campus.entrypoints.http import build_runtime, create_app
from campus.kernel.config import Settings
from campus.kernel.migrate import upgrade
from campus.kernel.seeding import seed_all


async def seed(settings: Settings) -> list[dict[str, str]]:
    """The small demo university; returns its demo logins."""
    runtime = build_runtime(settings)
    try:
        ctx = await seed_all(runtime, "small", 2026)
    finally:
        await runtime.close()
    return [
        {"role": x.role, "login": x.login, "password": x.password, "name": x.name}
        for x in ctx.logins
    ]


def exit_with_parent() -> None:
    """Stop when the test run that started this server is gone, even if it was killed."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    exit_with_parent()
    listener = socket.socket(fileno=int(sys.argv[1]))
    settings = Settings()  # from the CAMPUS_* variables live.py sets
    upgrade(settings.database_url)
    logins = asyncio.run(seed(settings))
    Path("demo-logins.json").write_text(json.dumps(logins, ensure_ascii=False), encoding="utf-8")
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[listener])


if __name__ == "__main__":
    main()
