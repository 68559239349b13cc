"""Process-level tasks behind the CLI: seeding, the demo logins, checking the parts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from campus.entrypoints.http import build_runtime
from campus.kernel.config import VAR_DIR, Settings
from campus.kernel.seeding import Scale, seed_all
from campus.platform.registry import service as registry
from campus.platform.users import service as users

LOGINS_FILE = VAR_DIR / "demo-logins.json"
Login = tuple[str, str, str, str]


async def run_seed(settings: Settings, scale: str, seed: int) -> list[Login]:
    runtime = build_runtime(settings)
    try:
        scale_value: Scale = scale  # type: ignore[assignment]
        ctx = await seed_all(runtime, scale_value, seed)
    finally:
        await runtime.close()
    logins = [(x.role, x.login, x.password, x.name) for x in ctx.logins]
    LOGINS_FILE.parent.mkdir(parents=True, exist_ok=True)
    LOGINS_FILE.write_text(json.dumps(logins, ensure_ascii=False, indent=1), encoding="utf-8")
    return logins


def demo_logins() -> list[Login]:
    if not LOGINS_FILE.exists():
        return []
    rows = json.loads(LOGINS_FILE.read_text(encoding="utf-8"))
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


async def is_seeded(settings: Settings) -> bool:
    runtime = build_runtime(settings)
    try:
        async with runtime.db.read() as session:
            return await users.has_people(session)
    finally:
        await runtime.close()


async def check_parts(settings: Settings) -> list[tuple[str, str, str | None]]:
    runtime = build_runtime(settings)
    results: list[tuple[str, str, str | None]] = []
    try:
        parts = [
            ("database", settings.database_url, runtime.db.ping),
            ("cache", settings.redis_url, runtime.cache.ping),
            ("broker", settings.broker_url, runtime.bus.ping),
            ("storage", settings.storage_url, runtime.storage.ping),
        ]
        if settings.registry_etcd_url:  # the service registry's instances live there

            async def etcd() -> None:
                await registry.change_index(runtime)

            parts.append(("registry etcd", settings.registry_etcd_url, etcd))
        for name, url, probe in parts:
            try:
                await probe()
                results.append((name, _redact(url), None))
            except Exception as exc:
                results.append((name, _redact(url), f"{type(exc).__name__}: {exc}"))
    finally:
        await runtime.close()
    return results


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}"
    return url


async def import_people(settings: Settings, data: bytes, only_valid: bool) -> list[str]:
    """Import people from an .xlsx (the admin page's template); the report as lines of text."""
    from campus.kernel.errors import Problem
    from campus.kernel.i18n import translate

    runtime = build_runtime(settings)
    try:
        async with runtime.db.transaction() as session:
            report = await users.import_people(session, data, only_valid=only_valid)
    except Problem as problem:
        lines = [str(problem.detail or problem.title)]
        details = problem.extra.get("report", {}).get("problems", [])
        lines += [translate("第 {row} 行 {column}：{reason}", **p) for p in details] or [
            e.render()["reason"] for e in problem.errors if str(e.reason) != lines[0]
        ]
        raise SystemExit("\n".join(lines)) from None
    finally:
        await runtime.close()
    lines = [f"已导入 {report.imported} 人（共 {report.total_rows} 行）"]
    lines += [f"跳过 第 {p.row} 行 {p.column}：{p.reason}" for p in report.problems]
    return lines


async def export_people(settings: Settings, path: Path) -> int:
    """Write everyone to an .xlsx in the import template's columns; returns how many."""

    runtime = build_runtime(settings)
    try:
        async with runtime.db.read() as session:
            data, count = await users.export_people(session)
    finally:
        await runtime.close()
    await asyncio.to_thread(path.write_bytes, data)
    return count


async def export_kong(settings: Settings, tag: str) -> str:
    from campus.platform.gateway import service as gateway

    runtime = build_runtime(settings)
    try:
        return await gateway.export_kong(runtime, tag)
    finally:
        await runtime.close()
