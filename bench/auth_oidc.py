"""OpenID Connect token refreshes per second over HTTP: each refresh authenticates the client,
rotates the refresh token (one row used, one written, reuse detection armed), records and signs
a new RS256 access token and a new ID token with the person's claims.

The app runs as in production (uvicorn, one worker, SQLite seeded with the small demo
university) in its own process. Several relying-party workers each sign in once with code +
PKCE, then refresh their own token chain (a chain is serial by nature: every refresh needs the
previous answer) as fast as the server answers. The same client load against GET /healthz in
the same run is the baseline the figure is compared with. Traffic stays on 127.0.0.1.

    .venv/bin/python bench/auth_oidc.py [--seconds 5] [--concurrency 8]

``measure_token_refresh(base_url, ...)`` is the measurement itself, for bench/auth.py.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import httpx

from _http_load import (
    Throughput,
    cookie_header,
    demo_server,
    measure_trivial,
    print_results,
    signed_in,
    throughput,
)
from _machine import describe

ADMIN_LOGIN = "A0001"
ADMIN_PASSWORD = "Admin@2026"
REDIRECT_URI = "http://127.0.0.1/bench/callback"
HARD_LIMIT_SECONDS = 110


async def _register_client(http: httpx.AsyncClient, jar: dict[str, str]) -> tuple[str, str]:
    response = await http.post(
        "/api/v1/auth/oidc/clients",
        json={
            "name": f"bench {secrets.token_hex(3)}",
            "first_party": True,
            "redirect_uris": [REDIRECT_URI],
            "allowed_scopes": ["openid", "profile", "campus"],
        },
        headers={"X-CSRF-Token": jar["campus_csrf"], "Cookie": cookie_header(jar)},
    )
    if response.status_code != 201:
        raise SystemExit(f"client registration failed: {response.status_code} {response.text}")
    body = response.json()
    return body["client_id"], body["client_secret"]


async def _first_refresh_token(
    http: httpx.AsyncClient, jar: dict[str, str], client_id: str, secret: str
) -> str:
    """Code + PKCE with the signed-in session: the start of one refresh chain."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile campus",
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    answer = await http.get(
        "/oauth/authorize", params=params, headers={"Cookie": cookie_header(jar)}
    )
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    token = await http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
    )
    token.raise_for_status()
    return str(token.json()["refresh_token"])


async def measure_token_refresh(
    base_url: str,
    *,
    seconds: float = 5.0,
    concurrency: int = 8,
    admin_login: str = ADMIN_LOGIN,
    admin_password: str = ADMIN_PASSWORD,
) -> Throughput:
    """Refresh-token grants per second against a running Campus at ``base_url``."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        jar = await signed_in(http, admin_login, admin_password)
        client_id, secret = await _register_client(http, jar)
        chains = [
            await _first_refresh_token(http, jar, client_id, secret) for _ in range(concurrency)
        ]
        latencies: list[float] = []
        errors = 0
        deadline = time.perf_counter() + seconds

        async def worker(refresh_token: str) -> None:
            nonlocal errors
            while (started := time.perf_counter()) < deadline:
                response = await http.post(
                    "/oauth/token",
                    data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                    auth=(client_id, secret),
                )
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors += 1
                    return
                refresh_token = response.json()["refresh_token"]

        began = time.perf_counter()
        await asyncio.gather(*(worker(chain) for chain in chains))
        elapsed = time.perf_counter() - began
    return throughput(latencies, elapsed, errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print("== machine")
    print(describe())
    with demo_server("campus-oidc-bench-", HARD_LIMIT_SECONDS) as (base, seed_seconds):
        print("\n== setup")
        print(f"SQLite, small demo seeded in {seed_seconds:.1f} s; uvicorn, 1 worker, production")
        chains = f"{args.concurrency} refresh chains, {args.seconds:.0f} s"
        print(f"client: httpx in this process, {chains}")
        baseline = asyncio.run(
            measure_trivial(base, seconds=args.seconds, concurrency=args.concurrency)
        )
        refresh = asyncio.run(
            measure_token_refresh(base, seconds=args.seconds, concurrency=args.concurrency)
        )
        print_results([("GET /healthz (baseline)", baseline), ("token refresh", refresh)])
        ratio = refresh.per_second / baseline.per_second if baseline.per_second else 0.0
        print(f"\ntoken refreshes/s = {ratio:.2f} × the trivial route's requests/s")


if __name__ == "__main__":
    main()
