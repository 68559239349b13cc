"""The process diagram macro (templates/workflow/designer/_diagram.html) other pages include."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from campus.kernel.templating import Templates
from campus.platform.workflow import manifest
from campus.platform.workflow.schemas import StepState

TEMPLATES = manifest.MODULE.directory / "templates"
LAYOUTS = Path(manifest.__file__).parents[2] / "web" / "layouts" / "templates"
PAGE = (
    '{% from "workflow/designer/_diagram.html" import diagram %}'
    '{{ diagram("/api/v1/workflow/instances/%d/diagram" % 7, steps) }}'
)


class _Diagram(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str | None] = {}
        self.scripts: list[str | None] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-campus-diagram" in found:
            self.attrs = found
        if tag == "script":
            self.scripts.append(found.get("src"))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _render(steps: object) -> _Diagram:
    html = Templates([LAYOUTS, TEMPLATES]).env.from_string(PAGE).render(steps=steps)
    parsed = _Diagram()
    parsed.feed(html)
    return parsed


def test_the_steps_reach_the_script_as_json_whatever_their_names() -> None:
    steps = [
        StepState(id="step_2", name='辅导员"审批"<b>', kind="approve", state="done"),
        StepState(id="step_7", name="院长审批", kind="approve", state="active"),
        {"id": "step_9", "state": "future"},
    ]
    diagram = _render(steps)
    assert diagram.attrs["data-xml-url"] == "/api/v1/workflow/instances/7/diagram"
    assert json.loads(diagram.attrs["data-steps"] or "") == [
        {"id": "step_2", "state": "done"},
        {"id": "step_7", "state": "active"},
        {"id": "step_9", "state": "future"},
    ]
    text = "".join(diagram.text)
    assert "已完成" in text and "进行中" in text and "未开始" in text, "the legend"
    assert '辅导员"审批"<b>：已完成' in text, "the steps are listed for screen readers"


def test_the_scripts_are_loaded_by_url_viewer_first() -> None:
    diagram = _render([])
    assert diagram.scripts == [
        "/static/vendor/bpmn-js/bpmn-viewer.production.min.js",
        "/workflow/designer/assets/diagram.js",
    ]
    assert json.loads(diagram.attrs["data-steps"] or "") == []
    assert "已完成" not in "".join(diagram.text), "no legend without steps"
