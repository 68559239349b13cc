"""The approval-chain designer's format compiled to BPMN 2.0 XML.

A chain is what most approvals need (steps one after another, branches on form data, copies);
compiling it to BPMN keeps one engine and lets the result be opened in any BPMN modeller.
"""

from __future__ import annotations

import json
from itertools import count
from typing import Any

from lxml import etree

from campus.platform.workflow.engine.definitions import BPMN_NS, SPIFF_NS
from campus.platform.workflow.schemas import ApproveNode, Branch, BranchNode, Chain, Condition

_B = f"{{{BPMN_NS}}}"
_S = f"{{{SPIFF_NS}}}"
OPERATORS = {"eq": "==", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def condition_expression(condition: Condition) -> str:
    """The condition as an expression the safe evaluator understands."""
    value = _literal(condition.value)
    if condition.op == "in":
        return f"{condition.field} in {value}"
    if condition.op == "contains":
        return f"{value} in ({condition.field} or [])"
    return f"{condition.field} {OPERATORS[condition.op]} {value}"


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    raise ValueError("condition values are numbers, text, true/false or lists of them")


class _Builder:
    def __init__(self, key: str, name: str) -> None:
        self.root = etree.Element(
            f"{_B}definitions",
            nsmap={"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS},
            id=f"definitions_{key}",
            targetNamespace="https://campus.example.edu.cn/bpmn",
        )
        self.process = etree.SubElement(
            self.root, f"{_B}process", id=_xml_id(key), name=name, isExecutable="true"
        )
        self._ids = count(1)

    def node(self, tag: str, prefix: str, **attrs: str) -> str:
        node_id = f"{prefix}_{next(self._ids)}"
        etree.SubElement(self.process, f"{_B}{tag}", id=node_id, **attrs)
        return node_id

    def flow(self, source: str, target: str, condition: str | None = None) -> str:
        flow_id = f"flow_{next(self._ids)}"
        flow = etree.SubElement(
            self.process, f"{_B}sequenceFlow", id=flow_id, sourceRef=source, targetRef=target
        )
        if condition is not None:
            expression = etree.SubElement(flow, f"{_B}conditionExpression")
            expression.text = condition
        return flow_id

    def step(self, node: ApproveNode) -> str:
        step_id = self.node("userTask", "step", name=node.name)
        task = self.process[-1]
        extensions = etree.SubElement(task, f"{_B}extensionElements")
        properties = etree.SubElement(extensions, f"{_S}properties")
        settings = node.model_dump(mode="json", exclude={"type", "name"}, exclude_none=True)
        settings["kind"] = node.type
        for key, value in settings.items():
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)
            etree.SubElement(properties, f"{_S}property", name=key, value=text)
        return step_id

    def sequence(
        self, source: str, nodes: list[ApproveNode | BranchNode], condition: str | None = None
    ) -> tuple[str, str]:
        """Appends ``nodes`` after ``source``, the first flow under ``condition``; returns that
        first flow's id and the last node's id."""
        last, first_flow = source, ""
        for node in nodes:
            if isinstance(node, BranchNode):
                target = self.node("exclusiveGateway", "split")
            else:
                target = self.step(node)
            flow_id = self.flow(last, target, condition)
            first_flow, condition = first_flow or flow_id, None
            last = self.branch(target, node.branches) if isinstance(node, BranchNode) else target
        return first_flow, last

    def branch(self, split: str, branches: list[Branch]) -> str:
        """Paths from the ``split`` gateway, one per branch, meeting again at a join gateway."""
        join = self.node("exclusiveGateway", "join")
        for branch in branches:
            condition = None if branch.default else _branch_condition(branch)
            if branch.nodes:
                flow_id, end = self.sequence(split, list(branch.nodes), condition)
                self.flow(end, join)
            else:
                flow_id = self.flow(split, join, condition)
            # The branch's name labels its way out of the split in the diagram.
            self.process.find(f"{_B}sequenceFlow[@id='{flow_id}']").set("name", branch.name)
            if branch.default:
                self.process.find(f"{_B}exclusiveGateway[@id='{split}']").set("default", flow_id)
        return join


def _branch_condition(branch: Branch) -> str:
    if branch.condition is None:
        raise ValueError(f"branch {branch.name} needs a condition or to be the default")
    return condition_expression(branch.condition)


def _xml_id(key: str) -> str:
    return "process_" + "".join(c if c.isalnum() or c == "_" else "_" for c in key)


def chain_to_bpmn(key: str, name: str, chain: Chain) -> str:
    """BPMN XML for ``chain``; raises ``ValueError`` for a branch set without a way out."""
    for node in _branch_nodes(chain.nodes):
        defaults = sum(1 for b in node.branches if b.default)
        if defaults != 1:
            raise ValueError("each branch set needs exactly one default branch")
    builder = _Builder(key, name)
    start = builder.node("startEvent", "start", name="发起")
    _, last = builder.sequence(start, list(chain.nodes))
    end = builder.node("endEvent", "end", name="结束")
    builder.flow(last, end)
    xml: bytes = etree.tostring(builder.root, xml_declaration=True, encoding="UTF-8")
    return xml.decode()


def _branch_nodes(nodes: list[ApproveNode | BranchNode]) -> list[BranchNode]:
    found: list[BranchNode] = []
    for node in nodes:
        if isinstance(node, BranchNode):
            found.append(node)
            for branch in node.branches:
                found += _branch_nodes(list(branch.nodes))
    return found
