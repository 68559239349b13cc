"""Process definitions: BPMN 2.0 XML checked before it is stored, and parsed into the
SpiffWorkflow spec that instances share.

Only what an approval process needs is accepted (start and end events, user tasks, exclusive and
parallel gateways, sequence flows); every step must be reachable from the start and must reach an
end, so that no instance can get stuck in a design error.
"""

from __future__ import annotations

import copy
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from pydantic import TypeAdapter, ValidationError
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import UserTaskConverter
from SpiffWorkflow.spiff.specs.defaults import UserTask

from campus.kernel.errors import FieldError, InvalidInput
from campus.kernel.i18n import LazyText, _
from campus.platform.workflow.engine import expressions
from campus.platform.workflow.schemas import Assignee, StepInfo, StepSettings

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_B = f"{{{BPMN_NS}}}"

FLOW_NODES = {"startEvent", "endEvent", "userTask", "exclusiveGateway", "parallelGateway"}
IGNORED = {
    "sequenceFlow",
    "documentation",
    "extensionElements",
    "laneSet",
    "lane",
    "flowNodeRef",
    "textAnnotation",
    "association",
    "text",
    "conditionExpression",
    "incoming",
    "outgoing",
}
MAX_XML_BYTES = 1_000_000
_ASSIGNEE = TypeAdapter(Assignee)


class _StepConverter(UserTaskConverter):  # type: ignore[misc]
    """Keeps a user task's ``spiffworkflow:properties`` (the step's settings) in the serialised
    definition; SpiffWorkflow's own converter drops them."""

    def to_dict(self, spec: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(spec)
        dct["extensions"] = spec.extensions
        return dct

    def from_dict(self, dct: dict[str, Any]) -> Any:
        extensions = dct.pop("extensions", {})
        spec = super().from_dict(dct)
        spec.extensions = extensions
        return spec


SERIALIZER = BpmnWorkflowSerializer(
    BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, UserTask: _StepConverter})
)


@dataclass
class Definition:
    """A checked process: its id in the XML, its steps, and SpiffWorkflow's serialised spec."""

    process_id: str
    name: str
    steps: list[StepInfo]
    spec: dict[str, Any]


@dataclass
class _Graph:
    nodes: dict[str, str] = field(default_factory=dict)  # id -> tag
    names: dict[str, str] = field(default_factory=dict)
    outgoing: dict[str, list[str]] = field(default_factory=dict)
    incoming: dict[str, list[str]] = field(default_factory=dict)


def _bad(reason: LazyText | str) -> InvalidInput:
    return InvalidInput.on("bpmn", reason)


def check_bpmn(xml: str) -> Definition:
    """The definition in ``xml``, or ``InvalidInput`` on field ``bpmn`` with every problem found."""
    if len(xml.encode()) > MAX_XML_BYTES:
        raise _bad(_("BPMN 文件不能超过 1 MB"))
    root = _parse_xml(xml)
    processes = root.findall(f"{_B}process")
    if len(processes) != 1:
        raise _bad(_("BPMN 文件必须恰好包含一个流程（process）"))
    process = processes[0]
    process_id = process.get("id") or ""
    problems: list[LazyText | str] = []
    graph = _read_graph(process, problems)
    problems += _structure_problems(graph)
    steps = _read_steps(process, problems)
    if problems:
        raise InvalidInput(problems[0], errors=[FieldError("bpmn", p) for p in problems])
    spec = _spiff_spec(xml, process_id)
    return Definition(process_id, process.get("name") or process_id, steps, spec)


def _parse_xml(xml: str) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml.encode(), parser)
    except etree.XMLSyntaxError as exc:
        raise _bad(_("不是合法的 XML：{error}", error=str(exc))) from exc
    if root.tag != f"{_B}definitions":
        raise _bad(_("根元素必须是 BPMN 2.0 的 definitions"))
    return root


def _read_graph(process: Any, problems: list[LazyText | str]) -> _Graph:
    graph = _Graph()
    for element in process.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(_B):
            continue
        tag = element.tag[len(_B) :]
        if element is process or tag in IGNORED:
            continue
        if tag not in FLOW_NODES:
            problems.append(_("不支持的 BPMN 元素：{tag}", tag=tag))
            continue
        node_id = element.get("id") or ""
        graph.nodes[node_id] = tag
        graph.names[node_id] = element.get("name") or node_id
        graph.outgoing.setdefault(node_id, [])
        graph.incoming.setdefault(node_id, [])
    for flow in process.iter(f"{_B}sequenceFlow"):
        source, target = flow.get("sourceRef") or "", flow.get("targetRef") or ""
        if source not in graph.nodes or target not in graph.nodes:
            problems.append(_("连线 {id} 连接了不存在的节点", id=flow.get("id") or "?"))
            continue
        graph.outgoing[source].append(target)
        graph.incoming[target].append(source)
        condition = flow.find(f"{_B}conditionExpression")
        if condition is not None and (condition.text or "").strip():
            reason = expressions.check(condition.text.strip())
            if reason is not None:
                problems.append(
                    _("条件“{expr}”无法计算：{reason}", expr=condition.text.strip(), reason=reason)
                )
    return graph


def _structure_problems(graph: _Graph) -> list[LazyText | str]:
    starts = [n for n, tag in graph.nodes.items() if tag == "startEvent"]
    ends = [n for n, tag in graph.nodes.items() if tag == "endEvent"]
    if len(starts) != 1:
        return [_("流程必须恰好有一个开始事件")]
    if not ends:
        return [_("流程没有结束事件")]
    problems: list[LazyText | str] = []
    reachable = _walk(starts, graph.outgoing)
    for node in graph.nodes:
        if node not in reachable:
            problems.append(_("节点“{name}”从开始事件无法到达", name=graph.names[node]))
    finishing = _walk(ends, graph.incoming)
    for node in graph.nodes:
        if node in reachable and node not in finishing:
            problems.append(_("节点“{name}”无法到达结束事件", name=graph.names[node]))
    if not any(tag == "userTask" for tag in graph.nodes.values()):
        problems.append(_("流程至少需要一个审批节点"))
    return problems


def _walk(start: list[str], edges: dict[str, list[str]]) -> set[str]:
    seen, queue = set(start), deque(start)
    while queue:
        for nxt in edges.get(queue.popleft(), []):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def step_settings(properties: dict[str, str]) -> StepSettings:
    """A user task's ``spiffworkflow:properties`` as settings; raises ``ValueError``."""
    values: dict[str, Any] = dict(properties)
    for key in ("assignee", "escalate_to"):
        if key in values:
            try:
                values[key] = json.loads(values[key])
            except json.JSONDecodeError as exc:
                raise ValueError(f"{key} is not JSON") from exc
    return StepSettings.model_validate(values)


def _read_steps(process: Any, problems: list[LazyText | str]) -> list[StepInfo]:
    steps: list[StepInfo] = []
    for task in process.iter(f"{_B}userTask"):
        properties = {p.get("name"): p.get("value") for p in task.iter(f"{{{SPIFF_NS}}}property")}
        name = task.get("name") or task.get("id") or ""
        try:
            settings = step_settings(properties)
        except (ValueError, ValidationError):
            problems.append(_("审批节点“{name}”的设置不正确", name=name))
            continue
        steps.append(StepInfo(id=task.get("id") or "", name=name, kind=settings.kind))
    return steps


def _spiff_spec(xml: str, process_id: str) -> dict[str, Any]:
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(etree.fromstring(xml.encode()), filename=f"{process_id}.bpmn")
        spec = parser.get_spec(process_id)
    except Exception as exc:
        raise _bad(_("流程无法解析：{error}", error=str(exc))) from exc
    return {"spec": SERIALIZER.to_dict(spec), "subprocess_specs": {}}


def spec_from_dict(serialised: dict[str, Any]) -> BpmnProcessSpec:
    # Restoring mutates the dict it reads; the stored definition must stay as it was.
    spec: BpmnProcessSpec = SERIALIZER.from_dict(copy.deepcopy(serialised["spec"]))
    return spec


def check_assignee(raw: Any) -> Assignee:
    return _ASSIGNEE.validate_python(raw)
