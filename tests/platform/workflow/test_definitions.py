"""Process definitions: chains compile to BPMN that round-trips; imported BPMN is checked, and
every design error is refused with a reason naming what is wrong, storing nothing."""

from __future__ import annotations

import httpx

from tests.platform.workflow.conftest import Cast, assert_problem, step

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" '
    'targetNamespace="t"><bpmn:process id="p" isExecutable="true">'
)
TAIL = "</bpmn:process></bpmn:definitions>"


def bpmn(body: str) -> str:
    return HEAD + body + TAIL


GOOD = bpmn(
    '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="a"/>'
    '<bpmn:userTask id="a" name="审批"/><bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="e"/>'
    '<bpmn:endEvent id="e"/>'
)


async def create(admin: httpx.AsyncClient, key: str, **design: object) -> httpx.Response:
    return await admin.post(
        "/api/v1/workflow/processes", json={"key": key, "name": "导入", **design}
    )


async def count(admin: httpx.AsyncClient) -> int:
    return len((await admin.get("/api/v1/workflow/processes")).json())


async def test_imported_bpmn_is_accepted_and_exported_again(cast: Cast) -> None:
    admin = cast["admin"]
    made = await create(admin, "imported", bpmn=GOOD)
    assert made.status_code == 201, made.text
    assert made.json()["versions"][0]["steps"] == [{"id": "a", "name": "审批", "kind": "approve"}]
    exported = await admin.get("/api/v1/workflow/processes/imported/versions/1/bpmn")
    assert exported.status_code == 200 and "userTask" in exported.text
    again = await admin.post(
        "/api/v1/workflow/processes/imported/versions", json={"bpmn": exported.text}
    )
    assert again.status_code == 201 and again.json()["published_version"] == 2


async def test_a_chain_exports_as_bpmn_that_imports_back(cast: Cast) -> None:
    admin = cast["admin"]
    nodes = [
        step("甲", cast.ids["staff"]),
        {
            "type": "branch",
            "branches": [
                {
                    "name": "多",
                    "condition": {"field": "copies", "op": "ge", "value": 3},
                    "nodes": [step("乙", cast.ids["counselor"], mode="all")],
                },
                {"name": "少", "default": True, "nodes": []},
            ],
        },
    ]
    made = await create(admin, "chained", chain={"nodes": nodes})
    assert made.status_code == 201, made.text
    assert [s["name"] for s in made.json()["versions"][0]["steps"]] == ["甲", "乙"]
    xml = (await admin.get("/api/v1/workflow/processes/chained/versions/1/bpmn")).text
    again = await create(admin, "chained_copy", bpmn=xml)
    assert again.status_code == 201, again.text
    assert again.json()["versions"][0]["steps"] == made.json()["versions"][0]["steps"]


BAD = {
    "not xml": ("<bpmn:definitions", "不是合法的 XML"),
    "no process": (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>',
        "恰好包含一个流程",
    ),
    "a script": (
        bpmn(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
            '<bpmn:scriptTask id="x"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
            '<bpmn:sequenceFlow id="g" sourceRef="x" targetRef="e"/><bpmn:endEvent id="e"/>'
        ),
        "不支持的 BPMN 元素：scriptTask",
    ),
    "no end": (
        bpmn(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="a"/>'
            '<bpmn:userTask id="a" name="审批"/>'
        ),
        "没有结束事件",
    ),
    "an unreachable step": (
        bpmn(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="a"/>'
            '<bpmn:userTask id="a" name="审批"/><bpmn:userTask id="b" name="孤立"/>'
            '<bpmn:sequenceFlow id="g" sourceRef="a" targetRef="e"/>'
            '<bpmn:sequenceFlow id="h" sourceRef="b" targetRef="e"/><bpmn:endEvent id="e"/>'
        ),
        "“孤立”从开始事件无法到达",
    ),
    "a dead end": (
        bpmn(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
            '<bpmn:parallelGateway id="x"/><bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="a"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="x" targetRef="b"/>'
            '<bpmn:userTask id="a" name="审批"/><bpmn:userTask id="b" name="死路"/>'
            '<bpmn:sequenceFlow id="g" sourceRef="a" targetRef="e"/><bpmn:endEvent id="e"/>'
        ),
        "“死路”无法到达结束事件",
    ),
    "an unsafe condition": (
        bpmn(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="x"/>'
            '<bpmn:exclusiveGateway id="x" default="d"/>'
            '<bpmn:sequenceFlow id="c" sourceRef="x" targetRef="a"><bpmn:conditionExpression>'
            "__import__('os').system('id')</bpmn:conditionExpression></bpmn:sequenceFlow>"
            '<bpmn:sequenceFlow id="d" sourceRef="x" targetRef="a"/>'
            '<bpmn:userTask id="a" name="审批"/>'
            '<bpmn:sequenceFlow id="g" sourceRef="a" targetRef="e"/><bpmn:endEvent id="e"/>'
        ),
        "无法计算",
    ),
    "bad step settings": (
        bpmn(
            '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="a"/>'
            '<bpmn:userTask id="a" name="审批"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="mode" value="everyone"/></spiffworkflow:properties>'
            "</bpmn:extensionElements></bpmn:userTask>"
            '<bpmn:sequenceFlow id="g" sourceRef="a" targetRef="e"/><bpmn:endEvent id="e"/>'
        ),
        "“审批”的设置不正确",
    ),
    "an entity bomb": (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&b;'
        "</bpmn:definitions>",
        "",
    ),
}


async def test_bad_definitions_are_refused_and_nothing_is_stored(cast: Cast) -> None:
    admin = cast["admin"]
    before = await count(admin)
    for name, (xml, reason) in BAD.items():
        response = await create(admin, "bad_import", bpmn=xml)
        assert_problem(response, 422, "bpmn")
        reasons = " ".join(e["reason"] for e in response.json()["errors"])
        assert reason in reasons, (name, reasons)
    assert await count(admin) == before


async def test_bad_chains_are_refused(cast: Cast) -> None:
    admin = cast["admin"]
    two_defaults = {
        "type": "branch",
        "branches": [
            {"name": "甲", "default": True, "nodes": []},
            {"name": "乙", "default": True, "nodes": []},
        ],
    }
    response = await create(admin, "bad_chain", chain={"nodes": [two_defaults]})
    assert_problem(response, 422, "chain")
    empty = await create(admin, "bad_chain", chain={"nodes": []})
    assert_problem(empty, 422)
    unknown_kind = await create(
        admin,
        "bad_chain",
        chain={"nodes": [{"type": "approve", "name": "x", "assignee": {"kind": "astrologer"}}]},
    )
    assert_problem(unknown_kind, 422)
    both = await create(admin, "bad_chain", bpmn=GOOD, chain={"nodes": [step("x", 1)]})
    assert_problem(both, 422)
    duplicate = await create(admin, "student_leave", bpmn=GOOD)
    assert_problem(duplicate, 409, "key")


async def test_only_designers_may_design(cast: Cast) -> None:
    response = await create(cast["teacher"], "nope", bpmn=GOOD)
    assert_problem(response, 403)
