"""The diagram layout added to processes saved without one (engine/layout.py)."""

from __future__ import annotations

import itertools
from typing import Any

from lxml import etree

from campus.platform.workflow.engine.chain import chain_to_bpmn
from campus.platform.workflow.engine.definitions import BPMN_NS, check_bpmn
from campus.platform.workflow.engine.layout import (
    BPMNDI_NS,
    DC_NS,
    DI_NS,
    has_diagram,
    with_diagram,
)
from campus.platform.workflow.schemas import Chain

B, BPMNDI, DC, DI = (f"{{{ns}}}" for ns in (BPMN_NS, BPMNDI_NS, DC_NS, DI_NS))
FLOW_NODES = ("startEvent", "endEvent", "userTask", "exclusiveGateway", "parallelGateway")


def _step(name: str) -> dict[str, Any]:
    return {"type": "approve", "name": name, "assignee": {"kind": "applicant"}}


def _branch(*cases: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    branches = [
        {"name": name, "condition": {"field": "days", "op": "gt", "value": i}, "nodes": nodes}
        for i, (name, nodes) in enumerate(cases)
    ]
    branches[-1] = {"name": cases[-1][0], "default": True, "nodes": cases[-1][1]}
    return {"type": "branch", "branches": branches}


NESTED = Chain.model_validate(
    {
        "nodes": [
            _step("辅导员审批"),
            _branch(
                (
                    "超过3天",
                    [_step("院长审批"), _branch(("超过7天", [_step("校长审批")]), ("其他", []))],
                ),
                ("超过1天", [_step("副院长审批")]),
                ("其他", []),
            ),
            {"type": "cc", "name": "抄送", "assignee": {"kind": "applicant"}},
        ]
    }
)

HAND_WRITTEN = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{BPMN_NS}" id="d" targetNamespace="x">
  <process id="loop" isExecutable="true">
    <startEvent id="start"/>
    <userTask id="fill" name="填写"/>
    <userTask id="check" name="审核"/>
    <exclusiveGateway id="ok" default="back"/>
    <endEvent id="end"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="fill"/>
    <sequenceFlow id="f2" sourceRef="fill" targetRef="check"/>
    <sequenceFlow id="f3" sourceRef="check" targetRef="ok"/>
    <sequenceFlow id="f4" sourceRef="ok" targetRef="end">
      <conditionExpression>passed == True</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="back" sourceRef="ok" targetRef="fill"/>
  </process>
</definitions>"""


def _parse(xml: str) -> Any:
    return etree.fromstring(xml.encode())


def _shapes(root: Any) -> dict[str, tuple[float, float, float, float]]:
    found = {}
    for shape in root.iter(f"{BPMNDI}BPMNShape"):
        bounds = shape.find(f"{DC}Bounds")
        found[shape.get("bpmnElement")] = tuple(
            float(bounds.get(k)) for k in ("x", "y", "width", "height")
        )
    return found


def _edges(root: Any) -> dict[str, list[tuple[float, float]]]:
    return {
        edge.get("bpmnElement"): [
            (float(p.get("x")), float(p.get("y"))) for p in edge.iter(f"{DI}waypoint")
        ]
        for edge in root.iter(f"{BPMNDI}BPMNEdge")
    }


def _touches(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    x, y = point
    left, top, width, height = box
    return left - 0.5 <= x <= left + width + 0.5 and top - 0.5 <= y <= top + height + 0.5


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _assert_complete(xml: str) -> None:
    root = _parse(xml)
    process = root.find(f"{B}process")
    nodes = [e.get("id") for e in process if etree.QName(e).localname in FLOW_NODES]
    flows = {f.get("id"): f for f in process.iter(f"{B}sequenceFlow")}
    shapes, edges = _shapes(root), _edges(root)
    assert set(shapes) == set(nodes), "every node gets exactly one shape"
    assert set(edges) == set(flows), "every flow gets exactly one edge"
    for flow_id, points in edges.items():
        assert len(points) >= 2
        flow = flows[flow_id]
        assert _touches(points[0], shapes[flow.get("sourceRef")]), f"{flow_id} leaves its source"
        assert _touches(points[-1], shapes[flow.get("targetRef")]), f"{flow_id} enters its target"
        for a, b in itertools.pairwise(points):
            assert a[0] == b[0] or a[1] == b[1], f"{flow_id} runs in straight segments"
    boxes = list(shapes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b), "no two shapes overlap"
    plane = root.find(f".//{BPMNDI}BPMNPlane")
    assert plane.get("bpmnElement") == process.get("id")


def test_a_nested_chain_gets_a_complete_left_to_right_diagram() -> None:
    xml = with_diagram(chain_to_bpmn("nested", "嵌套", NESTED))
    _assert_complete(xml)
    shapes = _shapes(_parse(xml))
    order = ["start_1", "step_2"]
    assert shapes[order[0]][0] < shapes[order[1]][0], "the flow runs left to right"
    ends = [k for k in shapes if k.startswith("end_")]
    assert all(shapes[k][0] == max(s[0] for s in shapes.values()) for k in ends)


def test_branches_are_stacked_between_split_and_join() -> None:
    chain = Chain.model_validate(
        {"nodes": [_branch(("甲", [_step("甲审批")]), ("乙", [_step("乙审批")]), ("其他", []))]}
    )
    xml = with_diagram(chain_to_bpmn("stack", "并列", chain))
    root = _parse(xml)
    shapes = _shapes(root)
    by_name = {t.get("name"): t.get("id") for t in root.iter(f"{B}userTask")}
    first, second = shapes[by_name["甲审批"]], shapes[by_name["乙审批"]]
    assert first[0] == second[0], "parallel branches start in the same column"
    assert first[1] + first[3] <= second[1], "and are stacked one above the other"
    split = next(g.get("id") for g in root.iter(f"{B}exclusiveGateway") if g.get("default"))
    join = next(g.get("id") for g in root.iter(f"{B}exclusiveGateway") if not g.get("default"))
    assert shapes[split][0] < first[0] and shapes[join][0] > first[0] + first[2]


def test_the_layout_is_deterministic() -> None:
    xml = chain_to_bpmn("same", "同一", NESTED)
    assert with_diagram(xml) == with_diagram(xml)


def test_a_loop_and_a_hand_written_file_get_shapes_and_edges_too() -> None:
    check_bpmn(HAND_WRITTEN)
    xml = with_diagram(HAND_WRITTEN)
    _assert_complete(xml)
    back = _edges(_parse(xml))["back"]
    assert len(back) == 4, "the way back is routed below the diagram"
    check_bpmn(xml)  # still a valid definition


def test_a_file_with_a_diagram_is_left_as_it_is() -> None:
    laid_out = with_diagram(HAND_WRITTEN)
    assert has_diagram(laid_out) and not has_diagram(HAND_WRITTEN)
    assert with_diagram(laid_out) == laid_out


async def test_a_saved_version_carries_a_diagram_and_an_imported_one_keeps_its_own(
    login_as: Any,
) -> None:
    admin = await login_as("admin")
    chain = {"nodes": [_step("一审"), _step("二审")]}
    created = await admin.post(
        "/api/v1/workflow/processes", json={"key": "t.layout", "name": "布局", "chain": chain}
    )
    assert created.status_code == 201, created.text
    exported = (await admin.get("/api/v1/workflow/processes/t.layout/versions/1/bpmn")).text
    assert has_diagram(exported)
    _assert_complete(exported)
    # Someone's modeller moved a shape: importing it back keeps their layout.
    moved = exported.replace('x="80"', 'x="20"', 1)
    imported = await admin.post(
        "/api/v1/workflow/processes/t.layout/versions", json={"bpmn": moved, "publish": False}
    )
    assert imported.status_code == 201, imported.text
    again = (await admin.get("/api/v1/workflow/processes/t.layout/versions/2/bpmn")).text
    assert again == moved
