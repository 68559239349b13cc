"""The ``campus`` command."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from campus.kernel.config import Settings, get_settings

app = typer.Typer(help="Campus 智慧校园平台", no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="统一用户中心：导入、导出人员")
app.add_typer(users_app, name="users")
gateway_app = typer.Typer(help="统一API中心：导出 Kong 声明式配置")
app.add_typer(gateway_app, name="gateway")


class Scale(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


def _settings(modules: str | None = None) -> Settings:
    settings = get_settings()
    if modules:
        settings = settings.model_copy(update={"modules": modules})
    return settings


@app.command()
def migrate() -> None:
    """Apply the database migrations (Alembic) up to the newest."""
    from campus.kernel.migrate import upgrade

    upgrade(_settings().database_url)
    typer.echo("数据库已迁移到最新版本")


@app.command()
def seed(
    scale: Annotated[
        Scale, typer.Option(help="small≈2千, medium≈2万, large≈6万学生")
    ] = Scale.small,
    seed: Annotated[int, typer.Option(help="随机种子：同一种子生成同一所大学")] = 2026,
) -> None:
    """Generate the demo university into an empty, migrated database."""
    from campus.entrypoints.seed import is_seeded, run_seed

    settings = _settings()
    if asyncio.run(is_seeded(settings)):
        typer.echo(
            "数据库中已有人员：演示大学只能生成到空数据库中（先删除数据库文件或换一个库）", err=True
        )
        raise typer.Exit(2)
    logins = asyncio.run(run_seed(settings, scale.value, seed))
    _print_logins(logins)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    modules: Annotated[str | None, typer.Option(help="只运行这些模块，逗号分隔")] = None,
    workers: int = 1,
) -> None:
    """Serve the web application."""
    import os

    import uvicorn

    if modules:
        os.environ["CAMPUS_MODULES"] = modules
    if workers > 1:
        # Before the processes start: they choose where to keep their figures as they import.
        from campus.kernel.metrics import prepare_multiprocess_dir

        prepare_multiprocess_dir()
    if host not in ("0.0.0.0", "::"):  # noqa: S104 (compared, not bound)
        # The address this process registers in the service registry, unless set otherwise.
        os.environ.setdefault("CAMPUS_INSTANCE_ADDRESS", f"http://{host}:{port}")
    uvicorn.run(
        "campus.entrypoints.http:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="warning",
    )


@app.command()
def worker() -> None:
    """Run the outbox relay, event handlers and scheduled jobs."""
    from campus.entrypoints.worker import run_worker

    asyncio.run(run_worker(_settings()))


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    scale: Scale = Scale.medium,
) -> None:
    """Migrate, seed the demo university if there is none, print the logins and serve."""
    from campus.entrypoints.seed import demo_logins, is_seeded, run_seed
    from campus.kernel.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    if asyncio.run(is_seeded(settings)):
        logins = demo_logins()
    else:
        typer.echo(f"正在生成演示大学（{scale.value}）…")
        logins = asyncio.run(run_seed(settings, scale.value, 2026))
    _print_logins(logins)
    typer.echo(f"\n智慧校园已启动：http://{host}:{port}\n")
    serve(host=host, port=port, modules=None, workers=1)


@app.command()
def check() -> None:
    """Check the configuration and that every configured part answers."""
    from campus.entrypoints.seed import check_parts

    results = asyncio.run(check_parts(_settings()))
    failed = False
    for name, url, error in results:
        mark = "✓" if error is None else "✗"
        typer.echo(f"{mark} {name:<9} {url}" + (f"  — {error}" if error else ""))
        failed = failed or error is not None
    raise typer.Exit(1 if failed else 0)


@users_app.command("import")
def users_import(
    file: Path,
    only_valid: Annotated[bool, typer.Option("--only-valid", help="只导入校验通过的行")] = False,
) -> None:
    """Import people from an Excel file (the same template the admin page uses)."""
    from campus.entrypoints.seed import import_people

    report = asyncio.run(import_people(_settings(), file.read_bytes(), only_valid))
    for line in report:
        typer.echo(line)


@users_app.command("export")
def users_export(file: Path) -> None:
    """Export all people to an Excel file."""
    from campus.entrypoints.seed import export_people

    count = asyncio.run(export_people(_settings(), file))
    typer.echo(f"已导出 {count} 人到 {file}")


@gateway_app.command("export-kong")
def gateway_export_kong(
    tag: Annotated[str, typer.Option(help="给每个实体加上的 Kong 标签")] = "campus",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="写入文件；缺省写到标准输出")
    ] = None,
) -> None:
    """Write the gateway's configuration as a deterministic Kong declarative configuration."""
    import re

    from campus.entrypoints.seed import export_kong
    from campus.platform.gateway.kong import TAG_PATTERN

    if not re.match(TAG_PATTERN, tag):
        raise typer.BadParameter(
            "标签只能包含字母、数字和 . _ ~ : -，最长 60 个字符", param_hint="--tag"
        )
    text = asyncio.run(export_kong(_settings(), tag))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"已写入 {output}", err=True)


def _print_logins(logins: list[tuple[str, str, str, str]]) -> None:
    typer.echo("\n演示账号（角色 / 账号 / 密码 / 姓名）：")
    for role, login, password, name in logins:
        typer.echo(f"  {role:<12} {login:<14} {password:<14} {name}")


if __name__ == "__main__":
    app()
