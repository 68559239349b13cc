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
    storage_url: str = Field(
        default=f"file://{VAR_DIR}/files",
        description="Where uploaded files live: file://relative/dir or file:///absolute/dir "
        "(s3:// is not built yet and refuses to start)",
    )
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
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest accepted uploaded file, in bytes"
    )
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
    session_max_age_seconds: int = Field(
        default=8 * 3600, ge=60, description="Lifetime of a sign-in session without remember-me"
    )
    session_remember_seconds: int = Field(
        default=30 * 86400, ge=60, description="Lifetime of a session with remember-me"
    )
    login_attempts_per_account: int = Field(
        default=10, ge=1, description="Sign-in attempts per account per login window"
    )
    login_attempts_per_ip: int = Field(
        default=60, ge=1, description="Sign-in attempts per client address per login window"
    )
    login_window_seconds: int = Field(default=300, ge=1, description="The rate-limit window")
    lockout_failures: int = Field(
        default=5, ge=1, description="Consecutive failed sign-ins that lock an account"
    )
    lockout_seconds: int = Field(default=900, ge=1, description="How long a lockout lasts")
    mfa_required_roles: str = Field(
        default="", description="Comma-separated role codes that must use two-factor sign-in"
    )
    reset_code_ttl_seconds: int = Field(
        default=600, ge=60, description="Lifetime of a password-reset verification code"
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for e-mailed codes; unset: no e-mail channel"
    )
    smtp_port: int = 587
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = Field(default="noreply@campus.example.edu.cn", description="Sender address")
    smtp_timeout_seconds: float = 10.0
    sms_backend: Literal["log"] = Field(
        default="log", description="SMS adapter; 'log' writes the message to the log (demo)"
    )
    cas_service_ticket_seconds: int = Field(
        default=60, ge=10, le=300, description="Lifetime of an unvalidated CAS service/proxy ticket"
    )
    cas_callback_schemes: str = Field(
        default="https", description="URL schemes allowed for CAS pgtUrl callbacks, comma-separated"
    )
    cas_http_timeout_seconds: float = Field(
        default=3.0, gt=0, le=30, description="Timeout of CAS proxy callbacks and logout requests"
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Issuer URL of the OpenID provider (https://sso.example.edu.cn); "
        "unset: the URL each request came in on",
    )
    oidc_access_token_seconds: int = Field(
        default=600, ge=60, le=86400, description="Lifetime of OIDC access and ID tokens"
    )
    oidc_refresh_token_seconds: int = Field(
        default=30 * 86400, ge=300, description="Lifetime of an unused OIDC refresh token"
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port on which `campus worker` serves /metrics for Prometheus; unset: none",
    )
    worker_metrics_host: str = Field(
        default="127.0.0.1", description="Address the worker's /metrics listens on"
    )
    metrics_token: str | None = Field(
        default=None, description="Bearer token for /metrics from other hosts; loopback needs none"
    )
    instance_address: str | None = Field(
        default=None,
        description="This process's base URL as others reach it (http://10.0.0.5:8000), "
        "registered in the service registry; unset: registered without an address",
    )
    registry_url: str | None = Field(
        default=None,
        description="Base URL of the service registry when this process does not serve it",
    )
    registry_token: str | None = Field(
        default=None, description="The registry token (crg_…) this process registers with"
    )
    registry_namespace: str = Field(default="prod", description="Namespace registered in")
    registry_ttl_seconds: int = Field(
        default=30, ge=5, le=300, description="Lease of this process's registration (seconds)"
    )
    registry_etcd_url: str | None = Field(
        default=None,
        description="etcd (http://host:2379) holding the service registry's instances, leases "
        "and change index; unset: the database and the cache hold them",
    )
    registry_etcd_prefix: str = Field(
        default="/campus/registry/",
        pattern=r"^/.*/$",
        description="Key prefix of the service registry in etcd",
    )
    gateway_token_check: Literal["local", "introspect"] = Field(
        default="local",
        description="How the API gateway checks OAuth bearer tokens: local (signature and "
        "expiry against the published keys) or introspect (the identity center's database, "
        "so that a revoked token is refused at once)",
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
