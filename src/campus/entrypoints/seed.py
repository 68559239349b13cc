"""Process-level tasks behind the CLI: seeding, the demo logins, checking the parts."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from campus.entrypoints.http import build_runtime
from campus.kernel.config import VAR_DIR, Settings
from campus.kernel.seeding import Scale, seed_all

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
            count = await session.scalar(text("SELECT count(*) FROM users_person"))
        return bool(count)
    finally:
        await runtime.close()


async def check_parts(settings: Settings) -> list[tuple[str, str, str | None]]:
    runtime = build_runtime(settings)
    results: list[tuple[str, str, str | None]] = []
    try:
        for name, url, probe in (
            ("database", settings.database_url, runtime.db.ping),
            ("cache", settings.redis_url, runtime.cache.ping),
            ("broker", settings.broker_url, runtime.bus.ping),
        ):
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
    raise SystemExit("人员导入尚未提供")


async def export_people(settings: Settings, path: Path) -> int:
    raise SystemExit("人员导出尚未提供")
