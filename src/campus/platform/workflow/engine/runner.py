"""One instance's SpiffWorkflow, loaded from and saved to the database.

The stored state leaves out the process definition (kept once per version) so that an instance
costs a few kilobytes whatever the size of its process.
"""

from __future__ import annotations

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
# The last workflow each instance was saved from, with the state it was saved as: the next
# action on the instance takes it back instead of restoring the same state from the database.
_RUN_CACHE_SIZE = 1024
_kept: OrderedDict[int, tuple[dict[str, Any], BpmnWorkflow]] = OrderedDict()


class _CachedSpec:
    """Marks a definition restored once and shared (a spec holds no state of an instance)."""


SERIALIZER.registry.register(
    _CachedSpec, lambda _: {}, lambda dct: _specs[dct["key"]], typename=_SPEC_TYPENAME
)


Definition = dict[str, Any] | str  # the serialised definition, or its JSON text as stored


def _cached_spec_ref(definition: Definition) -> dict[str, Any]:
    """A reference to ``definition``'s restored spec, restoring it on first use. Keyed by
    content: the same process version in two databases is the same definition. Given as the
    stored JSON text (the hot paths read it so), it is neither parsed nor re-encoded when
    the spec is already restored."""
    text = definition if isinstance(definition, str) else json.dumps(definition, sort_keys=True)
    key = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
    if key in _specs:
        _specs.move_to_end(key)
    else:
        parsed = json.loads(definition) if isinstance(definition, str) else definition
        _specs[key] = spec_from_dict(parsed)
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
    def new(cls, definition: Definition, form_data: dict[str, Any]) -> Run:
        engine = SafeScriptEngine(form_data)
        spec = _specs[_cached_spec_ref(definition)["key"]]
        run = cls(BpmnWorkflow(spec, script_engine=engine), engine)
        run.workflow.do_engine_steps()
        return run

    @classmethod
    def load(cls, definition: Definition, state: dict[str, Any], form_data: dict[str, Any]) -> Run:
        # Restoring consumes the dict it reads; a JSON round trip copies it in a fifth of
        # deepcopy's time (the state is JSON by construction).
        restorable = json.loads(json.dumps(state))
        restorable.update(spec=_cached_spec_ref(definition), subprocess_specs={})
        workflow = SERIALIZER.from_dict(restorable)
        return cls(workflow, SafeScriptEngine(form_data))

    @classmethod
    def kept(cls, instance_id: int, state: dict[str, Any], form_data: dict[str, Any]) -> Run | None:
        """The workflow last kept for ``instance_id`` if it was kept as exactly ``state`` (the
        state as stored now: a save that rolled back, or another process's, does not match,
        and the random task ids in a state make two instances' states differ); taken, so
        that no two actions share it."""
        found = _kept.pop(instance_id, None)
        if found is None or found[0] != state:
            return None
        return cls(found[1], SafeScriptEngine(form_data))

    def keep(self, instance_id: int, state: dict[str, Any]) -> None:
        """Remembers this workflow as what ``state`` (just dumped from it) restores to."""
        _kept[instance_id] = (state, self.workflow)
        _kept.move_to_end(instance_id)
        if len(_kept) > _RUN_CACHE_SIZE:
            _kept.popitem(last=False)

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
