"""The designer's and the services management's pages: who may open them and what they show."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import LoginAs

CHAIN = {
    "nodes": [
        {"type": "approve", "name": "指定人审批", "assignee": {"kind": "person", "ids": []}},
        {
            "type": "branch",
            "branches": [
                {
                    "name": "超过3天",
                    "condition": {"field": "days", "op": "gt", "value": 3},
                    "nodes": [
                        {
                            "type": "approve",
                            "name": "院长审批",
                            "assignee": {"kind": "position", "position": "dean", "relative": True},
                        }
                    ],
                },
                {"name": "其他", "default": True, "nodes": []},
            ],
        },
    ]
}
PAGES = (
    "/workflow/processes",
    "/workflow/processes/new",
    "/workflow/services",
    "/workflow/services/new",
)


def _designer_data(html: str) -> dict:  # type: ignore[type-arg]
    found = re.search(
        r'<script type="application/json" id="chain-designer-data">(.*?)</script>', html, re.S
    )
    assert found, "the designer's data block is on the page"
    data: dict = json.loads(found.group(1))  # type: ignore[type-arg]
    return data


@pytest.mark.parametrize("path", PAGES)
async def test_a_student_is_refused_every_management_page(login_as: LoginAs, path: str) -> None:
    student = await login_as("student")
    response = await student.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]


async def test_an_anonymous_visitor_is_sent_to_sign_in(anon) -> None:  # type: ignore[no-untyped-def]
    response = await anon.get("/workflow/processes", headers={"Accept": "text/html"})
    assert response.status_code in (302, 303, 401)


async def test_the_process_list_shows_the_demo_processes(login_as: LoginAs) -> None:
    admin = await login_as("admin")
    response = await admin.get("/workflow/processes")
    assert response.status_code == 200
    assert 'data-testid="processes-table"' in response.text
    processes = (await admin.get("/api/v1/workflow/processes")).json()
    assert processes, "the demo seed declares processes"
    for process in processes:
        assert f"/workflow/processes/{process['key']}/design" in response.text


async def test_the_design_page_starts_from_the_newest_chain(login_as: LoginAs) -> None:
    admin = await login_as("admin")
    me = (await admin.get("/api/v1/auth/me")).json()["person_id"]
    chain = json.loads(json.dumps(CHAIN))
    chain["nodes"][0]["assignee"]["ids"] = [me]
    created = await admin.post(
        "/api/v1/workflow/processes",
        json={"key": "t.design_page", "name": "页面测试", "chain": chain},
    )
    assert created.status_code == 201, created.text
    response = await admin.get("/workflow/processes/t.design_page/design")
    assert response.status_code == 200
    data = _designer_data(response.text)
    assert data["chain"]["nodes"][0]["name"] == "指定人审批"
    assert data["chain_version"] == 1
    assert data["people"][str(me)], "the people the chain names come with their names"
    assert data["org_units"] and {"id", "name", "depth"} <= set(data["org_units"][0])
    assert data["labels"]["modes"]["all"] == "会签"
    # The preview shows the published version's diagram, drawn by the page's scripts.
    assert (
        'data-xml-url="/api/v1/workflow/processes/t.design_page/versions/1/bpmn"' in response.text
    )
    assert "/static/vendor/bpmn-js/bpmn-viewer.production.min.js" in response.text


async def test_the_new_process_page_starts_with_one_step(login_as: LoginAs) -> None:
    admin = await login_as("admin")
    response = await admin.get("/workflow/processes/new")
    assert response.status_code == 200
    data = _designer_data(response.text)
    assert data["process"] is None and data["chain"] is None
    assert 'data-testid="process-key"' in response.text


async def test_the_modeler_opens_a_version_and_refuses_a_missing_one(login_as: LoginAs) -> None:
    admin = await login_as("admin")
    key = (await admin.get("/api/v1/workflow/processes")).json()[0]["key"]
    response = await admin.get(f"/workflow/processes/{key}/modeler")
    assert response.status_code == 200
    assert "/static/vendor/bpmn-js/bpmn-modeler.production.min.js" in response.text
    assert (await admin.get(f"/workflow/processes/{key}/modeler?version=999")).status_code == 404
    assert (await admin.get("/workflow/processes/no.such/design")).status_code == 404


async def test_the_services_list_and_form(login_as: LoginAs) -> None:
    admin = await login_as("admin")
    response = await admin.get("/workflow/services")
    assert response.status_code == 200
    services = (await admin.get("/api/v1/workflow/services")).json()
    assert services
    assert services[0]["name"] in response.text
    edit = await admin.get(f"/workflow/services/{services[0]['key']}/edit")
    assert edit.status_code == 200
    assert services[0]["key"] in edit.text
    assert (await admin.get("/workflow/services/no_such/edit")).status_code == 404


async def test_the_static_files_are_served_and_nothing_else(anon) -> None:  # type: ignore[no-untyped-def]
    script = await anon.get("/workflow/designer/assets/diagram.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert (await anon.get("/workflow/designer/assets/diagram.css")).status_code == 200
    assert (await anon.get("/workflow/designer/assets/missing.js")).status_code == 404
    assert (await anon.get("/workflow/designer/assets/..%2Fdesigner_pages.py")).status_code == 404


async def test_the_designer_speaks_english_too(login_as: LoginAs) -> None:
    admin = await login_as("admin")
    response = await admin.get(
        "/workflow/processes/student_leave/design", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert "Approval chain" in response.text
    data = _designer_data(response.text)
    assert data["labels"]["modes"]["all"] == "All"
    assert data["labels"]["text"]["condition"] == "Condition {n}"
