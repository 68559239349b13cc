"""Fixtures of the workflow tests: the demo logins as clients, and processes made to measure
(their steps assigned to demo people) bound to a student service."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import LoginAs
from tests.platform.auth.conftest import (  # noqa: F401 (fixtures used by the tests here)
    browser,
    make_account,
)

FORM = "enrolment_certificate"
FORM_DATA = {
    "name": "沈同学",
    "number": "2023001",
    "language": "中文",
    "purpose": "签证",
    "copies": 2,
}
_keys = itertools.count(1)


@dataclass
class Cast:
    """Signed-in clients and person ids of the demo logins."""

    clients: dict[str, httpx.AsyncClient]
    ids: dict[str, int]

    def __getitem__(self, role: str) -> httpx.AsyncClient:
        return self.clients[role]


@pytest.fixture
async def cast(login_as: LoginAs) -> Cast:
    clients, ids = {}, {}
    for role in ("admin", "student", "counselor", "staff", "teacher", "user_admin"):
        client = await login_as(role)
        clients[role] = client
        ids[role] = (await client.get("/api/v1/auth/me")).json()["person_id"]
    return Cast(clients, ids)


def step(name: str, *people: int, **settings: Any) -> dict[str, Any]:
    return {
        "type": "approve",
        "name": name,
        "assignee": {"kind": "person", "ids": list(people)},
        **settings,
    }


async def make_service(cast: Cast, nodes: list[dict[str, Any]]) -> str:
    """A student service with the demo certificate form and a process of ``nodes``."""
    key = f"t_flow_{next(_keys)}"
    admin = cast["admin"]
    created = await admin.post(
        "/api/v1/workflow/processes",
        json={"key": key, "name": "测试流程", "chain": {"nodes": nodes}},
    )
    assert created.status_code == 201, created.text
    service = await admin.post(
        "/api/v1/workflow/services",
        json={
            "key": key,
            "name": "测试服务",
            "category": "测试",
            "audience": "student",
            "form_key": FORM,
            "process_key": key,
        },
    )
    assert service.status_code == 201, service.text
    return key


async def apply(cast: Cast, key: str, **data: Any) -> dict[str, Any]:
    response = await cast["student"].post(
        f"/api/v1/workflow/services/{key}/apply", json={"data": {**FORM_DATA, **data}}
    )
    assert response.status_code == 201, response.text
    return await instance(cast, response.json()["instance_id"])


async def instance(cast: Cast, instance_id: int, role: str = "student") -> dict[str, Any]:
    response = await cast[role].get(f"/api/v1/workflow/instances/{instance_id}")
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def open_task(inst: dict[str, Any], person_id: int) -> int:
    return next(
        t["id"]
        for t in inst["tasks"]
        if t["assignee_id"] == person_id and t["status"] == "pending" and t["kind"] == "approve"
    )


async def act(
    cast: Cast, role: str, inst: dict[str, Any], action: str = "approve", **body: Any
) -> httpx.Response:
    task_id = open_task(await instance(cast, inst["id"]), cast.ids[role])
    return await cast[role].post(f"/api/v1/workflow/tasks/{task_id}/{action}", json=body)


def actions_of(inst: dict[str, Any]) -> list[str]:
    return [e["action"] for e in inst["timeline"]]


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert field in [e["field"] for e in response.json().get("errors", [])], response.text
