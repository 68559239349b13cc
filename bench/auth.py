"""Authentication benchmarks: password logins per second over HTTP (argon2id-bound; Keycloak
publishes about 15 logins/s per vCPU) and local JWT (RS256) verifications per second, plus the
protocol measurements other parts contribute when they are present: OpenID Connect token
refreshes (bench/auth_oidc.py) and CAS serviceValidate (bench/auth_cas.py).

Every measurement is one function; ``main`` runs those available and prints each figure next
to a baseline measured in the same run:

- password logins: ``POST /api/v1/auth/login`` with right passwords of many demo people (each
  login verifies an argon2id hash off the event loop, opens a durable session row and writes
  an audit entry) against the app as it runs in production (uvicorn, one worker, SQLite with
  the small demo university, the relay in process). Baseline: argon2id verifications per
  second in this process, single-threaded, with the same hash parameters.
- JWT verifications: an RS256 access token signed with a 2048-bit key generated here, verified
  the way the OpenID Connect provider verifies its own tokens (signature, type, issuer,
  expiry). Baseline: the bare RSA-PKCS1v15/SHA-256 signature check of ``cryptography``.

The login rate limits and lockout are raised for the server under test only (through its
CAMPUS_* environment): they exist to stop guessing, which this is not. Traffic stays on
127.0.0.1 and the whole run stops by itself.

    .venv/bin/python bench/auth.py [--seconds 5] [--concurrency 0 (= 2 × CPUs)]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib
import os
import signal
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from _machine import describe, usable_cpus

HOST = "127.0.0.1"
HARD_LIMIT_SECONDS = 280
KEYCLOAK_LOGINS_PER_VCPU = 15.0
ISSUER = "https://campus.example.edu.cn"
# The password every seeded person other than the demo logins starts with (auth/seed.py).
INITIAL_PASSWORD = "Campus@2026"
UNLIMITED = "1000000000"


@dataclass(frozen=True)
class Figure:
    per_second: float
    p50_ms: float
    p99_ms: float
    operations: int
    errors: int


class Throughput(Protocol):
    """What a contributed HTTP measurement returns (bench/auth_oidc.py's Throughput does)."""

    @property
    def per_second(self) -> float: ...

    p50_ms: float
    p99_ms: float
    operations: int
    errors: int


HttpMeasurement = Callable[..., Awaitable[Throughput]]


def _figure(latencies_ms: list[float], elapsed: float, errors: int) -> Figure:
    latencies_ms.sort()
    count = len(latencies_ms)
    return Figure(
        per_second=count / elapsed if elapsed else 0.0,
        p50_ms=latencies_ms[count // 2] if count else 0.0,
        p99_ms=latencies_ms[min(count - 1, int(count * 0.99))] if count else 0.0,
        operations=count,
        errors=errors,
    )


# --- password logins ----------------------------------------------------------------------------


def measure_argon2_baseline(seconds: float) -> Figure:
    """argon2id verifications per second in this process, one thread, the app's parameters."""
    from campus.platform.auth.passwords import hash_password, verify_password

    stored = hash_password(INITIAL_PASSWORD)
    latencies: list[float] = []
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        started = time.perf_counter()
        assert verify_password(stored, INITIAL_PASSWORD)
        latencies.append((time.perf_counter() - started) * 1000)
    return _figure(latencies, time.perf_counter() - began, 0)


def demo_accounts(database: Path, count: int) -> list[str]:
    """Student numbers of seeded people (they sign in with the initial password)."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT value FROM users_identity WHERE kind = 'student_no' ORDER BY value LIMIT ?",
            (count,),
        ).fetchall()
    return [row[0] for row in rows]


async def measure_password_logins(
    base_url: str, accounts: list[str], *, seconds: float, concurrency: int
) -> Figure:
    """Successful password logins per second over HTTP, ``concurrency`` clients at once."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        csrf = (await http.get("/login")).cookies["campus_csrf"]
        headers = {"X-CSRF-Token": csrf, "Cookie": f"campus_csrf={csrf}"}
        latencies: list[float] = []
        errors = 0
        deadline = time.perf_counter() + seconds

        async def client(offset: int) -> None:
            nonlocal errors
            n = offset
            while (started := time.perf_counter()) < deadline:
                login = accounts[n % len(accounts)]
                n += concurrency
                response = await http.post(
                    "/api/v1/auth/login",
                    json={"login": login, "password": INITIAL_PASSWORD},
                    headers=headers,
                )
                if response.status_code == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(concurrency)))
        return _figure(latencies, time.perf_counter() - began, errors)


# --- local JWT verification ---------------------------------------------------------------------


def _signed_access_token() -> tuple[str, Any, Callable[[str], dict[str, Any]]]:
    """A token, its key set, and the verifier: the OpenID Connect provider's own when it is
    installed (campus.platform.auth.oidc.tokens), otherwise the same checks with joserfc."""
    from joserfc import jwt
    from joserfc.jwk import KeySet, RSAKey
    from joserfc.jwt import JWTClaimsRegistry

    key = RSAKey.generate_key(2048, parameters={"kid": "bench-1", "use": "sig", "alg": "RS256"})
    keys = KeySet([key])
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "20251234567",
        "aud": "campus-bench",
        "iat": now,
        "exp": now + 3600,
        "jti": "bench-token",
        "scope": "openid profile campus",
        "client_id": "campus-bench",
        "roles": ["student"],
    }
    try:
        tokens = importlib.import_module("campus.platform.auth.oidc.tokens")
    except ImportError:
        tokens = None
    if tokens is not None:
        token = tokens.access_token(key, claims)

        def verify(value: str) -> dict[str, Any]:
            return dict(tokens.verify(value, keys, issuer=ISSUER, typ=tokens.ACCESS_TOKEN_TYPE))

        return token, keys, verify
    token = jwt.encode({"alg": "RS256", "kid": "bench-1", "typ": "at+jwt"}, claims, key)
    registry = JWTClaimsRegistry(iss={"essential": True, "value": ISSUER}, exp={"essential": True})

    def verify_plain(value: str) -> dict[str, Any]:
        decoded = jwt.decode(value, keys, algorithms=["RS256"])
        if decoded.header.get("typ") != "at+jwt":
            raise ValueError("wrong token type")
        registry.validate(decoded.claims)
        return dict(decoded.claims)

    return token, keys, verify_plain


def _timed(seconds: float, operation: Callable[[], object]) -> Figure:
    latencies: list[float] = []
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        started = time.perf_counter()
        operation()
        latencies.append((time.perf_counter() - started) * 1000)
    return _figure(latencies, time.perf_counter() - began, 0)


def measure_jwt_verification(seconds: float) -> tuple[Figure, Figure, str]:
    """RS256 access-token verifications per second in one thread, and the bare signature
    check as the baseline; returns both and which verifier ran."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    token, keys, verify = _signed_access_token()
    assert verify(token)["sub"] == "20251234567"
    if _accepted(verify, token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")):
        raise SystemExit("a tampered token was accepted: the benchmark stops here")
    public = keys.keys[0].public_key
    signing_input, _, signature_b64 = token.rpartition(".")
    signature = base64.urlsafe_b64decode(signature_b64 + "=" * (-len(signature_b64) % 4))

    def bare() -> None:
        public.verify(signature, signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())

    full = _timed(seconds, lambda: verify(token))
    floor = _timed(seconds, bare)
    source = "campus.platform.auth.oidc.tokens.verify" if _has_oidc() else "joserfc (fallback)"
    return full, floor, source


def _accepted(verify: Callable[[str], dict[str, Any]], token: str) -> bool:
    try:
        verify(token)
    except Exception:
        return False
    return True


def _has_oidc() -> bool:
    try:
        importlib.import_module("campus.platform.auth.oidc.tokens")
    except ImportError:
        return False
    return True


# --- contributed HTTP measurements ----------------------------------------------------------------


def contributed() -> list[tuple[str, HttpMeasurement]]:
    """HTTP measurements other parts provide, as ``measure_*(base_url, *, seconds,
    concurrency)`` coroutines in bench/auth_<part>.py; those not present are left out."""
    found: list[tuple[str, HttpMeasurement]] = []
    for label, module, name in (
        ("OIDC token refreshes", "auth_oidc", "measure_token_refresh"),
        ("CAS serviceValidate", "auth_cas", "measure_service_validate"),
    ):
        try:
            function = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            print(f"({label}: bench/{module}.py {name} is not available; skipped)")
            continue
        found.append((label, function))
    return found


# --- the run ------------------------------------------------------------------------------------


def _out_of_time(signum: int, frame: object) -> None:
    raise TimeoutError(f"the benchmark ran past its hard limit of {HARD_LIMIT_SECONDS} s")


def _line(label: str, figure: Throughput | Figure) -> str:
    return (
        f"{label:34} {figure.per_second:10.1f} /s   p50 {figure.p50_ms:8.3f} ms   "
        f"p99 {figure.p99_ms:8.3f} ms   {figure.operations} ok, {figure.errors} errors"
    )


def run_http_part(seconds: float, concurrency: int) -> None:
    from http_baseline import free_port, prepare_database, start_server, stop, wait_until_ready

    workdir = Path(tempfile.mkdtemp(prefix="campus-auth-bench-"))
    # The server inherits these: rate limits and lockout are not what is measured.
    os.environ.update(
        CAMPUS_LOGIN_ATTEMPTS_PER_IP=UNLIMITED,
        CAMPUS_LOGIN_ATTEMPTS_PER_ACCOUNT=UNLIMITED,
        CAMPUS_LOCKOUT_FAILURES=UNLIMITED,
    )
    server = None
    try:
        database_url, seed_seconds = prepare_database(workdir)
        accounts = demo_accounts(workdir / "campus.db", 500)
        port = free_port()
        base = f"http://{HOST}:{port}"
        server = start_server(workdir, database_url, port)
        wait_until_ready(base, server)
        print("\n== setup (HTTP)")
        print(f"SQLite, small demo seeded in {seed_seconds:.1f} s; uvicorn, 1 worker, production")
        print(
            f"client: httpx in this process, {concurrency} concurrent requests, "
            f"{seconds:.0f} s per figure after a 1 s warm-up; {len(accounts)} accounts"
        )
        asyncio.run(measure_password_logins(base, accounts, seconds=1.0, concurrency=concurrency))
        logins = asyncio.run(
            measure_password_logins(base, accounts, seconds=seconds, concurrency=concurrency)
        )
        baseline = measure_argon2_baseline(seconds)
        cpus = usable_cpus()
        print("\n== password logins")
        print(_line("argon2id verify, 1 thread (base)", baseline))
        print(_line("POST /api/v1/auth/login", logins))
        print(
            f"logins/s per vCPU: {logins.per_second / cpus:.1f} on {cpus} vCPUs "
            f"(Keycloak publishes about {KEYCLOAK_LOGINS_PER_VCPU:.0f}); "
            f"logins/s = {logins.per_second / baseline.per_second:.2f} × one thread's "
            "argon2id verifications/s"
        )
        for label, function in contributed():
            figure = asyncio.run(function(base, seconds=seconds, concurrency=concurrency))
            print(f"\n== {label}")
            print(_line(label, figure))
    finally:
        if server is not None:
            stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=0, help="0: twice the CPUs")
    parser.add_argument("--skip-http", action="store_true", help="in-process figures only")
    args = parser.parse_args()
    concurrency = args.concurrency or 2 * usable_cpus()
    started = time.monotonic()
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(HARD_LIMIT_SECONDS)
    try:
        print("== machine")
        print(describe())
        full, floor, source = measure_jwt_verification(args.seconds)
        print("\n== local JWT verification (RS256, 2048-bit key, one thread)")
        print(f"verifier: {source}")
        print(_line("RSA signature check only (base)", floor))
        print(_line("full access-token verification", full))
        print(
            f"verification = {full.per_second / floor.per_second:.2f} × the bare signature "
            f"check; median {full.p50_ms * 1000:.0f} µs per token"
        )
        if not args.skip_http:
            run_http_part(args.seconds, concurrency)
    finally:
        signal.alarm(0)
    print(f"\ntotal wall time: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
