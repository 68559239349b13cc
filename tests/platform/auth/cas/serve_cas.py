"""Run by live_cas.py in subprocesses.

``serve_cas.py prepare`` migrates and seeds (small) the database that the CAMPUS_* variables
name and writes the demo logins to demo-logins.json in the working folder; ``serve_cas.py
serve FD`` serves Campus with uvicorn on the listening socket FD. Several servers may serve
one prepared database, as several processes of one deployment do.
"""

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


async def _seed(settings: Settings) -> list[dict[str, str]]:
    runtime = build_runtime(settings)
    try:
        ctx = await seed_all(runtime, "small", 2026)
    finally:
        await runtime.close()
    return [
        {"role": x.role, "login": x.login, "password": x.password, "name": x.name}
        for x in ctx.logins
    ]


def prepare() -> None:
    settings = Settings()
    upgrade(settings.database_url)
    logins = asyncio.run(_seed(settings))
    Path("demo-logins.json").write_text(json.dumps(logins, ensure_ascii=False), encoding="utf-8")


def _exit_with_parent() -> None:
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve(fd: int) -> None:
    _exit_with_parent()
    listener = socket.socket(fileno=fd)
    app = create_app(Settings())
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[listener])


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare()
    else:
        serve(int(sys.argv[2]))
