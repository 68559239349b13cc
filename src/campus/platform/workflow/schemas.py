"""Input and output models of the workflow engine and the service hall."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from campus.kernel.pagination import Page

PositionKind = Literal[
    "president", "party_secretary", "dean", "vice_dean", "head", "counselor", "head_teacher"
]
Mode = Literal["all", "any", "percent", "veto", "sequential"]
TimeoutAction = Literal["remind", "escalate", "approve", "reject"]
StepKind = Literal["approve", "cc"]
InstanceStatus = Literal["running", "returned", "approved", "rejected", "withdrawn"]
TaskStatus = Literal[
    "pending",
    "waiting",
    "approved",
    "rejected",
    "returned",
    "transferred",
    "cancelled",
    "unread",
    "read",
    "done",
]
Audience = Literal["all", "student", "staff"]
KEY_PATTERN = r"^[a-z][a-z0-9_.-]{1,59}$"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- assignees and steps


class PersonAssignee(_Input):
    kind: Literal["person"]
    ids: list[int] = Field(min_length=1, max_length=2000)


class RoleAssignee(_Input):
    kind: Literal["role"]
    role: str = Field(min_length=1, max_length=60)


class PositionAssignee(_Input):
    """The nearest holder of ``position`` up the applicant's org tree (``relative``), or of
    ``org_unit_id`` when given."""

    kind: Literal["position"]
    position: PositionKind
    relative: bool = True


class FieldAssignee(_Input):
    kind: Literal["field"]
    field: str = Field(min_length=1, max_length=60)


class OrgAssignee(_Input):
    kind: Literal["org"]
    org_unit_id: int
    position: PositionKind = "head"


class ApplicantAssignee(_Input):
    kind: Literal["applicant"]


class UnionAssignee(_Input):
    """Everyone named by any of several rules (a countersign across offices)."""

    kind: Literal["union"]
    of: list[Assignee] = Field(min_length=1, max_length=20)


Assignee = Annotated[
    PersonAssignee
    | RoleAssignee
    | PositionAssignee
    | FieldAssignee
    | OrgAssignee
    | ApplicantAssignee
    | UnionAssignee,
    Field(discriminator="kind"),
]
UnionAssignee.model_rebuild()


class StepSettings(_Input):
    """A step's settings, kept as ``spiffworkflow:properties`` on its user task."""

    kind: StepKind = "approve"
    assignee: Assignee = Field(default_factory=lambda: ApplicantAssignee(kind="applicant"))
    mode: Mode = "any"
    percent: int = Field(default=50, ge=1, le=100)
    timeout_hours: float | None = Field(default=None, gt=0, le=24 * 90)
    timeout_action: TimeoutAction = "remind"
    escalate_to: Assignee | None = None

    @model_validator(mode="after")
    def _escalation_has_target(self) -> StepSettings:
        if self.timeout_action == "escalate" and self.escalate_to is None:
            raise ValueError("escalate needs escalate_to")
        return self


class StepInfo(BaseModel):
    id: str
    name: str
    kind: StepKind


# ---------------------------------------------------------------- the approval chain designer


class Condition(_Input):
    field: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    op: Literal["eq", "ne", "gt", "ge", "lt", "le", "in", "contains"]
    value: Any = None


class ApproveNode(StepSettings):
    type: Literal["approve", "cc"]
    name: str = Field(min_length=1, max_length=60)


class Branch(_Input):
    name: str = Field(min_length=1, max_length=60)
    condition: Condition | None = None
    default: bool = False
    nodes: list[ChainNode] = Field(default_factory=list, max_length=50)


class BranchNode(_Input):
    type: Literal["branch"]
    branches: list[Branch] = Field(min_length=2, max_length=10)


ChainNode = Annotated[ApproveNode | BranchNode, Field(discriminator="type")]


class Chain(_Input):
    nodes: list[ChainNode] = Field(min_length=1, max_length=50)


Branch.model_rebuild()
Chain.model_rebuild()


# ---------------------------------------------------------------- processes


class ProcessCreate(_Input):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    chain: Chain | None = None
    bpmn: str | None = Field(default=None, max_length=1_000_000)

    @model_validator(mode="after")
    def _one_design(self) -> ProcessCreate:
        if (self.chain is None) == (self.bpmn is None):
            raise ValueError("give either chain or bpmn")
        return self


class ProcessDesign(_Input):
    """A new version's design: an approval chain or BPMN XML."""

    chain: Chain | None = None
    bpmn: str | None = Field(default=None, max_length=1_000_000)
    publish: bool = True

    @model_validator(mode="after")
    def _one_design(self) -> ProcessDesign:
        if (self.chain is None) == (self.bpmn is None):
            raise ValueError("give either chain or bpmn")
        return self


class ProcessVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    published: bool
    published_at: datetime | None
    created_at: datetime
    steps: list[StepInfo]
    chain: dict[str, Any] | None = None


class ProcessOut(BaseModel):
    id: int
    key: str
    name: str
    description: str
    versions: list[ProcessVersionOut]
    published_version: int | None


# ---------------------------------------------------------------- instances and tasks


class InstanceStart(_Input):
    title: str | None = Field(default=None, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict)


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    instance_id: int | None
    step_id: str
    step_name: str
    assignee_id: int
    assignee_name: str | None = None
    delegated_from: int | None
    status: str
    title: str
    source: str
    link: str | None
    comment: str | None
    created_at: datetime
    due_at: datetime | None
    acted_at: datetime | None
    applicant_name: str | None = None


class TaskPage(Page[TaskOut]):
    pass


class TimelineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None = None
    action: str
    step_id: str
    step_name: str
    comment: str | None
    attachments: list[str]
    detail: dict[str, Any]


class InstanceSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    process_key: str
    title: str
    status: InstanceStatus
    applicant_id: int
    applicant_name: str | None = None
    service_id: int | None
    current_steps: list[str]
    started_at: datetime
    ended_at: datetime | None
    source: str
    business_key: str | None


class InstancePage(Page[InstanceSummary]):
    pass


class StepState(BaseModel):
    """Where the instance stands on a step, for the diagram: ``done``, ``active`` or ``future``."""

    id: str
    name: str
    kind: StepKind
    state: Literal["done", "active", "future"]


class InstanceOut(InstanceSummary):
    data: dict[str, Any]
    form_version_id: int | None
    process_version_id: int
    tasks: list[TaskOut]
    timeline: list[TimelineOut]
    steps: list[StepState]
    can_withdraw: bool = False
    can_urge: bool = False
    can_resubmit: bool = False
    my_open_task_id: int | None = None


class TaskResult(BaseModel):
    """What a decision did to the application (GET the instance for the whole of it)."""

    model_config = ConfigDict(from_attributes=True)

    instance_id: int
    status: InstanceStatus
    current_steps: list[str]


class Decision(_Input):
    comment: str | None = Field(default=None, max_length=2000)
    attachments: list[str] = Field(default_factory=list, max_length=20)


class SendBack(Decision):
    """``to_step``: an earlier step's id, or ``None`` for the applicant."""

    to_step: str | None = Field(default=None, max_length=80)


class Transfer(Decision):
    to_person_id: int


class AddSigner(Decision):
    person_ids: list[int] = Field(min_length=1, max_length=50)


class Resubmit(_Input):
    data: dict[str, Any] | None = None
    comment: str | None = Field(default=None, max_length=2000)


class BatchDecision(Decision):
    task_ids: list[int] = Field(min_length=1, max_length=500)
    action: Literal["approve", "reject"]


class BatchResult(BaseModel):
    done: list[int]
    failed: dict[int, str]


class DelegationCreate(_Input):
    delegate_id: int
    starts_at: datetime
    ends_at: datetime
    process_key: str | None = Field(default=None, pattern=KEY_PATTERN)


class DelegationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    delegate_id: int
    delegate_name: str | None = None
    starts_at: datetime
    ends_at: datetime
    process_key: str | None


class TodoPush(_Input):
    """An item another module puts into someone's to-do center."""

    person_id: int
    source: str = Field(min_length=1, max_length=40)
    business_key: str = Field(min_length=1, max_length=120)
    title: str = Field(min_length=1, max_length=200)
    link: str = Field(min_length=1, max_length=300, pattern=r"^/")
    due_at: datetime | None = None


class TodoCounts(BaseModel):
    todo: int
    copied_unread: int
    mine_running: int


# ---------------------------------------------------------------- the service hall


class HallServiceIn(_Input):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=40)
    department_id: int | None = None
    audience: Audience = "all"
    kind: Literal["form", "link"] = "form"
    form_key: str | None = Field(default=None, max_length=60)
    process_key: str | None = Field(default=None, max_length=60)
    link: str | None = Field(default=None, max_length=300, pattern=r"^(/|https://)")
    summary: str = Field(default="", max_length=300)
    guide: str = Field(default="", max_length=20000)
    expected_days: int = Field(default=3, ge=0, le=365)
    icon: str = Field(default="file-text", pattern=r"^[a-z0-9-]{1,40}$")
    published: bool = True
    sort_order: int = Field(default=100, ge=0, le=10000)

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, from_attributes=True)


class HallServicePatch(_Input):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    category: str | None = Field(default=None, min_length=1, max_length=40)
    department_id: int | None = None
    audience: Audience | None = None
    kind: Literal["form", "link"] | None = None
    form_key: str | None = Field(default=None, max_length=60)
    process_key: str | None = Field(default=None, max_length=60)
    link: str | None = Field(default=None, max_length=300, pattern=r"^(/|https://)")
    summary: str | None = Field(default=None, max_length=300)
    guide: str | None = Field(default=None, max_length=20000)
    expected_days: int | None = Field(default=None, ge=0, le=365)
    icon: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,40}$")
    published: bool | None = None
    sort_order: int | None = Field(default=None, ge=0, le=10000)


class HallServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str
    category: str
    department_id: int | None
    department_name: str | None = None
    audience: Audience
    kind: Literal["form", "link"]
    form_key: str | None
    process_key: str | None
    link: str | None
    summary: str
    guide: str
    expected_days: int
    icon: str
    published: bool
    sort_order: int
    apply_count: int
    favourite: bool = False


class Applied(BaseModel):
    instance_id: int
    status: InstanceStatus


class ServiceVolume(BaseModel):
    service_id: int | None
    name: str
    applied: int
    finished: int
    approved: int
    rejected: int
    running: int
    avg_hours: float | None


class StepDuration(BaseModel):
    process_key: str
    step_name: str
    decided: int
    waiting: int
    avg_hours: float | None
    overdue: int


class DayVolume(BaseModel):
    day: str
    applied: int
    finished: int


class HallStats(BaseModel):
    days: int
    applied: int
    finished: int
    running: int
    overdue_tasks: int
    avg_hours: float | None
    services: list[ServiceVolume]
    steps: list[StepDuration]
    bottlenecks: list[StepDuration]
    per_day: list[DayVolume]
