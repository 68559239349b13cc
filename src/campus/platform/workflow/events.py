"""Events of the workflow engine: every transition of an instance and of a task.

Payloads carry ids, keys and the application's title, never form data: the messaging center
and the data platform read anything more through ``service.py``. The title is there so that a
notice ("待审批：张三的请假申请") needs no second read per event.
"""

from __future__ import annotations

from pydantic import BaseModel

INSTANCE_STARTED = "workflow.instance.started"
INSTANCE_APPROVED = "workflow.instance.approved"
INSTANCE_REJECTED = "workflow.instance.rejected"
INSTANCE_WITHDRAWN = "workflow.instance.withdrawn"
INSTANCE_RETURNED = "workflow.instance.returned"
INSTANCE_RESUBMITTED = "workflow.instance.resubmitted"
INSTANCE_URGED = "workflow.instance.urged"
TASK_ASSIGNED = "workflow.task.assigned"
TASK_DECIDED = "workflow.task.decided"
TASK_TRANSFERRED = "workflow.task.transferred"
TASK_OVERDUE = "workflow.task.overdue"
TODO_PUSHED = "workflow.todo.pushed"

# The outcomes other modules react to (``payload.source`` tells whose instance it is).
OUTCOMES = (INSTANCE_APPROVED, INSTANCE_REJECTED, INSTANCE_WITHDRAWN)


class InstanceEvent(BaseModel):
    instance_id: int
    process_key: str
    source: str
    business_key: str | None
    applicant_id: int
    status: str
    step_id: str | None = None
    title: str = ""


class TaskEvent(BaseModel):
    instance_id: int | None
    process_key: str | None
    step_id: str
    step_name: str
    task_ids: list[int]
    assignee_ids: list[int]
    action: str | None = None
    title: str = ""


class TodoPushed(BaseModel):
    """A to-do another module put in someone's to-do center (``service.push_todo``)."""

    task_id: int
    person_id: int
    source: str
    title: str
