"""Workflow engine: completed approvals per second over HTTP, step latency and stored state as
the instances grow, and a 1,000-way countersign.

- Throughput: a bench service (a form and a 3-step process: one approver, a countersign of
  five, one approver; all real demo people) runs on the embedded demo server (uvicorn, one
  worker, production settings, SQLite, relay and in-process bus). Applicants (students, signed
  in over HTTP) submit concurrently; the seven approvers (signed in over HTTP) work their
  to-do lists: each fetches ``GET /tasks?box=todo`` and approves either task by task
  (``POST /tasks/{id}/approve``, several requests in flight per approver) or all it fetched at
  once (``POST /tasks/batch``, the to-do center's batch approval). Completions are counted, not
  starts: an instance counts when its last approval answers ``approved``, and at the end every
  applicant's ``/instances/mine?status=approved`` must add up to the same number. The trivial
  route (``GET /healthz``, the same client) is measured in the same run for a ratio.
- Step latency and state size as instances grow: at each checkpoint (instances in the
  database: before the runs, after them, then 5,000, 10,000 and 20,000) ten instances are
  driven through all seven approvals one request at a time on an otherwise idle server; the
  p50/p95 of the single approve calls and the size of ``wf_instance.state`` (read from the
  SQLite file) at step 1, in the countersign and finished. The database grows to a checkpoint
  by copying the rows (instance, tasks, timeline) of instances finished in the runs, in SQL,
  while the server is idle (``--fill drive`` drives real ones over HTTP instead: slower).
- 1,000-way countersign: in-process (``campus.platform.workflow.actions`` against a fresh
  SQLite file migrated and seeded with the project's own functions, without HTTP or sign-ins):
  the time to start it (creating the tasks) and the time of each approval, first ten against
  last ten, and the same at 100 signers, so that the cost per approval shows whether the total
  grows linearly.

Traffic stays on 127.0.0.1 and the whole run stops by itself (``--hard-limit``).

    .venv/bin/python bench/workflow.py [--instances 300] [--runs 3] [--concurrency 32]
        [--approver-parallel 4] [--checkpoints 5000,10000,20000] [--fill copy|drive]
        [--countersign 1000] [--skip-http] [--skip-countersign] [--keep-files]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _http_load import (
    Throughput,
    demo_server,
    measure_trivial,
    session_headers,
    signed_in,
    signed_in_first_time,
)
from _machine import describe

API = "/api/v1/workflow"
ADMIN_LOGIN = "A0001"
ADMIN_PASSWORD = "Admin@2026"
# The password every seeded person other than the demo logins starts with (auth/seed.py).
INITIAL_PASSWORD = "Campus@2026"
KEY = "bench_approval"
FALLBACK_FORM = "enrolment_certificate"
TARGET_PER_SECOND = 100.0
APPROVERS = 7  # one, a countersign of five, one
UNLIMITED = "1000000000"
POLL_SECONDS = 0.1  # an approver with an empty list looks again after this
RUN_TIMEOUT_SECONDS = 240.0
QUIET_SAMPLES = 10
TASK_PAGE = 200
BATCH_MAX = 500


def percentile(values: Iterable[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# --- the people --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    person_id: int
    login: str
    name: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Cast:
    admin: Account
    approvers: list[Account]
    applicants: list[Account]
    form_key: str

    @property
    def last_approver(self) -> Account:
        return self.approvers[-1]


async def sign_in_admin(http: httpx.AsyncClient) -> Account:
    jar = await signed_in(http, ADMIN_LOGIN, ADMIN_PASSWORD)
    me = (await http.get("/api/v1/auth/me", headers=session_headers(jar))).json()
    return Account(me["person_id"], ADMIN_LOGIN, me.get("name", ""), session_headers(jar))


async def fresh_people(
    http: httpx.AsyncClient, admin: Account, person_type: str, count: int
) -> list[dict[str, Any]]:
    """Active people of ``person_type`` who still have their initial password (the demo
    logins have their own): found through the user center and the account center."""
    found: list[dict[str, Any]] = []
    page = 1
    while len(found) < count:
        listing = await http.get(
            "/api/v1/users/people",
            params={"type": person_type, "status": "active", "page": page, "page_size": 50},
            headers=admin.headers,
        )
        listing.raise_for_status()
        items = listing.json()["items"]
        if not items:
            raise SystemExit(f"only {len(found)} {person_type} people can sign in; {count} needed")
        for person in items:
            account = await http.get(f"/api/v1/auth/accounts/{person['id']}", headers=admin.headers)
            state = account.json()
            if state["must_change"] and state["has_password"] and not state["locked_until"]:
                found.append({**person, "login": state["login"]})
            if len(found) == count:
                return found
        page += 1
    return found


async def first_sign_ins(http: httpx.AsyncClient, people: list[dict[str, Any]]) -> list[Account]:
    """Each person signs in for the first time and sets a password of their own, one after
    the other: a sign-in holds SQLite's write lock while argon2id runs, so several at once
    would only queue behind each other (and hold up every other write meanwhile)."""
    gate = asyncio.Semaphore(1)

    async def one(person: dict[str, Any]) -> Account:
        async with gate:
            password = f"Wf7-{secrets.token_hex(6)}-Bench!"
            jar = await signed_in_first_time(http, person["login"], INITIAL_PASSWORD, password)
        return Account(person["id"], person["login"], person["name"], session_headers(jar))

    return list(await asyncio.gather(*(one(p) for p in people)))


# --- the design, over HTTP as the administrator -------------------------------------------------


def approval_chain(approvers: list[Account]) -> dict[str, Any]:
    first, *signers, last = (a.person_id for a in approvers)

    def step(name: str, ids: list[int], mode: str) -> dict[str, Any]:
        return {
            "type": "approve",
            "name": name,
            "assignee": {"kind": "person", "ids": ids},
            "mode": mode,
        }

    return {
        "nodes": [
            step("初审", [first], "any"),
            step("五人会签", signers, "all"),
            step("终审", [last], "any"),
        ]
    }


async def expect(response: Awaitable[httpx.Response], *codes: int) -> dict[str, Any]:
    answer = await response
    if answer.status_code not in codes:
        raise SystemExit(
            f"{answer.request.method} {answer.request.url.path}: "
            f"{answer.status_code} {answer.text[:400]}"
        )
    return dict(answer.json()) if answer.content else {}


async def bench_form(http: httpx.AsyncClient, admin: Account) -> str:
    """A form of our own through the forms API when it is served, otherwise the demo's
    enrolment-certificate form (the process is ours either way)."""
    created = await http.post(
        f"{API}/forms",
        json={
            "key": KEY,
            "name": "基准测试审批单",
            "fields": [
                {
                    "key": "reason",
                    "label": "事由",
                    "widget": "textarea",
                    "required": True,
                    "max": 200,
                },
                {
                    "key": "copies",
                    "label": "份数",
                    "widget": "number",
                    "required": True,
                    "min": 1,
                    "max": 10,
                    "step": 1,
                },
            ],
        },
        headers=admin.headers,
    )
    if created.status_code == 404:
        return FALLBACK_FORM
    if created.status_code != 201:
        raise SystemExit(f"form: {created.status_code} {created.text[:400]}")
    form_id = created.json()["id"]
    await expect(http.post(f"{API}/forms/{form_id}/publish", headers=admin.headers), 200)
    return KEY


def form_data(form_key: str, applicant: Account, n: int) -> dict[str, Any]:
    if form_key == FALLBACK_FORM:
        return {
            "name": applicant.name,
            "number": applicant.login,
            "language": "中文",
            "purpose": "实习",
            "copies": 1 + n % 3,
        }
    return {"reason": f"基准测试申请 {n}", "copies": 1 + n % 3}


async def design(http: httpx.AsyncClient, admin: Account, approvers: list[Account]) -> str:
    form_key = await bench_form(http, admin)
    await expect(
        http.post(
            f"{API}/processes",
            json={"key": KEY, "name": "基准测试审批", "chain": approval_chain(approvers)},
            headers=admin.headers,
        ),
        201,
    )
    await expect(
        http.post(
            f"{API}/services",
            json={
                "key": KEY,
                "name": "基准测试审批",
                "category": "基准测试",
                "audience": "student",
                "kind": "form",
                "form_key": form_key,
                "process_key": KEY,
            },
            headers=admin.headers,
        ),
        201,
    )
    return form_key


async def cast_and_design(http: httpx.AsyncClient, applicants: int) -> Cast:
    admin = await sign_in_admin(http)
    staff = await fresh_people(http, admin, "staff", APPROVERS)
    students = await fresh_people(http, admin, "undergraduate", applicants)
    approvers = await first_sign_ins(http, staff)
    applicant_accounts = await first_sign_ins(http, students)
    form_key = await design(http, admin, approvers)
    return Cast(admin, approvers, applicant_accounts, form_key)


# --- one run: submit, approve until every instance is approved ---------------------------------


@dataclass
class RunResult:
    variant: str
    submitted: int = 0
    completed: int = 0
    seconds: float = 0.0
    errors: int = 0
    apply_ms: list[float] = field(default_factory=list)
    approve_ms: list[float] = field(default_factory=list)  # one request each
    batch_sizes: list[int] = field(default_factory=list)
    end_to_end_ms: list[float] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


class Drive:
    """``count`` applications submitted by the applicants at once, worked through by the
    approvers until each is approved (or the run's time is up)."""

    def __init__(
        self, http: httpx.AsyncClient, cast: Cast, count: int, variant: str, parallel: int
    ) -> None:
        self.http, self.cast, self.count = http, cast, count
        self.variant, self.parallel = variant, parallel
        self.result = RunResult(variant)
        self.submitted_at: dict[int, float] = {}
        self.completed_at: dict[int, float] = {}
        self.submitting_done = False
        self.finished = asyncio.Event()

    async def run(self) -> RunResult:
        began = time.perf_counter()
        approvers = [asyncio.create_task(self.approver(a)) for a in self.cast.approvers]
        await asyncio.gather(*(self.submitter(i) for i in range(len(self.cast.applicants))))
        self.submitting_done = True
        self.check_finished()
        try:
            await asyncio.wait_for(self.finished.wait(), RUN_TIMEOUT_SECONDS)
        except TimeoutError:
            self.result.anomalies.append(f"time up after {RUN_TIMEOUT_SECONDS:.0f} s")
        self.finished.set()
        await asyncio.gather(*approvers)
        last = max(self.completed_at.values(), default=began)
        self.result.seconds = last - began
        self.result.submitted = len(self.submitted_at)
        self.result.completed = len(self.completed_at)
        self.result.end_to_end_ms = [
            (done - self.submitted_at[i]) * 1000 for i, done in self.completed_at.items()
        ]
        return self.result

    def check_finished(self) -> None:
        if self.submitting_done and len(self.completed_at) >= len(self.submitted_at):
            self.finished.set()

    async def submitter(self, index: int) -> None:
        applicants = self.cast.applicants
        applicant = applicants[index]
        for n in range(index, self.count, len(applicants)):
            started = time.perf_counter()
            data = {"data": form_data(self.cast.form_key, applicant, n)}
            applied = await self.call(
                "POST", f"{API}/services/{KEY}/apply", applicant, 201, json=data
            )
            if applied is not None:
                self.result.apply_ms.append((time.perf_counter() - started) * 1000)
                self.submitted_at[applied["instance_id"]] = started

    def fail(self, what: str) -> None:
        self.result.errors += 1
        if len(self.result.anomalies) < 5:
            self.result.anomalies.append(what)

    async def call(
        self, method: str, path: str, account: Account, expected: int, **kwargs: Any
    ) -> dict[str, Any] | None:
        """One request; its JSON answer, or None (counted as an error) when it fails."""
        try:
            response = await self.http.request(method, path, headers=account.headers, **kwargs)
        except httpx.HTTPError as exc:
            self.fail(f"{method} {path}: {exc!r}")
            return None
        if response.status_code != expected:
            self.fail(f"{method} {path}: {response.status_code} {response.text[:160]}")
            return None
        return dict(response.json())

    def complete(self, instance_id: int) -> None:
        self.completed_at.setdefault(instance_id, time.perf_counter())
        self.check_finished()

    async def todo(self, approver: Account) -> list[dict[str, Any]]:
        params = {"box": "todo", "page_size": TASK_PAGE}
        page = await self.call("GET", f"{API}/tasks", approver, 200, params=params)
        return [
            t
            for t in (page or {}).get("items", [])
            if t["kind"] == "approve" and t["instance_id"] in self.submitted_at
        ]

    async def approver(self, approver: Account) -> None:
        work = self.approve_each if self.variant == "per task" else self.approve_batch
        while not self.finished.is_set():
            tasks = await self.todo(approver)
            if tasks:
                await work(approver, tasks)
            else:
                await asyncio.sleep(POLL_SECONDS)

    async def approve_each(self, approver: Account, tasks: list[dict[str, Any]]) -> None:
        gate = asyncio.Semaphore(self.parallel)

        async def one(task: dict[str, Any]) -> None:
            async with gate:
                started = time.perf_counter()
                path = f"{API}/tasks/{task['id']}/approve"
                answer = await self.call("POST", path, approver, 200, json={"comment": "同意"})
                if answer is None:
                    return
                self.result.approve_ms.append((time.perf_counter() - started) * 1000)
                if answer["status"] == "approved":
                    self.complete(task["instance_id"])

        await asyncio.gather(*(one(t) for t in tasks))

    async def approve_batch(self, approver: Account, tasks: list[dict[str, Any]]) -> None:
        started = time.perf_counter()
        body = {
            "task_ids": [t["id"] for t in tasks[:BATCH_MAX]],
            "action": "approve",
            "comment": "同意",
        }
        answer = await self.call("POST", f"{API}/tasks/batch", approver, 200, json=body)
        if answer is None:
            return
        self.result.approve_ms.append((time.perf_counter() - started) * 1000)
        self.result.batch_sizes.append(len(answer["done"]))
        for task_id, reason in answer["failed"].items():
            self.fail(f"batch task {task_id}: {reason}")
        if approver == self.cast.last_approver:
            # The last step is one person's: their approval ends the instance (checked at the
            # end against the applicants' own lists).
            by_id = {t["id"]: t["instance_id"] for t in tasks}
            for task_id in answer["done"]:
                self.complete(by_id[task_id])


async def approved_total(http: httpx.AsyncClient, cast: Cast) -> int:
    """Instances with status approved, as their applicants see them."""
    total = 0
    for applicant in cast.applicants:
        page = await expect(
            http.get(
                f"{API}/instances/mine",
                params={"status": "approved", "page_size": 1},
                headers=applicant.headers,
            ),
            200,
        )
        total += int(page["total"])
    return total


# --- step latency and stored state as the instances grow ----------------------------------------


@dataclass
class Checkpoint:
    instances: int
    database_mib: float
    approve_ms: list[float]
    apply_ms: list[float]
    state_bytes: dict[str, float]


def database_counts(database: Path) -> tuple[int, float]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        count = db.execute("SELECT count(*) FROM wf_instance").fetchone()[0]
    size = sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))
    return int(count), size / 2**20


def state_sizes(database: Path, instance_ids: list[int]) -> list[int]:
    marks = ",".join("?" * len(instance_ids))
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute(
            f"SELECT length(CAST(state AS BLOB)) FROM wf_instance WHERE id IN ({marks})",
            instance_ids,
        ).fetchall()
    return [int(r[0]) for r in rows]


async def quiet_round(
    http: httpx.AsyncClient, cast: Cast, database: Path
) -> tuple[list[float], list[float], dict[str, float]]:
    """A few instances through all seven approvals, one request at a time; the latency of
    each call and the median size of the stored state at each stage."""
    apply_ms: list[float] = []
    approve_ms: list[float] = []
    ids: list[int] = []
    for n in range(QUIET_SAMPLES):
        applicant = cast.applicants[n % len(cast.applicants)]
        started = time.perf_counter()
        applied = await expect(
            http.post(
                f"{API}/services/{KEY}/apply",
                json={"data": form_data(cast.form_key, applicant, n)},
                headers=applicant.headers,
            ),
            201,
        )
        apply_ms.append((time.perf_counter() - started) * 1000)
        ids.append(applied["instance_id"])
    sizes = {"at step 1": statistics.median(state_sizes(database, ids))}
    stages = [[cast.approvers[0]], cast.approvers[1:-1], [cast.approvers[-1]]]
    for number, approvers in enumerate(stages, 1):
        for approver in approvers:
            await approve_one_by_one(http, approver, set(ids), approve_ms)
        if number == 1:
            sizes["in the countersign"] = statistics.median(state_sizes(database, ids))
    sizes["finished"] = statistics.median(state_sizes(database, ids))
    return apply_ms, approve_ms, sizes


async def approve_one_by_one(
    http: httpx.AsyncClient, approver: Account, instance_ids: set[int], latencies: list[float]
) -> None:
    listing = await expect(
        http.get(
            f"{API}/tasks", params={"box": "todo", "page_size": TASK_PAGE}, headers=approver.headers
        ),
        200,
    )
    for task in listing["items"]:
        if task["instance_id"] not in instance_ids:
            continue
        started = time.perf_counter()
        await expect(
            http.post(
                f"{API}/tasks/{task['id']}/approve",
                json={"comment": "同意"},
                headers=approver.headers,
            ),
            200,
        )
        latencies.append((time.perf_counter() - started) * 1000)


def add_ballast(database: Path, count: int) -> None:
    """``count`` more finished instances, as copies of the rows (instance, tasks, timeline) of
    instances the engine finished in the runs: the tables grow as real ones would without
    spending minutes driving thousands of instances (written while the server is idle)."""
    with sqlite3.connect(database, timeout=60) as db:
        templates = [
            int(r[0])
            for r in db.execute(
                "SELECT id FROM wf_instance WHERE process_key = ? AND status = 'approved' "
                "ORDER BY id LIMIT 200",
                (KEY,),
            )
        ]
        if not templates:
            raise SystemExit("no finished instance to copy")
        tables = {name: _rows_of(db, name, templates) for name in ("wf_task", "wf_timeline")}
        instances = _rows_of(db, "wf_instance", templates, key="id")
        next_ids = {
            name: int(db.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {name}").fetchone()[0])
            for name in ("wf_instance", *tables)
        }
        for n in range(count):
            source = templates[n % len(templates)]
            instance_id = next_ids["wf_instance"]
            next_ids["wf_instance"] += 1
            _insert(db, "wf_instance", [{**instances[source][0], "id": instance_id}])
            for name, by_instance in tables.items():
                copies = []
                for row in by_instance.get(source, []):
                    copies.append({**row, "id": next_ids[name], "instance_id": instance_id})
                    next_ids[name] += 1
                _insert(db, name, copies)
            if n % 1000 == 999:
                db.commit()


def _rows_of(
    db: sqlite3.Connection, table: str, instance_ids: list[int], key: str = "instance_id"
) -> dict[int, list[dict[str, Any]]]:
    marks = ",".join("?" * len(instance_ids))
    cursor = db.execute(f"SELECT * FROM {table} WHERE {key} IN ({marks})", instance_ids)
    names = [d[0] for d in cursor.description]
    found: dict[int, list[dict[str, Any]]] = {}
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        found.setdefault(int(row[key]), []).append(row)
    return found


def _insert(db: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    statement = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    db.executemany(statement, [tuple(r[n] for n in names) for r in rows])


async def fill_by_driving(http: httpx.AsyncClient, cast: Cast, count: int, parallel: int) -> None:
    filled = await Drive(http, cast, count, "batch", parallel).run()
    print(
        f"  drove {filled.completed} instances in {filled.seconds:.0f} s "
        f"({filled.per_second:.1f}/s)",
        flush=True,
    )


async def checkpoint(http: httpx.AsyncClient, cast: Cast, database: Path) -> Checkpoint:
    apply_ms, approve_ms, sizes = await quiet_round(http, cast, database)
    present, mib = database_counts(database)
    print(
        f"  checkpoint at {present} instances: approve p50 {percentile(approve_ms, 0.5):.1f} ms"
        f", p95 {percentile(approve_ms, 0.95):.1f} ms",
        flush=True,
    )
    return Checkpoint(present, mib, approve_ms, apply_ms, sizes)


async def grow_and_measure(
    http: httpx.AsyncClient, cast: Cast, database: Path, args: argparse.Namespace
) -> list[Checkpoint]:
    """Grows the database to each checkpoint (copies of finished instances, or ``--fill
    drive``: the batch drive over HTTP), then measures a quiet round there."""
    measured: list[Checkpoint] = []
    for target in args.checkpoints:
        present, _ = database_counts(database)
        missing = target - QUIET_SAMPLES - present
        if missing > 0 and args.fill == "copy":
            add_ballast(database, missing)
        elif missing > 0:
            await fill_by_driving(http, cast, missing, args.approver_parallel)
        measured.append(await checkpoint(http, cast, database))
    return measured


# --- the HTTP part ------------------------------------------------------------------------------


@dataclass
class HttpFigures:
    trivial: Throughput
    runs: dict[str, list[RunResult]]
    checkpoints: list[Checkpoint]
    approved_seen: int
    approved_counted: int
    definition_bytes: int


def definition_size(database: Path) -> int:
    """Bytes of the bench process's definition, stored once per version, not per instance."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        row = db.execute(
            "SELECT length(CAST(v.spec AS BLOB)) FROM wf_process_version v "
            "JOIN wf_process p ON p.id = v.process_id WHERE p.key = ?",
            (KEY,),
        ).fetchone()
    return int(row[0]) if row else 0


async def measure_http(base: str, database: Path, args: argparse.Namespace) -> HttpFigures:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        cast = await cast_and_design(http, args.concurrency)
        print(
            f"form: {cast.form_key}; approvers: "
            + ", ".join(f"{a.name} ({a.login})" for a in cast.approvers),
            flush=True,
        )
        warm_up = Drive(http, cast, 2 * args.concurrency, "per task", args.approver_parallel)
        warmed = (await warm_up.run()).completed
        before = await checkpoint(http, cast, database)
        trivial = await measure_trivial(base, seconds=5.0, concurrency=args.concurrency)
        runs: dict[str, list[RunResult]] = {"per task": [], "batch": []}
        for number in range(1, args.runs + 1):
            for variant in runs:
                result = await Drive(
                    http, cast, args.instances, variant, args.approver_parallel
                ).run()
                runs[variant].append(result)
                print(
                    f"  run {number} {variant:8} {result.per_second:7.1f} completed/s "
                    f"({result.completed}/{result.submitted} in {result.seconds:.1f} s, "
                    f"{result.errors} errors)",
                    flush=True,
                )
        counted = sum(r.completed for rs in runs.values() for r in rs) + warmed
        seen = await approved_total(http, cast) - QUIET_SAMPLES
        after = await checkpoint(http, cast, database)
        checkpoints = [before, after, *await grow_and_measure(http, cast, database, args)]
    return HttpFigures(trivial, runs, checkpoints, seen, counted, definition_size(database))


def report_http(figures: HttpFigures, args: argparse.Namespace) -> None:
    print("\n== throughput: completed instances/s (3-step approval, countersign of 5)")
    medians = {v: statistics.median(r.per_second for r in rs) for v, rs in figures.runs.items()}
    for variant, runs in figures.runs.items():
        report_variant(variant, runs, medians[variant])
    report_ratios(figures, medians, args)
    report_checkpoints(figures)


def report_variant(variant: str, runs: list[RunResult], median: float) -> None:
    calls = [ms for r in runs for ms in r.approve_ms]
    e2e = [ms for r in runs for ms in r.end_to_end_ms]
    unit = "approve call" if variant == "per task" else "batch call"
    per_run = ", ".join(f"{r.per_second:.1f}" for r in runs)
    errors = sum(r.errors for r in runs)
    print(f"{variant:9} median {median:7.1f} /s   runs: {per_run}   errors: {errors}")
    print(
        f"{'':9} {unit} p50 {percentile(calls, 0.5):.0f} ms, p95 {percentile(calls, 0.95):.0f} ms"
        f"; apply→approved p50 {percentile(e2e, 0.5) / 1000:.1f} s under this load"
    )
    sizes = [s for r in runs for s in r.batch_sizes]
    if sizes:
        print(
            f"{'':9} tasks per batch call: median {statistics.median(sizes):.0f}, max {max(sizes)}"
        )
    for r in runs:
        for anomaly in r.anomalies:
            print(f"{'':9} note: {anomaly}")


def report_ratios(
    figures: HttpFigures, medians: dict[str, float], args: argparse.Namespace
) -> None:
    trivial = figures.trivial.per_second
    writes = 1 + APPROVERS
    print(
        f"\nbaseline GET /healthz (same client, same run, {args.concurrency} concurrent): "
        f"{trivial:.0f} req/s"
    )
    for variant, median in medians.items():
        print(
            f"{variant}: completed/s / trivial req/s = {median / trivial:.4f}; "
            f"{writes} writes per completion (1 apply + {APPROVERS} approvals) = "
            f"{median * writes:.0f} write decisions/s = {median * writes / trivial:.3f} × trivial"
        )
    best = max(medians.values())
    verdict = (
        "met"
        if min(medians.values()) >= TARGET_PER_SECOND
        else ("met by batch approval only" if best >= TARGET_PER_SECOND else "NOT met")
    )
    print(f"target ≥ {TARGET_PER_SECOND:.0f} completed/s embedded: {verdict}")
    check = "agrees" if figures.approved_seen == figures.approved_counted else "DISAGREES"
    print(
        f"applicants' /instances/mine?status=approved: {figures.approved_seen} in all, "
        f"{figures.approved_counted} counted by the drive ({check})"
    )


def report_checkpoints(figures: HttpFigures) -> None:
    print("\n== step latency and stored state as instances grow (idle server, one call at a time)")
    print(
        f"{QUIET_SAMPLES} instances per checkpoint, each through its {APPROVERS} approvals; "
        "state = length of wf_instance.state (median)"
    )
    print(
        f"{'instances':>10} {'db MiB':>8} {'apply p50':>10} {'approve p50':>12} "
        f"{'approve p95':>12} {'state step 1':>13} {'countersign':>12} {'finished':>9}"
    )
    for c in figures.checkpoints:
        print(
            f"{c.instances:>10} {c.database_mib:>8.1f} {percentile(c.apply_ms, 0.5):>8.1f}ms "
            f"{percentile(c.approve_ms, 0.5):>10.1f}ms {percentile(c.approve_ms, 0.95):>10.1f}ms "
            f"{c.state_bytes['at step 1']:>11.0f} B {c.state_bytes['in the countersign']:>10.0f}"
            f" B {c.state_bytes['finished']:>7.0f} B"
        )
    print(f"process definition, stored once per version: {figures.definition_bytes} B")


def run_http_part(args: argparse.Namespace) -> None:
    # Sign-in limits are there to stop guessing, which this is not (server under test only).
    os.environ.update(
        CAMPUS_LOGIN_ATTEMPTS_PER_IP=UNLIMITED, CAMPUS_LOGIN_ATTEMPTS_PER_ACCOUNT=UNLIMITED
    )
    workdir = Path(tempfile.mkdtemp(prefix="campus-workflow-bench-"))
    try:
        with demo_server("", args.hard_limit, workdir=workdir) as (base, seed_seconds):
            print("\n== setup (HTTP)")
            print(
                f"SQLite, small demo seeded in {seed_seconds:.1f} s; uvicorn, 1 worker, "
                "production settings, relay and in-process bus in the server"
            )
            print(
                f"{args.concurrency} applicants submit at once; {APPROVERS} approvers, "
                f"{args.approver_parallel} approvals in flight each (per-task variant) or one "
                f"batch call at a time; {args.instances} instances per run, {args.runs} runs "
                "per variant, alternating, after a warm-up run"
            )
            figures = asyncio.run(measure_http(base, workdir / "campus.db", args))
        report_http(figures, args)
    finally:
        if args.keep_files:
            print(f"(database and server log kept in {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# --- the 1,000-way countersign, in process ------------------------------------------------------


@dataclass
class Countersign:
    signers: int
    start_seconds: float
    approve_ms: list[float]
    status: str

    @property
    def total_seconds(self) -> float:
        return sum(self.approve_ms) / 1000


async def countersign(
    database_url: str, files: Path, signers: list[int], applicant: int
) -> Countersign:
    """One instance of a one-step process whose step is a countersign (mode all) of
    ``signers``: the time to start it, then each approval in its own transaction."""
    from sqlalchemy import select

    from campus.entrypoints.http import build_runtime
    from campus.kernel import runtime as runtime_module
    from campus.kernel.config import Settings
    from campus.kernel.context import Principal
    from campus.platform.workflow import actions
    from campus.platform.workflow.models import Instance, Task
    from campus.platform.workflow.schemas import Decision, ProcessCreate

    key = f"bench_countersign_{len(signers)}"
    runtime = build_runtime(Settings(database_url=database_url, storage_url=f"file://{files}"))
    runtime_module.set_current(runtime)
    try:
        async with runtime.db.transaction() as session:
            chain = {
                "nodes": [
                    {
                        "type": "approve",
                        "name": f"{len(signers)} 人会签",
                        "mode": "all",
                        "assignee": {"kind": "person", "ids": signers},
                    }
                ]
            }
            body = ProcessCreate.model_validate({"key": key, "name": key, "chain": chain})
            await actions.check_create_process(session, body, None)
        started = time.perf_counter()
        async with runtime.db.transaction() as session:
            request = actions.StartRequest(key, applicant, f"{len(signers)} 人会签", {})
            instance_id = (await actions.do_start(session, request)).id
        start_seconds = time.perf_counter() - started
        async with runtime.db.read() as session:
            tasks = list(
                await session.execute(
                    select(Task.id, Task.assignee_id)
                    .where(Task.instance_id == instance_id)
                    .order_by(Task.seq, Task.id)
                )
            )
        if len(tasks) != len(signers):
            raise SystemExit(f"{len(tasks)} tasks created for {len(signers)} signers")
        approve_ms: list[float] = []
        for task_id, person_id in tasks:
            principal = Principal(person_id=person_id, name="", login="")
            began = time.perf_counter()
            async with runtime.db.transaction() as session:
                await actions.check_decide(session, principal, task_id, True, Decision())
            approve_ms.append((time.perf_counter() - began) * 1000)
        async with runtime.db.read() as session:
            status = await session.scalar(select(Instance.status).where(Instance.id == instance_id))
    finally:
        await runtime.close()
    return Countersign(len(signers), start_seconds, approve_ms, str(status))


def active_people(database: Path, count: int) -> list[int]:
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT id FROM users_person WHERE status = 'active' ORDER BY id LIMIT ?", (count,)
        ).fetchall()
    if len(rows) < count:
        raise SystemExit(f"only {len(rows)} active people in the demo; {count} needed")
    return [int(r[0]) for r in rows]


def run_countersign_part(size: int, seconds_left: float) -> None:
    from http_baseline import prepare_database

    def out_of_time(_signum: int, _frame: object) -> None:
        raise SystemExit("stopped: the countersign ran past the benchmark's hard limit")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(max(1, int(seconds_left)))
    workdir = Path(tempfile.mkdtemp(prefix="campus-countersign-bench-"))
    try:
        database_url, seed_seconds = prepare_database(workdir)
        people = active_people(workdir / "campus.db", size + 1)
        applicant, signers = people[0], people[1:]
        print("\n== setup (countersign, in process)")
        print(
            f"SQLite, small demo seeded in {seed_seconds:.1f} s; campus.platform.workflow.actions"
            " called directly (no HTTP, no sign-ins), each approval its own transaction; the "
            "relay does not run (events stay in the outbox)"
        )
        results = [
            asyncio.run(countersign(database_url, workdir / "files", signers[:n], applicant))
            for n in sorted({min(100, size), size})
        ]
        report_countersign(results)
    finally:
        signal.alarm(0)
        shutil.rmtree(workdir, ignore_errors=True)


def report_countersign(results: list[Countersign]) -> None:
    print("\n== countersign (mode all), one instance")
    for r in results:
        first = statistics.median(r.approve_ms[:10])
        last = statistics.median(r.approve_ms[-10:])
        start_ms = r.start_seconds * 1000
        mean = statistics.mean(r.approve_ms)
        print(f"{r.signers:>5} signers: start (creates {r.signers} tasks) {start_ms:.0f} ms")
        print(f"{'':7}approvals: first 10 median {first:.1f} ms, last 10 median {last:.1f} ms")
        print(
            f"{'':7}last/first {last / first:.2f}; mean {mean:.1f} ms, "
            f"p95 {percentile(r.approve_ms, 0.95):.1f} ms; all {r.total_seconds:.1f} s"
        )
        print(f"{'':7}instance {r.status}")
    if len(results) == 2:
        small, large = results
        growth = statistics.mean(large.approve_ms) / statistics.mean(small.approve_ms)
        print(
            f"mean cost per approval at {large.signers} / at {small.signers} signers: "
            f"{growth:.2f} (1.0 = the total grows linearly with the signers; "
            f"{large.signers / small.signers:.0f} = quadratically)"
        )


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=300, help="per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32, help="applicants submitting")
    parser.add_argument("--approver-parallel", type=int, default=4)
    parser.add_argument(
        "--checkpoints",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[5000, 10000, 20000],
        help="instances in the database at which latency and state are measured",
    )
    parser.add_argument(
        "--fill",
        choices=("copy", "drive"),
        default="copy",
        help="grow the database by copying finished instances' rows, or by driving more",
    )
    parser.add_argument("--countersign", type=int, default=1000)
    parser.add_argument("--hard-limit", type=int, default=1500, help="seconds")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--keep-files", action="store_true", help="keep the database and log")
    parser.add_argument("--skip-countersign", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    print("== machine")
    print(describe())
    if not args.skip_http:
        run_http_part(args)
    if not args.skip_countersign:
        run_countersign_part(args.countersign, args.hard_limit - (time.monotonic() - started))
    print(f"\ntotal wall time: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
