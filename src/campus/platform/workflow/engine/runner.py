"""One instance's SpiffWorkflow, loaded from and saved to the database.

The stored state leaves out the process definition (kept once per version) so that an instance
costs a few kilobytes whatever the size of its process.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from campus.platform.workflow.engine.definitions import SERIALIZER, spec_from_dict, step_settings
from campus.platform.workflow.engine.expressions import SafeScriptEngine
from campus.platform.workflow.schemas import StepSettings

# SpiffWorkflow logs every task transition at INFO: twice the access log's lines, and nothing
# the timeline and the events do not already record.
logging.getLogger("spiff").setLevel(logging.WARNING)

_DEFINITION_KEYS = ("spec", "subprocess_specs")
_SPEC_TYPENAME = "CampusCachedSpec"
_SPEC_CACHE_SIZE = 256
_specs: OrderedDict[str, BpmnProcessSpec] = OrderedDict()


class _CachedSpec:
    """Marks a definition restored once and shared (a spec holds no state of an instance)."""


SERIALIZER.registry.register(
    _CachedSpec, lambda _: {}, lambda dct: _specs[dct["key"]], typename=_SPEC_TYPENAME
)


def _cached_spec_ref(definition: dict[str, Any]) -> dict[str, Any]:
    """A reference to ``definition``'s restored spec, restoring it on first use. Keyed by
    content: the same process version in two databases is the same definition."""
    key = hashlib.sha1(
        json.dumps(definition, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()
    if key in _specs:
        _specs.move_to_end(key)
    else:
        _specs[key] = spec_from_dict(definition)
        if len(_specs) > _SPEC_CACHE_SIZE:
            _specs.popitem(last=False)
    return {"typename": _SPEC_TYPENAME, "key": key}


@dataclass(frozen=True)
class ReadyStep:
    """A user task the engine waits on."""

    spiff_task_id: str
    step_id: str
    name: str
    settings: StepSettings


class Run:
    def __init__(self, workflow: BpmnWorkflow, engine: SafeScriptEngine) -> None:
        self.workflow = workflow
        self.engine = engine
        workflow.script_engine = engine
        self._ready: list[ReadyStep] | None = None

    @classmethod
    def new(cls, definition: dict[str, Any], form_data: dict[str, Any]) -> Run:
        engine = SafeScriptEngine(form_data)
        spec = _specs[_cached_spec_ref(definition)["key"]]
        run = cls(BpmnWorkflow(spec, script_engine=engine), engine)
        run.workflow.do_engine_steps()
        return run

    @classmethod
    def load(
        cls, definition: dict[str, Any], state: dict[str, Any], form_data: dict[str, Any]
    ) -> Run:
        restorable = copy.deepcopy(state)  # restoring consumes the dict it reads
        restorable.update(spec=_cached_spec_ref(definition), subprocess_specs={})
        workflow = SERIALIZER.from_dict(restorable)
        return cls(workflow, SafeScriptEngine(form_data))

    def dump(self) -> dict[str, Any]:
        state: dict[str, Any] = SERIALIZER.to_dict(self.workflow)
        for key in _DEFINITION_KEYS:
            state.pop(key, None)
        return state

    def ready_steps(self) -> list[ReadyStep]:
        """The user tasks the engine waits on (computed once per state of the run)."""
        if self._ready is None:
            self._ready = self._find_ready()
        return self._ready

    def _find_ready(self) -> list[ReadyStep]:
        return [
            ReadyStep(
                spiff_task_id=str(task.id),
                step_id=task.task_spec.name,
                name=task.task_spec.bpmn_name or task.task_spec.name,
                settings=step_settings(task.task_spec.extensions.get("properties", {})),
            )
            for task in self.workflow.get_tasks(state=TaskState.READY, manual=True)
        ]

    def complete(self, spiff_task_id: str, outcome: dict[str, Any]) -> None:
        """Finishes a ready step and runs the engine on to the next waiting point."""
        task = self.workflow.get_task_from_id(UUID(spiff_task_id))
        task.data.update(outcome)
        task.run()
        self.workflow.do_engine_steps()
        self._ready = None

    @property
    def finished(self) -> bool:
        return bool(self.workflow.is_completed())

    def completed_step_ids(self) -> set[str]:
        return {
            task.task_spec.name
            for task in self.workflow.get_tasks(state=TaskState.COMPLETED, manual=True)
        }

    def reset_to(self, step_id: str) -> bool:
        """Makes a step that has been completed the next to do again (send back); ``False``
        when it has not been completed in this run."""
        done = [
            task
            for task in self.workflow.get_tasks(state=TaskState.COMPLETED, manual=True)
            if task.task_spec.name == step_id
        ]
        if not done:
            return False
        self.workflow.reset_from_task_id(done[-1].id)
        self.workflow.do_engine_steps()
        self._ready = None
        return True

    def restart(self, form_data: dict[str, Any]) -> None:
        """Starts over from the start event, with conditions evaluated on ``form_data``."""
        self.engine.form_data = form_data
        start = self.workflow.get_tasks(spec_name=self._start_name())[0]
        self.workflow.reset_from_task_id(start.id)
        self.workflow.do_engine_steps()
        self._ready = None

    def _start_name(self) -> str:
        spec = self.workflow.spec
        return next(
            name for name, ts in spec.task_specs.items() if ts.__class__.__name__ == "StartEvent"
        )

    def cancel(self) -> None:
        self.workflow.cancel()
        self._ready = None
