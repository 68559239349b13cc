"""Every approval action over HTTP: approve, reject, countersign modes, sequential signing,
send back, transfer, add signers, withdraw, urge, resubmit, copy to, delegation, comments, and
the refusals of acting on what is not yours or no longer open."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campus.kernel import clock
from tests.platform.workflow.conftest import (
    Cast,
    act,
    actions_of,
    apply,
    assert_problem,
    instance,
    make_service,
    open_task,
    step,
)


async def test_a_two_step_chain_runs_to_approval(cast: Cast) -> None:
    key = await make_service(
        cast, [step("辅导员", cast.ids["counselor"]), step("教务处", cast.ids["staff"])]
    )
    inst = await apply(cast, key)
    assert inst["status"] == "running" and inst["current_steps"] == ["辅导员"]
    assert [s["state"] for s in inst["steps"]] == ["active", "future"]

    assert (await act(cast, "counselor", inst, comment="同意")).status_code == 200
    inst = await instance(cast, inst["id"])
    assert inst["current_steps"] == ["教务处"]
    assert [s["state"] for s in inst["steps"]] == ["done", "active"]

    assert (await act(cast, "staff", inst)).status_code == 200
    inst = await instance(cast, inst["id"])
    assert inst["status"] == "approved" and inst["ended_at"] is not None
    assert actions_of(inst) == ["submit", "approve", "approve", "approved"]
    assert inst["timeline"][1]["comment"] == "同意"
    assert inst["timeline"][1]["actor_name"]


async def test_a_rejection_ends_the_application(cast: Cast) -> None:
    key = await make_service(
        cast, [step("辅导员", cast.ids["counselor"]), step("教务处", cast.ids["staff"])]
    )
    inst = await apply(cast, key)
    no_reason = await act(cast, "counselor", inst, "reject", comment="  ")
    assert_problem(no_reason, 422, "comment")
    assert (await instance(cast, inst["id"]))["tasks"][0]["status"] == "pending"
    assert (await act(cast, "counselor", inst, "reject", comment="材料不全")).status_code == 200
    inst = await instance(cast, inst["id"])
    assert inst["status"] == "rejected"
    assert not [t for t in inst["tasks"] if t["status"] == "pending"]
    staff_todo = (await cast["staff"].get("/api/v1/workflow/tasks")).json()["items"]
    assert inst["id"] not in [t["instance_id"] for t in staff_todo]


async def test_countersign_all_needs_everyone(cast: Cast) -> None:
    people = [cast.ids["counselor"], cast.ids["staff"], cast.ids["teacher"]]
    key = await make_service(cast, [step("会签", *people, mode="all")])
    inst = await apply(cast, key)
    assert len([t for t in inst["tasks"] if t["status"] == "pending"]) == 3
    await act(cast, "counselor", inst)
    await act(cast, "staff", inst)
    assert (await instance(cast, inst["id"]))["status"] == "running"
    await act(cast, "teacher", inst)
    assert (await instance(cast, inst["id"]))["status"] == "approved"


async def test_countersign_all_is_rejected_by_one(cast: Cast) -> None:
    people = [cast.ids["counselor"], cast.ids["staff"], cast.ids["teacher"]]
    key = await make_service(cast, [step("会签", *people, mode="all")])
    inst = await apply(cast, key)
    await act(cast, "counselor", inst)
    await act(cast, "staff", inst, "reject", comment="不同意")
    inst = await instance(cast, inst["id"])
    assert inst["status"] == "rejected"
    teacher_task = next(t for t in inst["tasks"] if t["assignee_id"] == cast.ids["teacher"])
    assert teacher_task["status"] == "cancelled"


async def test_or_sign_takes_the_first_answer(cast: Cast) -> None:
    key = await make_service(
        cast, [step("或签", cast.ids["counselor"], cast.ids["staff"], mode="any")]
    )
    inst = await apply(cast, key)
    staff_task = open_task(inst, cast.ids["staff"])
    await act(cast, "counselor", inst)
    inst = await instance(cast, inst["id"])
    assert inst["status"] == "approved"
    late = await cast["staff"].post(f"/api/v1/workflow/tasks/{staff_task}/approve", json={})
    assert_problem(late, 409)


async def test_percentage_passes_at_the_threshold(cast: Cast) -> None:
    people = [cast.ids["counselor"], cast.ids["staff"], cast.ids["teacher"]]
    key = await make_service(cast, [step("比例", *people, mode="percent", percent=60)])
    inst = await apply(cast, key)
    await act(cast, "counselor", inst, "reject", comment="不同意")
    assert (await instance(cast, inst["id"]))["status"] == "running"
    await act(cast, "staff", inst)
    assert (await instance(cast, inst["id"]))["status"] == "running"  # 1 of 3 < 60 %
    await act(cast, "teacher", inst)
    assert (await instance(cast, inst["id"]))["status"] == "approved"  # 2 of 3 ≥ 60 %


async def test_percentage_fails_once_it_cannot_be_reached(cast: Cast) -> None:
    people = [cast.ids["counselor"], cast.ids["staff"], cast.ids["teacher"]]
    key = await make_service(cast, [step("比例", *people, mode="percent", percent=60)])
    inst = await apply(cast, key)
    await act(cast, "counselor", inst, "reject", comment="不同意")
    await act(cast, "staff", inst, "reject", comment="不同意")
    assert (await instance(cast, inst["id"]))["status"] == "rejected"


async def test_veto_one_rejection_ends_it(cast: Cast) -> None:
    people = [cast.ids["counselor"], cast.ids["staff"], cast.ids["teacher"]]
    key = await make_service(cast, [step("一票否决", *people, mode="veto", percent=50)])
    inst = await apply(cast, key)
    await act(cast, "counselor", inst)
    await act(cast, "staff", inst, "reject", comment="不同意")
    assert (await instance(cast, inst["id"]))["status"] == "rejected"


async def test_sequential_signing_goes_one_after_another(cast: Cast) -> None:
    key = await make_service(
        cast, [step("依次", cast.ids["counselor"], cast.ids["staff"], mode="sequential")]
    )
    inst = await apply(cast, key)
    by_person = {t["assignee_id"]: t for t in inst["tasks"]}
    assert by_person[cast.ids["counselor"]]["status"] == "pending"
    assert by_person[cast.ids["staff"]]["status"] == "waiting"
    early = await cast["staff"].post(
        f"/api/v1/workflow/tasks/{by_person[cast.ids['staff']]['id']}/approve", json={}
    )
    assert_problem(early, 409)
    await act(cast, "counselor", inst)
    inst = await instance(cast, inst["id"])
    assert inst["status"] == "running"
    await act(cast, "staff", inst)
    assert (await instance(cast, inst["id"]))["status"] == "approved"


async def test_branches_follow_the_form_data(cast: Cast) -> None:
    nodes = [
        {
            "type": "branch",
            "branches": [
                {
                    "name": "多份",
                    "condition": {"field": "copies", "op": "gt", "value": 3},
                    "nodes": [step("教务处", cast.ids["staff"])],
                },
                {"name": "其他", "default": True, "nodes": [step("辅导员", cast.ids["counselor"])]},
            ],
        },
    ]
    key = await make_service(cast, nodes)
    many = await apply(cast, key, copies=5)
    few = await apply(cast, key, copies=1)
    assert many["current_steps"] == ["教务处"]
    assert few["current_steps"] == ["辅导员"]


async def test_copy_to_reaches_people_and_the_flow_goes_on(cast: Cast) -> None:
    cc = {
        "type": "cc",
        "name": "抄送教务处",
        "assignee": {"kind": "person", "ids": [cast.ids["staff"]]},
    }
    key = await make_service(cast, [cc, step("辅导员", cast.ids["counselor"])])
    inst = await apply(cast, key)
    assert inst["current_steps"] == ["辅导员"]
    copies = (await cast["staff"].get("/api/v1/workflow/tasks", params={"box": "cc"})).json()
    mine = [t for t in copies["items"] if t["instance_id"] == inst["id"]]
    assert mine and mine[0]["status"] == "unread"
    counts = (await cast["staff"].get("/api/v1/workflow/tasks/counts")).json()
    assert counts["copied_unread"] >= 1
    read = await cast["staff"].post(f"/api/v1/workflow/tasks/{mine[0]['id']}/read")
    assert read.status_code == 204
    # a copy is read, not decided
    approve = await cast["staff"].post(f"/api/v1/workflow/tasks/{mine[0]['id']}/approve", json={})
    assert_problem(approve, 409)
    # and the person copied may read the application
    assert (await cast["staff"].get(f"/api/v1/workflow/instances/{inst['id']}")).status_code == 200


async def test_send_back_to_an_earlier_step(cast: Cast) -> None:
    key = await make_service(
        cast,
        [step("辅导员", cast.ids["counselor"]), step("教务处", cast.ids["staff"])],
    )
    inst = await apply(cast, key)
    await act(cast, "counselor", inst)
    first_step = (await instance(cast, inst["id"]))["steps"][0]["id"]
    back = await act(cast, "staff", inst, "send-back", to_step=first_step, comment="请复核")
    assert back.status_code == 200, back.text
    inst = await instance(cast, inst["id"])
    assert inst["status"] == "running" and inst["current_steps"] == ["辅导员"]
    await act(cast, "counselor", inst)
    await act(cast, "staff", inst)
    assert (await instance(cast, inst["id"]))["status"] == "approved"


async def test_send_back_only_to_a_step_already_done(cast: Cast) -> None:
    key = await make_service(
        cast, [step("辅导员", cast.ids["counselor"]), step("教务处", cast.ids["staff"])]
    )
    inst = await apply(cast, key)
    later_step = inst["steps"][1]["id"]
    response = await act(cast, "counselor", inst, "send-back", to_step=later_step)
    assert_problem(response, 422, "to_step")
    assert (await instance(cast, inst["id"]))["current_steps"] == ["辅导员"]


async def test_send_back_to_the_applicant_then_resubmit(cast: Cast) -> None:
    key = await make_service(
        cast, [step("辅导员", cast.ids["counselor"]), step("教务处", cast.ids["staff"])]
    )
    inst = await apply(cast, key)
    await act(cast, "counselor", inst)
    back = await act(cast, "staff", inst, "send-back", comment="份数有误")
    assert back.status_code == 200
    inst = await instance(cast, inst["id"])
    assert inst["status"] == "returned" and inst["can_resubmit"]
    bad = await cast["student"].post(
        f"/api/v1/workflow/instances/{inst['id']}/resubmit", json={"data": {"copies": 0}}
    )
    assert_problem(bad, 422)
    assert (await instance(cast, inst["id"]))["status"] == "returned"
    data = {**inst["data"], "copies": 1}
    again = await cast["student"].post(
        f"/api/v1/workflow/instances/{inst['id']}/resubmit", json={"data": data, "comment": "已改"}
    )
    assert again.status_code == 200, again.text
    inst = again.json()
    assert inst["status"] == "running" and inst["current_steps"] == ["辅导员"]
    assert inst["data"]["copies"] == 1
    await act(cast, "counselor", inst)
    await act(cast, "staff", inst)
    assert (await instance(cast, inst["id"]))["status"] == "approved"


async def test_transfer_hands_the_task_over(cast: Cast) -> None:
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    inst = await apply(cast, key)
    to_self = await act(cast, "counselor", inst, "transfer", to_person_id=cast.ids["counselor"])
    assert_problem(to_self, 422, "to_person_id")
    unknown = await act(cast, "counselor", inst, "transfer", to_person_id=999_999_999)
    assert_problem(unknown, 422, "to_person_id")
    moved = await act(cast, "counselor", inst, "transfer", to_person_id=cast.ids["staff"])
    assert moved.status_code == 200, moved.text
    await act(cast, "staff", inst)
    inst = await instance(cast, inst["id"])
    assert inst["status"] == "approved"
    assert "transfer" in actions_of(inst)


async def test_add_signers_joins_them_to_the_step(cast: Cast) -> None:
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"], mode="all")])
    inst = await apply(cast, key)
    added = await act(cast, "counselor", inst, "add-signers", person_ids=[cast.ids["staff"]])
    assert added.status_code == 200, added.text
    again = await act(cast, "counselor", inst, "add-signers", person_ids=[cast.ids["staff"]])
    assert_problem(again, 422, "person_ids")
    await act(cast, "counselor", inst)
    assert (await instance(cast, inst["id"]))["status"] == "running"
    await act(cast, "staff", inst)
    assert (await instance(cast, inst["id"]))["status"] == "approved"


async def test_add_signer_in_sequence_comes_right_after_me(cast: Cast) -> None:
    key = await make_service(
        cast, [step("依次", cast.ids["counselor"], cast.ids["staff"], mode="sequential")]
    )
    inst = await apply(cast, key)
    await act(cast, "counselor", inst, "add-signers", person_ids=[cast.ids["teacher"]])
    await act(cast, "counselor", inst)
    inst = await instance(cast, inst["id"])
    pending = [t["assignee_id"] for t in inst["tasks"] if t["status"] == "pending"]
    assert pending == [cast.ids["teacher"]]


async def test_withdraw_by_the_applicant_only(cast: Cast) -> None:
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    inst = await apply(cast, key)
    other = await cast["staff"].post(f"/api/v1/workflow/instances/{inst['id']}/withdraw")
    assert_problem(other, 404)
    done = await cast["student"].post(f"/api/v1/workflow/instances/{inst['id']}/withdraw")
    assert done.status_code == 200
    assert done.json()["status"] == "withdrawn"
    twice = await cast["student"].post(f"/api/v1/workflow/instances/{inst['id']}/withdraw")
    assert_problem(twice, 409)
    late = await act_on_cancelled(cast, inst)
    assert_problem(late, 409)


async def act_on_cancelled(cast: Cast, inst: dict) -> object:  # type: ignore[type-arg]
    task = next(t for t in (await instance(cast, inst["id"]))["tasks"])
    return await cast["counselor"].post(f"/api/v1/workflow/tasks/{task['id']}/approve", json={})


async def test_urge_once_an_hour(cast: Cast, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    inst = await apply(cast, key)
    first = await cast["student"].post(f"/api/v1/workflow/instances/{inst['id']}/urge")
    assert first.status_code == 200
    again = await cast["student"].post(f"/api/v1/workflow/instances/{inst['id']}/urge")
    assert_problem(again, 409)
    later = clock.now() + timedelta(hours=1, minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert (
        await cast["student"].post(f"/api/v1/workflow/instances/{inst['id']}/urge")
    ).status_code == 200
    assert actions_of(await instance(cast, inst["id"])).count("urge") == 2


async def test_not_your_task(cast: Cast) -> None:
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    inst = await apply(cast, key)
    task = open_task(inst, cast.ids["counselor"])
    response = await cast["staff"].post(f"/api/v1/workflow/tasks/{task}/approve", json={})
    assert_problem(response, 403)
    missing = await cast["staff"].post("/api/v1/workflow/tasks/999999999/approve", json={})
    assert_problem(missing, 404)
    assert (await instance(cast, inst["id"]))["tasks"][0]["status"] == "pending"


async def test_only_participants_see_an_application(cast: Cast) -> None:
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    inst = await apply(cast, key)
    assert (
        await cast["teacher"].get(f"/api/v1/workflow/instances/{inst['id']}")
    ).status_code == 404
    assert (
        await cast["counselor"].get(f"/api/v1/workflow/instances/{inst['id']}")
    ).status_code == 200
    # an overseer with workflow.instance.read_all over the whole campus
    assert (await cast["admin"].get(f"/api/v1/workflow/instances/{inst['id']}")).status_code == 200


async def test_comments_by_participants(cast: Cast) -> None:
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    inst = await apply(cast, key)
    empty = await cast["student"].post(f"/api/v1/workflow/instances/{inst['id']}/comments", json={})
    assert_problem(empty, 422, "comment")
    ok = await cast["counselor"].post(
        f"/api/v1/workflow/instances/{inst['id']}/comments", json={"comment": "请补充材料"}
    )
    assert ok.status_code == 200
    outsider = await cast["teacher"].post(
        f"/api/v1/workflow/instances/{inst['id']}/comments", json={"comment": "x"}
    )
    assert_problem(outsider, 404)


async def test_delegation_sends_new_tasks_to_the_delegate(cast: Cast) -> None:
    now = clock.now()
    body = {
        "delegate_id": cast.ids["staff"],
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
    }
    bad = await cast["counselor"].post(
        "/api/v1/workflow/delegations", json={**body, "ends_at": body["starts_at"]}
    )
    assert_problem(bad, 422, "ends_at")
    created = await cast["counselor"].post("/api/v1/workflow/delegations", json=body)
    assert created.status_code == 201, created.text
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    inst = await apply(cast, key)
    task = inst["tasks"][0]
    assert task["assignee_id"] == cast.ids["staff"]
    assert task["delegated_from"] == cast.ids["counselor"]
    # the person who delegated still sees the application
    assert (
        await cast["counselor"].get(f"/api/v1/workflow/instances/{inst['id']}")
    ).status_code == 200
    await act(cast, "staff", inst)
    assert (await instance(cast, inst["id"]))["status"] == "approved"


async def test_batch_approval(cast: Cast) -> None:
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    first = await apply(cast, key)
    second = await apply(cast, key)
    tasks = [open_task(first, cast.ids["counselor"]), open_task(second, cast.ids["counselor"])]
    response = await cast["counselor"].post(
        "/api/v1/workflow/tasks/batch",
        json={"task_ids": [*tasks, 999_999_999], "action": "approve"},
    )
    assert response.status_code == 200, response.text
    out = response.json()
    assert sorted(out["done"]) == sorted(tasks) and list(out["failed"]) == ["999999999"]
    for inst in (first, second):
        assert (await instance(cast, inst["id"]))["status"] == "approved"


async def test_batch_decides_many_steps_at_once_each_as_alone(cast: Cast) -> None:
    """One call holding tasks at different points: a countersign answer that does not settle
    its step, one that does, a single approver's step, a task of someone else's and one already
    done. Each ends as its own approval would, with its own timeline entry."""
    ids = cast.ids
    countersign = await make_service(
        cast,
        [step("会签", ids["counselor"], ids["staff"], mode="all"), step("终审", ids["teacher"])],
    )
    single = await make_service(cast, [step("辅导员", ids["counselor"])])
    waiting, settled, alone = (
        await apply(cast, countersign),
        await apply(cast, countersign),
        await apply(cast, single),
    )
    assert (await act(cast, "staff", settled)).status_code == 200
    done_before = await apply(cast, single)
    assert (await act(cast, "counselor", done_before)).status_code == 200
    others = open_task(waiting, ids["staff"])
    mine = [open_task(i, ids["counselor"]) for i in (waiting, settled, alone)]
    stale = next(t["id"] for t in done_before["tasks"] if t["assignee_id"] == ids["counselor"])

    response = await cast["counselor"].post(
        "/api/v1/workflow/tasks/batch",
        json={"task_ids": [*mine, others, stale, mine[0]], "action": "approve", "comment": "好"},
    )

    assert response.status_code == 200, response.text
    out = response.json()
    assert out["done"] == mine
    assert out["failed"] == {
        str(others): "这不是你的待办，不能处理",
        str(stale): "该待办已处理或已失效，请刷新",
    }
    waiting, settled, alone = [await instance(cast, i["id"]) for i in (waiting, settled, alone)]
    assert waiting["current_steps"] == ["会签"] and open_task(waiting, ids["staff"])
    assert settled["current_steps"] == ["终审"] and open_task(settled, ids["teacher"])
    assert alone["status"] == "approved"
    assert actions_of(waiting) == ["submit", "approve"]
    assert actions_of(settled) == ["submit", "approve", "approve"]
    assert actions_of(alone) == ["submit", "approve", "approved"]
    comments = [e["comment"] for e in settled["timeline"] if e["action"] == "approve"]
    assert comments == [None, "好"]


async def test_batch_rejection_ends_each_application(cast: Cast) -> None:
    ids = cast.ids
    key = await make_service(
        cast,
        [step("会签", ids["counselor"], ids["staff"], mode="all"), step("终审", ids["teacher"])],
    )
    first, second = await apply(cast, key), await apply(cast, key)
    tasks = [open_task(i, ids["counselor"]) for i in (first, second)]
    without_reason = await cast["counselor"].post(
        "/api/v1/workflow/tasks/batch", json={"task_ids": tasks, "action": "reject"}
    )
    assert_problem(without_reason, 422, "comment")
    response = await cast["counselor"].post(
        "/api/v1/workflow/tasks/batch",
        json={"task_ids": tasks, "action": "reject", "comment": "材料不全"},
    )
    assert response.status_code == 200 and sorted(response.json()["done"]) == sorted(tasks)
    for inst in (first, second):
        inst = await instance(cast, inst["id"])
        assert inst["status"] == "rejected"
        assert all(t["status"] != "pending" for t in inst["tasks"])


async def test_batch_with_attachments_is_refused_whole(cast: Cast) -> None:
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    inst = await apply(cast, key)
    task = open_task(inst, cast.ids["counselor"])
    response = await cast["counselor"].post(
        "/api/v1/workflow/tasks/batch",
        json={"task_ids": [task], "action": "approve", "attachments": ["f" * 32]},
    )
    assert_problem(response, 422, "attachments")
    assert (await instance(cast, inst["id"]))["status"] == "running"


async def test_batch_hands_back_a_task_whose_next_step_finds_nobody(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campus.platform.workflow import assignment

    async def no_admins(*_args: object) -> list[int]:
        return []

    monkeypatch.setattr(assignment, "fallback", no_admins)
    ids = cast.ids
    nobody = {"type": "approve", "name": "无人", "assignee": {"kind": "field", "field": "nobody"}}
    stuck_key = await make_service(cast, [step("辅导员", ids["counselor"]), nobody])
    moving_key = await make_service(
        cast, [step("辅导员", ids["counselor"]), step("终审", ids["staff"])]
    )
    stuck, moving = await apply(cast, stuck_key), await apply(cast, moving_key)
    tasks = [open_task(i, ids["counselor"]) for i in (stuck, moving)]

    response = await cast["counselor"].post(
        "/api/v1/workflow/tasks/batch", json={"task_ids": tasks, "action": "approve"}
    )

    assert response.status_code == 200, response.text
    out = response.json()
    assert out["done"] == [tasks[1]] and "找不到审批人" in out["failed"][str(tasks[0])]
    stuck, moving = await instance(cast, stuck["id"]), await instance(cast, moving["id"])
    assert open_task(stuck, ids["counselor"]) == tasks[0]
    assert actions_of(stuck) == ["submit"] and stuck["current_steps"] == ["辅导员"]
    assert moving["current_steps"] == ["终审"]


async def test_nobody_to_approve_goes_to_the_workflow_admins(cast: Cast) -> None:
    key = await make_service(
        cast,
        [{"type": "approve", "name": "无人", "assignee": {"kind": "field", "field": "nobody"}}],
    )
    inst = await apply(cast, key)
    assert inst["tasks"][0]["assignee_id"] == cast.ids["admin"]


async def test_every_transition_is_an_event_in_the_outbox(cast: Cast, db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from campus.kernel.events import OutboxRow

    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    inst = await apply(cast, key)
    await act(cast, "counselor", inst)
    async with db.db.read() as session:
        rows = (
            await session.scalars(select(OutboxRow).where(OutboxRow.name.like("workflow.%")))
        ).all()
        mine = [r.name for r in rows if r.payload.get("instance_id") == inst["id"]]
    assert mine == [
        "workflow.instance.started",
        "workflow.task.assigned",
        "workflow.task.decided",
        "workflow.instance.approved",
    ]
