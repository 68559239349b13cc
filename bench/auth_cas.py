"""CAS ticket validations per second over HTTP: each ``GET /cas/serviceValidate`` claims a
service ticket with one conditional UPDATE (single use), checks its service, expiry and the
registered application, and answers the CAS 2.0 XML document. ``/cas/p3/serviceValidate``
adds the released attributes (the person's record and roles).

The app runs as in production (uvicorn, one worker, SQLite seeded with the small demo
university) in its own process. Tickets are issued through ``/cas/login`` with a signed-in
session in batches that are not timed; only the validations of each batch are, by several
workers at once, as a busy application's back end would send them. The same client load
against GET /healthz in the same run is the baseline. Traffic stays on 127.0.0.1.

    .venv/bin/python bench/auth_cas.py [--seconds 5] [--concurrency 8]

``measure_service_validate(base_url, ...)`` is the measurement itself, for bench/auth.py.
"""

from __future__ import annotations

import argparse
import asyncio
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
SERVICE_URL = "https://bench.demo.edu.cn/app/"
# Issued tickets live 60 s by default; a batch is validated well within that.
BATCH_PER_WORKER = 40
HARD_LIMIT_SECONDS = 110


async def _register_service(http: httpx.AsyncClient, jar: dict[str, str]) -> None:
    response = await http.post(
        "/api/v1/auth/cas/services",
        json={
            "name": f"bench {secrets.token_hex(3)}",
            "match_kind": "exact",
            "url_pattern": SERVICE_URL,
            "released_attributes": ["name", "number", "person_type", "org_unit", "roles"],
            "slo_enabled": False,
        },
        headers={"X-CSRF-Token": jar["campus_csrf"], "Cookie": cookie_header(jar)},
    )
    if response.status_code != 201:
        raise SystemExit(f"service registration failed: {response.status_code} {response.text}")


async def _issue(http: httpx.AsyncClient, jar: dict[str, str]) -> str:
    answer = await http.get(
        "/cas/login", params={"service": SERVICE_URL}, headers={"Cookie": cookie_header(jar)}
    )
    if answer.status_code != 302:
        raise SystemExit(f"/cas/login issued no ticket: {answer.status_code} {answer.text[:200]}")
    return parse_qs(urlsplit(answer.headers["location"]).query)["ticket"][0]


async def measure_service_validate(
    base_url: str,
    *,
    seconds: float = 5.0,
    concurrency: int = 8,
    endpoint: str = "/cas/serviceValidate",
    admin_login: str = ADMIN_LOGIN,
    admin_password: str = ADMIN_PASSWORD,
) -> Throughput:
    """Successful ticket validations per second against a running Campus at ``base_url``."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        jar = await signed_in(http, admin_login, admin_password)
        await _register_service(http, jar)
        latencies: list[float] = []
        errors = 0
        timed = 0.0

        async def validate(tickets: list[str]) -> None:
            nonlocal errors
            for ticket in tickets:
                started = time.perf_counter()
                response = await http.get(
                    endpoint, params={"service": SERVICE_URL, "ticket": ticket}
                )
                latencies.append((time.perf_counter() - started) * 1000)
                errors += "<cas:authenticationSuccess>" not in response.text

        while timed < seconds:
            batch = [_issue(http, jar) for _ in range(concurrency * BATCH_PER_WORKER)]
            tickets = await asyncio.gather(*batch)
            shares = [tickets[n::concurrency] for n in range(concurrency)]
            began = time.perf_counter()
            await asyncio.gather(*(validate(share) for share in shares))
            timed += time.perf_counter() - began
    return throughput(latencies, timed, errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print("== machine")
    print(describe())
    with demo_server("campus-cas-bench-", HARD_LIMIT_SECONDS) as (base, seed_seconds):
        print("\n== setup")
        print(f"SQLite, small demo seeded in {seed_seconds:.1f} s; uvicorn, 1 worker, production")
        print(
            f"client: httpx in this process, {args.concurrency} concurrent validations, "
            f"{args.seconds:.0f} s of timed validation per figure (ticket issuance not timed)"
        )
        load = {"seconds": args.seconds, "concurrency": args.concurrency}
        baseline = asyncio.run(measure_trivial(base, **load))
        cas2 = asyncio.run(measure_service_validate(base, **load))
        cas3 = asyncio.run(
            measure_service_validate(base, endpoint="/cas/p3/serviceValidate", **load)
        )
        print_results(
            [
                ("GET /healthz (baseline)", baseline),
                ("/cas/serviceValidate", cas2),
                ("/cas/p3/serviceValidate", cas3),
            ]
        )
        ratio = cas2.per_second / baseline.per_second if baseline.per_second else 0.0
        print(f"\nserviceValidate/s = {ratio:.2f} × the trivial route's requests/s")


if __name__ == "__main__":
    main()
