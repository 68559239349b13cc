"""The to-do center and the approval page: the boxes, approving, rejecting (a reason is
required), sending back and resubmitting, transferring, adding signers, batch approval,
copies to read, other modules' to-dos, and the refusals shown on the page."""

from __future__ import annotations

import re

from campus.kernel.runtime import Runtime
from campus.platform.workflow import service as workflow
from campus.platform.workflow.schemas import TodoPush
from tests.platform.workflow.conftest import Cast, instance, make_service, open_task, step
from tests.platform.workflow.hall.conftest import (
    HTML,
    CastOf,
    apply_on_page,
    field_error,
    page,
    post,
    redirected_to,
)


def todo_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="task-item" data-task="(\d+)"', html)]


async def staff_task(cast: Cast, instance_id: int) -> int:
    return open_task(await instance(cast, instance_id, "staff"), cast.ids["staff"])


async def status_of(cast: Cast, instance_id: int) -> str:
    return str((await instance(cast, instance_id))["status"])


async def test_the_registrar_approves_from_the_todo_list(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff")
    instance_id = await apply_on_page(cast)
    task_id = await staff_task(cast, instance_id)
    todo = await page(cast["staff"], "/hall/tasks")
    assert task_id in todo_ids(todo)
    assert f'href="/hall/tasks/{task_id}"' in todo and 'data-testid="batch-approve"' in todo
    approval = await page(cast["staff"], f"/hall/tasks/{task_id}")
    for testid in ("decide-panel", "approve", "reject", "send-back-form", "transfer-form"):
        assert f'data-testid="{testid}"' in approval, testid
    assert 'data-testid="value-purpose">签证' in approval  # the application, read-only
    response = await post(cast["staff"], f"/hall/tasks/{task_id}/approve", {"comment": "同意开具"})
    redirected_to(response, "/hall/tasks")
    assert "已同意" in await page(cast["staff"], "/hall/tasks")
    assert await status_of(cast, instance_id) == "approved"
    html = await page(cast["student"], f"/hall/instances/{instance_id}")
    assert 'data-status="approved"' in html and "已通过" in html
    assert 'data-action="approve"' in html and "同意开具" in html
    # Done: the task moved to the "done" box and its page says so.
    assert task_id in todo_ids(await page(cast["staff"], "/hall/tasks?box=done"))
    handled = await page(cast["staff"], f"/hall/tasks/{task_id}")
    assert 'data-testid="task-handled"' in handled and "decide-panel" not in handled


async def test_a_rejection_needs_a_reason(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff")
    instance_id = await apply_on_page(cast)
    task_id = await staff_task(cast, instance_id)
    response = await post(cast["staff"], f"/hall/tasks/{task_id}/reject", {"comment": "  "})
    assert response.status_code == 422
    assert field_error(response.text, "comment") == "驳回时请填写意见，告诉申请人原因"
    assert await status_of(cast, instance_id) == "running"
    response = await post(cast["staff"], f"/hall/tasks/{task_id}/reject", {"comment": "学籍异常"})
    redirected_to(response, "/hall/tasks")
    assert await status_of(cast, instance_id) == "rejected"
    html = await page(cast["student"], f"/hall/instances/{instance_id}")
    assert "已驳回" in html and "学籍异常" in html


async def test_a_task_already_handled_is_refused_clearly(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff")
    instance_id = await apply_on_page(cast)
    task_id = await staff_task(cast, instance_id)
    redirected_to(await post(cast["staff"], f"/hall/tasks/{task_id}/approve"))
    again = await post(cast["staff"], f"/hall/tasks/{task_id}/approve")
    assert again.status_code == 409
    assert "已处理" in again.text and 'data-testid="alert"' in again.text


async def test_send_back_to_the_applicant_then_resubmit(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff")
    instance_id = await apply_on_page(cast)
    task_id = await staff_task(cast, instance_id)
    response = await post(
        cast["staff"], f"/hall/tasks/{task_id}/send-back", {"to_step": "", "comment": "份数写错了"}
    )
    redirected_to(response, "/hall/tasks")
    assert await status_of(cast, instance_id) == "returned"
    html = await page(cast["student"], f"/hall/instances/{instance_id}")
    assert 'data-testid="resubmit-form"' in html and "退回给申请人修改" in html
    fixed = {
        "data.name": "沈同学",
        "data.number": "2023001",
        "data.language": "英文",
        "data.purpose": "签证",
    }
    url = f"/hall/instances/{instance_id}/resubmit"
    wrong = await post(cast["student"], url, {**fixed, "data.copies": "99"})
    assert wrong.status_code == 422 and "data.copies" in wrong.text
    assert await status_of(cast, instance_id) == "returned"
    done = await post(cast["student"], url, {**fixed, "data.copies": "3", "comment": "已改"})
    redirected_to(done, f"/hall/instances/{instance_id}")
    got = await instance(cast, instance_id)
    assert got["status"] == "running" and got["data"]["copies"] == 3
    assert got["data"]["language"] == "英文"


async def test_send_back_to_an_earlier_step(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff", "counselor", "admin")
    key = await make_service(
        cast, [step("辅导员审批", cast.ids["counselor"]), step("教务处审核", cast.ids["staff"])]
    )
    instance_id = await apply_on_page(cast, key)
    first = open_task(await instance(cast, instance_id, "counselor"), cast.ids["counselor"])
    redirected_to(await post(cast["counselor"], f"/hall/tasks/{first}/approve"))
    task_id = await staff_task(cast, instance_id)
    html = await page(cast["staff"], f"/hall/tasks/{task_id}")
    earlier = re.search(r'<option value="([^"]+)">辅导员审批</option>', html)
    assert earlier, "the earlier, decided step is offered"
    response = await post(
        cast["staff"], f"/hall/tasks/{task_id}/send-back", {"to_step": earlier[1]}
    )
    redirected_to(response)
    got = await instance(cast, instance_id)
    assert got["status"] == "running" and got["current_steps"] == ["辅导员审批"]
    wrong = await post(cast["staff"], f"/hall/tasks/{task_id}/send-back", {"to_step": "x"})
    assert wrong.status_code == 409  # the task is no longer open


async def test_transfer_and_add_signers(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff", "teacher", "counselor")
    instance_id = await apply_on_page(cast)
    task_id = await staff_task(cast, instance_id)
    url = f"/hall/tasks/{task_id}"
    nobody = await post(cast["staff"], f"{url}/add-signers", {"comment": "请会签"})
    assert nobody.status_code == 422 and field_error(nobody.text, "person_ids")
    signers = {"person_ids": [str(cast.ids["teacher"])], "comment": "请一起看看"}
    redirected_to(await post(cast["staff"], f"{url}/add-signers", signers), url)
    got = await instance(cast, instance_id)
    assert cast.ids["teacher"] in {t["assignee_id"] for t in got["tasks"]}
    to_self = await post(cast["staff"], f"{url}/transfer", {"to_person_id": str(cast.ids["staff"])})
    assert to_self.status_code == 422 and field_error(to_self.text, "to_person_id")
    target = {"to_person_id": str(cast.ids["counselor"]), "comment": "请代为处理"}
    redirected_to(await post(cast["staff"], f"{url}/transfer", target), "/hall/tasks")
    html = await page(cast["counselor"], "/hall/tasks")
    new_task = open_task(await instance(cast, instance_id, "counselor"), cast.ids["counselor"])
    assert new_task in todo_ids(html)
    timeline = await page(cast["student"], f"/hall/instances/{instance_id}")
    assert 'data-action="transfer"' in timeline and 'data-action="add_signer"' in timeline


async def test_batch_approval(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff")
    first, second = await apply_on_page(cast), await apply_on_page(cast)
    tasks = [await staff_task(cast, first), await staff_task(cast, second)]
    response = await post(cast["staff"], "/hall/tasks/batch", {"task_ids": [str(t) for t in tasks]})
    redirected_to(response, "/hall/tasks")
    assert "已同意 2 项" in await page(cast["staff"], "/hall/tasks")
    assert [await status_of(cast, i) for i in (first, second)] == ["approved", "approved"]
    # One already decided in the batch is reported, the others are still done.
    third = await apply_on_page(cast)
    mixed = [str(await staff_task(cast, third)), str(tasks[0])]
    redirected_to(await post(cast["staff"], "/hall/tasks/batch", {"task_ids": mixed}))
    html = await page(cast["staff"], "/hall/tasks")
    assert "已同意 1 项，1 项未处理" in html
    assert await status_of(cast, third) == "approved"
    empty = await post(cast["staff"], "/hall/tasks/batch")
    redirected_to(empty, "/hall/tasks")


async def test_copies_to_read_and_other_modules_todos(cast_of: CastOf, db: Runtime) -> None:
    cast = await cast_of("student", "staff")
    staff, student = cast.ids["staff"], cast.ids["student"]
    async with db.db.transaction() as session:
        await workflow.ensure_process(
            session,
            key="t_hall_copy",
            name="抄送测试",
            chain={
                "nodes": [
                    {
                        "type": "cc",
                        "name": "抄送教务处",
                        "assignee": {"kind": "person", "ids": [staff]},
                    },
                    step("审批", staff),
                ]
            },
        )
        instance_id = await workflow.start_process(
            session,
            process_key="t_hall_copy",
            applicant_id=student,
            title="抄送测试申请",
            data={},
            source="test",
        )
        await workflow.push_todo(
            session,
            TodoPush(
                person_id=staff,
                source="oa",
                business_key="doc:hall-test",
                title="公文待签收",
                link="/oa/documents/1",
            ),
        )
    copies = await page(cast["staff"], "/hall/tasks?box=cc")
    copy_id = todo_ids(copies)[0]
    assert "抄送测试申请" in copies and 'data-status="unread"' in copies
    copy_page = await page(cast["staff"], f"/hall/tasks/{copy_id}")
    assert 'data-testid="cc-panel"' in copy_page and 'data-testid="mark-read"' in copy_page
    redirected_to(await post(cast["staff"], f"/hall/tasks/{copy_id}/read"), "/hall/tasks?box=cc")
    assert 'data-status="read"' in await page(cast["staff"], "/hall/tasks?box=cc")
    todo = await page(cast["staff"], "/hall/tasks")
    assert 'href="/oa/documents/1"' in todo and "公文待签收" in todo
    external = re.search(r'data-task="(\d+)" data-kind="external"', todo)
    assert external
    redirected_to(
        await cast["staff"].get(f"/hall/tasks/{external[1]}", headers=HTML), "/oa/documents/1"
    )
    assert instance_id


async def test_others_cannot_open_or_act_on_a_task(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff", "teacher")
    instance_id = await apply_on_page(cast)
    task_id = await staff_task(cast, instance_id)
    for role in ("student", "teacher"):
        await page(cast[role], f"/hall/tasks/{task_id}", 404)
        refused = await post(cast[role], f"/hall/tasks/{task_id}/approve")
        assert refused.status_code in (403, 404), role
    await page(cast["teacher"], f"/hall/instances/{instance_id}", 404)
    await page(cast["student"], "/hall/tasks/999999999", 404)
    await page(cast["student"], "/hall/tasks?box=everything", 422)
    assert await status_of(cast, instance_id) == "running"
