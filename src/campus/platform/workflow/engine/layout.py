"""A diagram layout (BPMN DI) for process definitions that come without one.

The approval-chain compiler writes only the process, and many hand-written or generated BPMN
files do the same; a viewer shows nothing without shapes. This lays the process out left to
right: the path from the start event in one row, each split gateway's branches stacked
vertically between the split and the gateway where they meet again (its nearest
post-dominator), nested branches inside their branch. Graphs that are not block-structured
(loops, jumps across branches) still get one shape per node and one edge per flow, each node
placed the first time the walk reaches it. The result depends only on the XML's order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from campus.platform.workflow.engine.definitions import BPMN_NS

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
_B = f"{{{BPMN_NS}}}"
_BPMNDI = f"{{{BPMNDI_NS}}}"

SIZES = {
    "startEvent": (36, 36),
    "endEvent": (36, 36),
    "exclusiveGateway": (50, 50),
    "parallelGateway": (50, 50),
}
TASK_SIZE = (100, 80)
GAP = 50  # between items of a row
BRANCH_GAP = 30  # between stacked branches
EMPTY_LANE = 40  # the height a branch without steps takes (its flow runs through it)
MARGIN = 80
BACK_EDGE_GAP = 30
EXIT = "\0exit"  # the virtual node after every end event


@dataclass(frozen=True)
class _Flow:
    id: str
    source: str
    target: str


@dataclass
class _Graph:
    tags: dict[str, str] = field(default_factory=dict)  # node id -> BPMN tag, in XML order
    flows: list[_Flow] = field(default_factory=list)

    def outgoing(self, node: str) -> list[_Flow]:
        return [f for f in self.flows if f.source == node]

    def size(self, node: str) -> tuple[int, int]:
        return SIZES.get(self.tags[node], TASK_SIZE)


@dataclass
class _Node:
    id: str


@dataclass
class _Branch:
    flow: str
    items: list[_Item]


@dataclass
class _Split:
    id: str
    branches: list[_Branch]


_Item = _Node | _Split


@dataclass(frozen=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True)
class Layout:
    shapes: dict[str, Bounds]
    edges: dict[str, list[tuple[float, float]]]


def has_diagram(xml: str) -> bool:
    """Whether the XML already carries diagram shapes."""
    root = etree.fromstring(xml.encode(), _parser())
    return root.find(f".//{_BPMNDI}BPMNShape") is not None


def with_diagram(xml: str) -> str:
    """``xml`` with a BPMN diagram added when it has none; unchanged otherwise.

    Expects a checked definition (``definitions.check_bpmn``): one process, known elements.
    """
    root = etree.fromstring(xml.encode(), _parser())
    if root.find(f".//{_BPMNDI}BPMNShape") is not None:
        return xml
    for empty in root.findall(f"{_BPMNDI}BPMNDiagram"):
        root.remove(empty)
    process = root.find(f"{_B}process")
    if process is None:
        return xml
    graph = _read(process)
    root.append(_diagram_element(process.get("id") or "", graph, layout(graph)))
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out.decode()


def _parser() -> Any:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _read(process: Any) -> _Graph:
    graph = _Graph()
    for element in process:
        if not isinstance(element.tag, str) or not element.tag.startswith(_B):
            continue
        tag = element.tag[len(_B) :]
        if tag == "sequenceFlow":
            continue
        if tag in SIZES or tag == "userTask":
            graph.tags[element.get("id") or ""] = tag
    for flow in process.iter(f"{_B}sequenceFlow"):
        source, target = flow.get("sourceRef") or "", flow.get("targetRef") or ""
        if source in graph.tags and target in graph.tags:
            graph.flows.append(_Flow(flow.get("id") or "", source, target))
    return graph


# ---------------------------------------------------------------- structure


def _post_dominators(graph: _Graph) -> dict[str, set[str]]:
    """For each node, the nodes every path from it to an end passes through (itself included)."""
    nodes = list(graph.tags)
    successors = {n: [f.target for f in graph.outgoing(n)] or [EXIT] for n in nodes}
    everything = {*nodes, EXIT}
    pdom: dict[str, set[str]] = {n: set(everything) for n in nodes}
    pdom[EXIT] = {EXIT}
    changed = True
    while changed:
        changed = False
        for node in reversed(nodes):
            new = {node} | set.intersection(*(pdom[s] for s in successors[node]))
            if new != pdom[node]:
                pdom[node], changed = new, True
    return pdom


def _meeting_point(node: str, pdom: dict[str, set[str]]) -> str:
    """Where the branches leaving ``node`` meet again: its nearest post-dominator."""
    strict = pdom[node] - {node}
    return next(d for d in sorted(strict) if len(pdom[d]) == len(strict))


class _Walker:
    def __init__(self, graph: _Graph) -> None:
        self.graph = graph
        self.pdom = _post_dominators(graph)
        self.placed: set[str] = set()

    def sequence(self, node: str, stop: str) -> list[_Item]:
        """The items from ``node`` up to (not including) ``stop`` or an already placed node."""
        items: list[_Item] = []
        while node != stop and node != EXIT and node not in self.placed:
            self.placed.add(node)
            out = self.graph.outgoing(node)
            if len(out) > 1:
                meet = _meeting_point(node, self.pdom)
                branches = [_Branch(f.id, self.sequence(f.target, meet)) for f in out]
                items.append(_Split(node, branches))
                node = meet
            else:
                items.append(_Node(node))
                node = out[0].target if out else EXIT
        return items


# ---------------------------------------------------------------- geometry


class _Placer:
    def __init__(self, graph: _Graph) -> None:
        self.graph = graph
        self.shapes: dict[str, Bounds] = {}
        self.lanes: dict[str, float] = {}  # flow of a branch without steps -> its row's y

    def measure(self, items: list[_Item]) -> tuple[float, float]:
        width, height = 0.0, 0.0
        for index, item in enumerate(items):
            w, h = self._measure_item(item)
            width += w + (GAP if index else 0)
            height = max(height, h)
        return width, height

    def _measure_item(self, item: _Item) -> tuple[float, float]:
        w, h = self.graph.size(item.id)
        if isinstance(item, _Node):
            return w, h
        sizes = [self._branch_size(b) for b in item.branches]
        inner_width = max(s[0] for s in sizes)
        stack = sum(s[1] for s in sizes) + BRANCH_GAP * (len(sizes) - 1)
        return w + GAP + inner_width, max(h, stack)

    def _branch_size(self, branch: _Branch) -> tuple[float, float]:
        if not branch.items:
            return 0.0, EMPTY_LANE
        return self.measure(branch.items)

    def place(self, items: list[_Item], x: float, cy: float) -> None:
        for item in items:
            w, h = self.graph.size(item.id)
            self.shapes[item.id] = Bounds(x, cy - h / 2, w, h)
            if isinstance(item, _Split):
                self._place_branches(item, x + w + GAP, cy)
            x += self._measure_item(item)[0] + GAP

    def _place_branches(self, split: _Split, x: float, cy: float) -> None:
        sizes = [self._branch_size(b) for b in split.branches]
        top = cy - (sum(s[1] for s in sizes) + BRANCH_GAP * (len(sizes) - 1)) / 2
        for branch, (_, height) in zip(split.branches, sizes, strict=True):
            branch_cy = top + height / 2
            if branch.items:
                self.place(branch.items, x, branch_cy)
            else:
                self.lanes[branch.flow] = branch_cy
            top += height + BRANCH_GAP


def layout(graph: _Graph) -> Layout:
    """Shapes for every node and waypoints for every flow of ``graph``."""
    starts = [n for n, tag in graph.tags.items() if tag == "startEvent"]
    walker = _Walker(graph)
    rows = [walker.sequence(start, EXIT) for start in starts]
    # Nodes the walk from the start cannot reach (a checked definition has none) get a row too.
    for node in graph.tags:
        if node not in walker.placed:
            rows.append(walker.sequence(node, EXIT))
    placer = _Placer(graph)
    top = float(MARGIN)
    for row in rows:
        _, height = placer.measure(row)
        placer.place(row, float(MARGIN), top + height / 2)
        top += height + GAP
    return Layout(placer.shapes, _route(graph, placer.shapes, placer.lanes))


def _route(
    graph: _Graph, shapes: dict[str, Bounds], lanes: dict[str, float]
) -> dict[str, list[tuple[float, float]]]:
    bottom = max(b.bottom for b in shapes.values())
    edges: dict[str, list[tuple[float, float]]] = {}
    back_edges = 0
    for flow in graph.flows:
        s, t = shapes[flow.source], shapes[flow.target]
        if flow.id in lanes:
            edges[flow.id] = _through_lane(s, t, lanes[flow.id])
        elif t.x >= s.right:
            edges[flow.id] = _forward(
                s, t, _is_gateway(graph, flow.source), _is_gateway(graph, flow.target)
            )
        else:
            back_edges += 1
            below = bottom + BACK_EDGE_GAP * back_edges
            edges[flow.id] = [(s.cx, s.bottom), (s.cx, below), (t.cx, below), (t.cx, t.bottom)]
    return edges


def _is_gateway(graph: _Graph, node: str) -> bool:
    return graph.tags[node].endswith("Gateway")


def _through_lane(s: Bounds, t: Bounds, lane: float) -> list[tuple[float, float]]:
    if abs(lane - s.cy) < 1 and abs(lane - t.cy) < 1:
        return [(s.right, s.cy), (t.x, t.cy)]
    leave = s.y if lane < s.cy else s.bottom
    enter = t.y if lane < t.cy else t.bottom
    return [(s.cx, leave), (s.cx, lane), (t.cx, lane), (t.cx, enter)]


def _forward(
    s: Bounds, t: Bounds, from_gateway: bool, to_gateway: bool
) -> list[tuple[float, float]]:
    if abs(s.cy - t.cy) < 1:
        return [(s.right, s.cy), (t.x, t.cy)]
    if from_gateway:
        leave = s.y if t.cy < s.cy else s.bottom
        return [(s.cx, leave), (s.cx, t.cy), (t.x, t.cy)]
    if to_gateway:
        enter = t.y if s.cy < t.cy else t.bottom
        return [(s.right, s.cy), (t.cx, s.cy), (t.cx, enter)]
    middle = (s.right + t.x) / 2
    return [(s.right, s.cy), (middle, s.cy), (middle, t.cy), (t.x, t.cy)]


# ---------------------------------------------------------------- XML


def _diagram_element(process_id: str, graph: _Graph, result: Layout) -> Any:
    nsmap = {"bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}
    diagram = etree.Element(f"{_BPMNDI}BPMNDiagram", nsmap=nsmap, id="BPMNDiagram_1")
    plane = etree.SubElement(
        diagram, f"{_BPMNDI}BPMNPlane", id="BPMNPlane_1", bpmnElement=process_id
    )
    for node, bounds in result.shapes.items():
        shape = etree.SubElement(plane, f"{_BPMNDI}BPMNShape", id=f"{node}_di", bpmnElement=node)
        if _is_gateway(graph, node):
            shape.set("isMarkerVisible", "true")
        etree.SubElement(
            shape,
            f"{{{DC_NS}}}Bounds",
            x=_number(bounds.x),
            y=_number(bounds.y),
            width=_number(bounds.width),
            height=_number(bounds.height),
        )
    for flow in graph.flows:
        edge = etree.SubElement(
            plane, f"{_BPMNDI}BPMNEdge", id=f"{flow.id}_di", bpmnElement=flow.id
        )
        for x, y in result.edges[flow.id]:
            etree.SubElement(edge, f"{{{DI_NS}}}waypoint", x=_number(x), y=_number(y))
    return diagram


def _number(value: float) -> str:
    return str(round(value))
