"""The engine's write path (``writes.py``) and its caches: a kept workflow is taken back only
for the very state it was saved as, an application runs the same when every step restores the
engine from its row, and a rollback forgets the rows an action had gathered."""

from __future__ import annotations

import json

import pytest

from campus.kernel.runtime import Runtime
from campus.platform.workflow import writes
from campus.platform.workflow.engine import runner
from campus.platform.workflow.engine.chain import chain_to_bpmn
from campus.platform.workflow.engine.definitions import check_bpmn
from campus.platform.workflow.schemas import Chain
from tests.platform.workflow.conftest import (
    Cast,
    act,
    actions_of,
    apply,
    instance,
    make_service,
    step,
)


def _two_steps() -> runner.Run:
    chain = Chain.model_validate(
        {
            "nodes": [
                {"type": "approve", "name": n, "assignee": {"kind": "person", "ids": [1]}}
                for n in ("一", "二")
            ]
        }
    )
    definition = check_bpmn(chain_to_bpmn("t_write_path", "写入", chain)).spec
    return runner.Run.new(definition, {})


def test_a_kept_workflow_is_taken_back_only_for_the_state_it_was_saved_as() -> None:
    run = _two_steps()
    state = run.dump()
    run.keep(-1, state)
    other = _two_steps().dump()  # the same process, other task ids: another instance's state
    assert runner.Run.kept(-1, other, {}) is None
    assert runner.Run.kept(-1, state, {}) is None  # a miss forgets it: restored from the row

    run.keep(-1, state)
    as_stored = json.loads(json.dumps(state))
    taken = runner.Run.kept(-1, as_stored, {"x": 1})
    assert taken is not None and taken.workflow is run.workflow
    assert taken.engine.form_data == {"x": 1}
    assert runner.Run.kept(-1, as_stored, {}) is None  # taken once: no two actions share it


@pytest.fixture
def nothing_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every action restores the engine from the stored state."""
    monkeypatch.setattr(runner.Run, "keep", lambda self, instance_id, state: None)


@pytest.mark.usefixtures("nothing_kept")
async def test_an_application_runs_the_same_restored_at_every_step(cast: Cast) -> None:
    key = await make_service(
        cast,
        [
            step("辅导员", cast.ids["counselor"]),
            step("会签", cast.ids["staff"], cast.ids["teacher"], mode="all"),
        ],
    )
    inst = await apply(cast, key)
    assert (await act(cast, "counselor", inst)).status_code == 200
    assert (await act(cast, "staff", inst)).status_code == 200
    assert (await instance(cast, inst["id"]))["current_steps"] == ["会签"]
    assert (await act(cast, "teacher", inst)).status_code == 200
    inst = await instance(cast, inst["id"])
    assert inst["status"] == "approved"
    assert actions_of(inst) == ["submit", "approve", "approve", "approve", "approved"]


async def test_a_rollback_forgets_the_rows_an_action_gathered(db: Runtime) -> None:
    async with db.db.transaction() as session:
        savepoint = await session.begin_nested()
        writes.timeline(session, -1, None, "comment")
        writes.audit(session, "workflow.test", "wf_instance", -1)
        await savepoint.rollback()
        gathered = writes.pending(session)
        assert not gathered.timeline and not gathered.audit
        await writes.flush(session)  # nothing to write: no row for the unknown instance -1
