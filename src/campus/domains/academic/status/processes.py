"""The approval process of each kind of change (学籍异动): counselor, the college (dean or
academic secretary), then the registrar (教务处); a change of major also passes the receiving
college. The seed creates them; the registrar edits them in the workflow designer."""

from __future__ import annotations

from typing import Any

SOURCE = "academic.status"
KINDS = ("suspend", "resume", "transfer", "withdraw", "repeat", "graduate", "complete")
# The form field that names the receiving college's approvers of a change of major.
RECEIVING_FIELD = "receiving_approvers"

NAMES = {
    "suspend": "休学申请",
    "resume": "复学申请",
    "transfer": "转专业申请",
    "withdraw": "退学申请",
    "repeat": "留级申请",
    "graduate": "毕业审核",
    "complete": "结业审核",
}


def process_key(kind: str) -> str:
    return f"academic.status.{kind}"


def business_key(change_id: int) -> str:
    return f"status-change:{change_id}"


def change_id_of(key: str | None) -> int | None:
    if not key or not key.startswith("status-change:"):
        return None
    tail = key.removeprefix("status-change:")
    return int(tail) if tail.isdigit() else None


COUNSELOR: dict[str, Any] = {"kind": "position", "position": "counselor", "relative": True}
COLLEGE: dict[str, Any] = {
    "kind": "union",
    "of": [
        {"kind": "position", "position": "dean", "relative": True},
        {"kind": "role", "role": "academic_secretary"},
    ],
}
REGISTRAR: dict[str, Any] = {"kind": "role", "role": "registrar"}


def chain(kind: str) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"type": "approve", "name": "辅导员审核", "assignee": COUNSELOR, "mode": "any"},
        {"type": "approve", "name": "学院审核", "assignee": COLLEGE, "mode": "any"},
    ]
    if kind == "transfer":
        nodes.append(
            {
                "type": "approve",
                "name": "转入学院审核",
                "assignee": {"kind": "field", "field": RECEIVING_FIELD},
                "mode": "any",
            }
        )
    nodes.append({"type": "approve", "name": "教务处审批", "assignee": REGISTRAR, "mode": "any"})
    return {"nodes": nodes}


def description(kind: str) -> str:
    steps = "辅导员、学院（院长或教务秘书）"
    if kind == "transfer":
        steps += "、转入学院"
    return f"学籍异动（{NAMES[kind]}）：{steps}审核，教务处审批；通过后自动变更学籍"
