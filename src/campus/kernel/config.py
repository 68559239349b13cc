"""Settings read from ``CAMPUS_*`` environment variables.

Every outside part is chosen by a URL; the defaults are the embedded parts, which need nothing
installed (see DESIGN.md section 3).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMPUS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{VAR_DIR}/campus.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://…",
    )
    redis_url: str = Field(default="memory://", description="memory:// or redis://host:port/db")
    broker_url: str = Field(default="memory://", description="memory:// or amqp://user:pw@host/")
    storage_url: str = Field(default=f"file://{VAR_DIR}/files", description="file:///dir")
    secret_key: str = Field(
        default="campus-demo-secret-change-me",
        description="Signs session cookies and CSRF tokens; set a long random value in production",
    )
    site_name: str = Field(
        default="智慧校园", description="The name in the page header, e.g. 某某大学智慧校园"
    )
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    modules: str = Field(default="*", description="Comma-separated module names to serve, * = all")
    environment: Literal["development", "production", "test"] = "development"
    log_level: str = "INFO"
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, description="Largest accepted upload")
    relay_in_process: bool = Field(
        default=True, description="Run the outbox relay inside the web process (embedded mode)"
    )
    event_max_attempts: int = Field(
        default=5, ge=1, description="Attempts per event and handler before it is dead-lettered"
    )
    event_retry_base_seconds: float = Field(
        default=0.5, ge=0, description="Wait after a handler's first failure; doubles each time"
    )
    event_retry_max_seconds: float = Field(
        default=30.0, ge=0, description="Longest wait between two attempts of a handler"
    )
    session_max_age_seconds: int = 8 * 3600
    metrics_token: str | None = Field(
        default=None, description="Bearer token for /metrics from other hosts; loopback needs none"
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def enabled_modules(self) -> set[str] | None:
        """The module names to serve, or None for all."""
        names = {n.strip() for n in self.modules.split(",") if n.strip()}
        return None if not names or "*" in names else names


@lru_cache
def get_settings() -> Settings:
    return Settings()
