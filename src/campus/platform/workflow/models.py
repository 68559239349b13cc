"""Tables of the workflow engine and the service hall (prefix ``wf_``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.clock import now as utcnow
from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Process(Base):
    __tablename__ = "wf_process"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ProcessVersion(Base):
    """One immutable design of a process once published; ``spec`` is SpiffWorkflow's serialised
    definition, shared by every instance of the version instead of being copied into each."""

    __tablename__ = "wf_process_version"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("wf_process.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    chain: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Instance(Base):
    """A running or finished application. ``state`` is the engine's serialised workflow (without
    its definition); ``lock_version`` makes concurrent writers of one instance fail instead of
    overwriting each other."""

    __tablename__ = "wf_instance"
    __table_args__ = (
        Index("ix_wf_instance_applicant", "applicant_id", "started_at"),
        Index("ix_wf_instance_business", "source", "business_key"),
        Index("ix_wf_instance_status", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("wf_process_version.id"))
    process_key: Mapped[str] = mapped_column(String(60), index=True)
    form_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    service_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    applicant_id: Mapped[int] = mapped_column(BigId)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    current_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(40), default="workflow")
    business_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    activations: Mapped[int] = mapped_column(Integer, default=0)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012


class Task(Base):
    """One person's piece of work: a decision on a step (``approve``), a copy to read (``cc``),
    or an item another module pushed into the to-do center (``external``)."""

    __tablename__ = "wf_task"
    __table_args__ = (
        Index("ix_wf_task_assignee", "assignee_id", "status", "created_at"),
        Index("ix_wf_task_instance", "instance_id", "activation"),
        Index("ix_wf_task_due", "status", "due_at"),
        Index("ix_wf_task_business", "source", "business_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("wf_instance.id", ondelete="CASCADE"), nullable=True
    )
    activation: Mapped[int] = mapped_column(Integer, default=0)
    spiff_task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    step_id: Mapped[str] = mapped_column(String(80), default="")
    step_name: Mapped[str] = mapped_column(String(100), default="")
    assignee_id: Mapped[int] = mapped_column(BigId)
    delegated_from: Mapped[int | None] = mapped_column(BigId, nullable=True)
    added_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    status: Mapped[str] = mapped_column(String(12))
    # The step's decision rule, copied from its settings so that an answer that does not decide
    # the step is counted without loading the engine.
    mode: Mapped[str] = mapped_column(String(12), default="any")
    percent: Mapped[int] = mapped_column(Integer, default=50)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(40), default="workflow")
    business_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    overdue_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TimelineEntry(Base):
    __tablename__ = "wf_timeline"
    __table_args__ = (Index("ix_wf_timeline_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("wf_instance.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    action: Mapped[str] = mapped_column(String(20))
    step_id: Mapped[str] = mapped_column(String(80), default="")
    step_name: Mapped[str] = mapped_column(String(100), default="")
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Delegation(Base):
    """While away, a person's new tasks go to their delegate (委托)."""

    __tablename__ = "wf_delegation"
    __table_args__ = (Index("ix_wf_delegation_person", "person_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(BigId)
    delegate_id: Mapped[int] = mapped_column(BigId)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    process_key: Mapped[str | None] = mapped_column(String(60), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HallService(Base):
    """A service of the one-stop hall: a form with a process, or a link to another module's page."""

    __tablename__ = "wf_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(40))
    department_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audience: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(10))
    form_key: Mapped[str | None] = mapped_column(String(60), nullable=True)
    process_key: Mapped[str | None] = mapped_column(String(60), nullable=True)
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    summary: Mapped[str] = mapped_column(String(300), default="")
    guide: Mapped[str] = mapped_column(Text, default="")
    expected_days: Mapped[int] = mapped_column(Integer, default=3)
    icon: Mapped[str] = mapped_column(String(40), default="file-text")
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    apply_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Favourite(Base):
    __tablename__ = "wf_favourite"

    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("wf_service.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
