"""The demo university's service hall: eight ready services, each a form and an approval chain
that fit how a Chinese university handles it, and a month of applications so that lists and
statistics have something to show."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.workflow import actions, hall
from campus.platform.workflow.forms import actions as form_actions
from campus.platform.workflow.forms.fields import FieldDef
from campus.platform.workflow.models import Instance, Task, TimelineEntry
from campus.platform.workflow.schemas import Chain, Decision, HallServiceIn
from campus.platform.workflow.service import ensure_process

COUNSELOR = {"kind": "position", "position": "counselor"}
DEAN = {"kind": "position", "position": "dean"}
HEAD = {"kind": "position", "position": "head"}


def office(code: str) -> dict[str, Any]:
    """The head of a university office, by its org code (see users' demo data)."""
    return {"kind": "office", "code": code}


@dataclass(frozen=True)
class DemoService:
    key: str
    name: str
    category: str
    department: str  # org code of the office that handles it
    audience: str
    summary: str
    guide: str
    expected_days: int
    icon: str
    fields: list[dict[str, Any]]
    chain: list[dict[str, Any]]


def _f(key: str, label: str, widget: str = "text", **settings: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "widget": widget, **settings}


def _options(*values: str) -> list[dict[str, str]]:
    return [{"value": v, "label": v} for v in values]


def _step(name: str, assignee: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {"type": "approve", "name": name, "assignee": assignee, **settings}


PHONE = _f("phone", "联系电话", required=True, prefill="person.phone", pattern=r"^1[3-9]\d{9}$")

SERVICES: tuple[DemoService, ...] = (
    DemoService(
        "student_leave",
        "学生请假",
        "学生事务",
        "804",
        "student",
        "因病、因事离校或缺课请假，超过 3 天需学院审批",
        "1. 填写请假类型、起止日期和事由；病假请上传医院证明。\n"
        "2. 辅导员审批；超过 3 天由学院院长审批。\n"
        "3. 假期结束返校后请及时销假。",
        1,
        "calendar-off",
        [
            _f("name", "姓名", required=True, prefill="person.name"),
            _f("number", "学号", required=True, prefill="person.number"),
            _f("college", "学院", prefill="person.college"),
            _f(
                "kind",
                "请假类型",
                "select",
                required=True,
                options=_options("病假", "事假", "其他"),
            ),
            _f("period", "请假日期", "daterange", required=True),
            _f("days", "请假天数", "computed", formula="days(period)"),
            _f("leave_campus", "是否离校", "select", required=True, options=_options("是", "否")),
            _f(
                "destination",
                "去向",
                required=True,
                visible_if={"field": "leave_campus", "op": "eq", "value": "是"},
            ),
            _f("reason", "请假事由", "textarea", required=True, min=5, max=500),
            PHONE,
            _f(
                "proof",
                "证明材料",
                "attachments",
                visible_if={"field": "kind", "op": "eq", "value": "病假"},
            ),
        ],
        [
            _step("辅导员审批", COUNSELOR, mode="any", timeout_hours=24, timeout_action="remind"),
            {
                "type": "branch",
                "branches": [
                    {
                        "name": "超过 3 天",
                        "condition": {"field": "days", "op": "gt", "value": 3},
                        "nodes": [_step("学院院长审批", DEAN, timeout_hours=48)],
                    },
                    {"name": "3 天以内", "default": True, "nodes": []},
                ],
            },
        ],
    ),
    DemoService(
        "seal_use",
        "用印申请",
        "行政办公",
        "802",
        "staff",
        "使用学校公章、党委印章、校长名章或合同专用章",
        "1. 上传需要用印的文件。\n2. 部门负责人审核后，校长办公室审批。\n"
        "3. 审批通过后持文件到校长办公室用印。",
        2,
        "stamp",
        [
            _f("name", "经办人", required=True, prefill="person.name"),
            _f("department", "所在单位", "org", required=True, prefill="person.org_unit"),
            _f(
                "seal",
                "印章类型",
                "select",
                required=True,
                options=_options("学校公章", "党委印章", "校长名章", "合同专用章"),
            ),
            _f("document", "文件名称", required=True, max=100),
            _f("copies", "用印份数", "number", required=True, min=1, max=200, step=1),
            _f("purpose", "用途说明", "textarea", required=True, max=500),
            _f("files", "用印文件", "attachments", required=True, min=1),
        ],
        [
            _step("部门负责人审核", HEAD),
            _step("校长办公室审批", office("802"), timeout_hours=48),
        ],
    ),
    DemoService(
        "official_car",
        "公务用车",
        "后勤服务",
        "810",
        "staff",
        "因公外出预约学校公务用车",
        "请至少提前一个工作日申请；跨市用车需部门负责人审批后报后勤保障处派车。",
        1,
        "car",
        [
            _f("name", "申请人", required=True, prefill="person.name"),
            PHONE,
            _f("depart_at", "出发时间", "datetime", required=True),
            _f("return_at", "返回时间", "datetime", required=True),
            _f("origin", "出发地", required=True),
            _f("destination", "目的地", required=True),
            _f("passengers", "乘车人数", "number", required=True, min=1, max=45, step=1),
            _f("reason", "用车事由", "textarea", required=True, max=300),
        ],
        [
            _step("部门负责人审批", HEAD),
            _step("后勤保障处派车", office("810"), timeout_hours=12),
        ],
    ),
    DemoService(
        "venue_booking",
        "场地借用",
        "后勤服务",
        "810",
        "student",
        "学生组织借用教室、报告厅、体育场馆举办活动",
        "1. 活动需经辅导员同意。\n2. 后勤保障处确认场地空闲后批准。\n3. 活动结束后恢复场地原状。",
        2,
        "building",
        [
            _f("organizer", "主办单位", "org", required=True, prefill="person.college"),
            _f(
                "venue",
                "场地",
                "select",
                required=True,
                options=_options("学术报告厅", "大学生活动中心", "体育馆", "田径场", "多媒体教室"),
            ),
            _f("date", "活动日期", "date", required=True),
            _f("start", "开始时间", "time", required=True),
            _f("end", "结束时间", "time", required=True),
            _f("attendees", "参加人数", "number", required=True, min=1, max=5000, step=1),
            _f("activity", "活动内容", "textarea", required=True, max=500),
            PHONE,
        ],
        [
            _step("辅导员审批", COUNSELOR),
            _step("后勤保障处审批", office("810")),
        ],
    ),
    DemoService(
        "enrolment_certificate",
        "在读证明",
        "教务服务",
        "803",
        "student",
        "开具中文或英文在读证明（出国、签证、实习等）",
        "教务处审核通过后，可到教务处服务窗口领取盖章的纸质证明。",
        1,
        "certificate",
        [
            _f("name", "姓名", required=True, prefill="person.name"),
            _f("number", "学号", required=True, prefill="person.number"),
            _f("language", "语言", "select", required=True, options=_options("中文", "英文")),
            _f(
                "purpose",
                "用途",
                "select",
                required=True,
                options=_options("出国（境）", "签证", "实习", "其他"),
            ),
            _f(
                "other_purpose",
                "其他用途",
                required=True,
                visible_if={"field": "purpose", "op": "eq", "value": "其他"},
            ),
            _f("copies", "份数", "number", required=True, min=1, max=10, step=1),
        ],
        [_step("教务处审核", {"kind": "role", "role": "registrar"}, timeout_hours=24)],
    ),
    DemoService(
        "travel_reimbursement",
        "差旅报销",
        "财务服务",
        "808",
        "staff",
        "因公出差的交通、住宿、伙食补助报销",
        "1. 按明细填写各项费用并上传发票。\n"
        "2. 部门负责人审核；合计超过 5000 元还需分管校领导审批。\n"
        "3. 财务处复核后打款到本人工资卡。",
        5,
        "receipt",
        [
            _f("name", "报销人", required=True, prefill="person.name"),
            _f("trip", "出差日期", "daterange", required=True),
            _f("destination", "出差地点", required=True),
            _f(
                "items",
                "费用明细",
                "table",
                required=True,
                min=1,
                columns=[
                    {"key": "date", "label": "日期", "widget": "date", "required": True},
                    {
                        "key": "category",
                        "label": "类别",
                        "widget": "select",
                        "required": True,
                        "options": _options("交通费", "住宿费", "伙食补助", "其他"),
                    },
                    {
                        "key": "amount",
                        "label": "金额（元）",
                        "widget": "money",
                        "required": True,
                        "min": 0.01,
                        "sum": True,
                    },
                ],
            ),
            _f("total", "合计（元）", "computed", formula="sum(items.amount)"),
            _f("invoices", "发票", "attachments", required=True, min=1),
        ],
        [
            _step("部门负责人审核", HEAD),
            {
                "type": "branch",
                "branches": [
                    {
                        "name": "超过 5000 元",
                        "condition": {"field": "total", "op": "gt", "value": 5000},
                        "nodes": [
                            _step("分管校领导审批", {"kind": "role", "role": "school_leader"})
                        ],
                    },
                    {"name": "5000 元以内", "default": True, "nodes": []},
                ],
            },
            _step("财务处复核", {"kind": "role", "role": "finance"}, timeout_hours=72),
        ],
    ),
    DemoService(
        "student_card",
        "学生证补办",
        "学生事务",
        "804",
        "student",
        "学生证遗失或损坏后补办",
        "审批通过后约 5 个工作日到学生工作处领取新证，原证作废。",
        5,
        "id",
        [
            _f("name", "姓名", required=True, prefill="person.name"),
            _f("number", "学号", required=True, prefill="person.number"),
            _f("reason", "补办原因", "select", required=True, options=_options("遗失", "损坏")),
            _f("railway", "乘车区间", help="寒暑假火车票优惠区间，如 武汉—长沙"),
            _f("photo", "证件照", "attachments", required=True, min=1, max=1),
        ],
        [
            _step("辅导员审核", COUNSELOR),
            _step("学生工作处审批", office("804")),
        ],
    ),
    DemoService(
        "leave_school",
        "离校申请",
        "学生事务",
        "804",
        "student",
        "毕业、退学、转学等办理离校手续，各部门会签确认",
        "辅导员、图书馆和财务处同时确认（会签）：图书已归还、费用已结清、宿舍已退。",
        3,
        "door-exit",
        [
            _f("name", "姓名", required=True, prefill="person.name"),
            _f("number", "学号", required=True, prefill="person.number"),
            _f(
                "kind",
                "离校类型",
                "select",
                required=True,
                options=_options("毕业", "结业", "退学", "转学"),
            ),
            _f("date", "离校日期", "date", required=True),
            _f(
                "books_returned",
                "图书已全部归还",
                "select",
                required=True,
                options=_options("是", "否"),
            ),
            _f("note", "说明", "textarea", max=300),
        ],
        [
            _step(
                "离校会签",
                {"kind": "union", "of": [COUNSELOR, office("814"), office("808")]},
                mode="all",
                timeout_hours=72,
            ),
        ],
    ),
)


async def _resolve_offices(session: AsyncSession, chain: Any) -> Any:
    """Replaces ``office(code)`` placeholders with the org assignee of that office."""
    if isinstance(chain, list):
        return [await _resolve_offices(session, item) for item in chain]
    if isinstance(chain, dict):
        if chain.get("kind") == "office":
            unit = await users.find_org_unit_by_code(session, chain["code"])
            assert unit is not None, chain["code"]
            return {"kind": "org", "org_unit_id": unit.id, "position": "head"}
        return {k: await _resolve_offices(session, v) for k, v in chain.items()}
    return chain


async def seed(ctx: SeedContext) -> None:
    async with ctx.runtime.db.transaction() as session:
        for order, demo in enumerate(SERVICES):
            await _seed_service(session, demo, order)
    await _seed_history(ctx)


async def _seed_service(session: AsyncSession, demo: DemoService, order: int) -> None:
    fields = [FieldDef.model_validate(f) for f in demo.fields]
    await form_actions.ensure_form(session, demo.key, demo.name, fields, demo.summary)
    chain = Chain.model_validate({"nodes": await _resolve_offices(session, demo.chain)})
    await ensure_process(session, key=demo.key, name=demo.name, chain=chain)
    unit = await users.find_org_unit_by_code(session, demo.department)
    await hall.ensure_service(
        session,
        HallServiceIn(
            key=demo.key,
            name=demo.name,
            category=demo.category,
            department_id=unit.id if unit else None,
            audience=demo.audience,
            kind="form",
            form_key=demo.key,
            process_key=demo.key,
            summary=demo.summary,
            guide=demo.guide,
            expected_days=demo.expected_days,
            icon=demo.icon,
            sort_order=order * 10,
        ),
    )


# ---------------------------------------------------------------- a month of history

HISTORY = {"small": 40, "medium": 160, "large": 400}


async def _seed_history(ctx: SeedContext) -> None:
    """Leave applications of the demo college's students over the last 30 days, most decided
    by their counselor, so that the to-do lists and statistics are not empty."""
    rng = ctx.rng("workflow")
    count = HISTORY[ctx.scale]
    async with ctx.runtime.db.transaction() as session:
        demo_student = next((d for d in ctx.logins if d.role == "student"), None)
        if demo_student is None:
            return
        student = await users.find_person_by_login(session, demo_student.login)
        assert student is not None
        classmates = [p.id for p in await users.members_of_class(session, student.class_id or 0)]
        for i in range(count):
            await _one_leave(session, rng, classmates[i % len(classmates)], i)


async def _one_leave(session: AsyncSession, rng: random.Random, person_id: int, i: int) -> None:
    now = clock.now()
    started = now - timedelta(days=rng.uniform(0.5, 30))
    first = (started + timedelta(days=rng.randint(1, 5))).date()
    days = rng.choice((1, 1, 2, 2, 3, 5))
    person = await users.get_person_ref(session, person_id)
    assert person is not None
    data = {
        "name": person.name,
        "number": person.number or "",
        "kind": rng.choice(("病假", "事假")),
        "period": {
            "start": first.isoformat(),
            "end": (first + timedelta(days=days - 1)).isoformat(),
        },
        "days": days,
        "leave_campus": "否",
        "reason": "身体不适，需要休息治疗",
        "phone": "13800000000",
    }
    instance = await actions.do_start(
        session,
        actions.StartRequest(
            process_key="student_leave",
            applicant_id=person_id,
            title=f"学生请假（{person.name}）",
            data=data,
            service_id=None,
        ),
    )
    if rng.random() < 0.8:
        await _decide_first(session, instance, approve=rng.random() < 0.9, comment="同意")
    await _shift(session, instance, started, rng)


async def _decide_first(
    session: AsyncSession, instance: Instance, *, approve: bool, comment: str
) -> None:
    task = await session.scalar(
        select(Task).where(Task.instance_id == instance.id, Task.status == "pending").limit(1)
    )
    if task is not None:
        principal = Principal(person_id=task.assignee_id, name="", login="")
        await actions.check_decide(session, principal, task.id, approve, Decision(comment=comment))


async def _shift(
    session: AsyncSession, instance: Instance, started: datetime, rng: random.Random
) -> None:
    """Moves the instance's times back to ``started``, decisions some hours later."""
    offset = clock.now() - started
    decided = started + timedelta(hours=rng.uniform(1, 40))
    instance.started_at = started
    if instance.ended_at is not None:
        instance.ended_at = decided
    for task in await session.scalars(select(Task).where(Task.instance_id == instance.id)):
        task.created_at -= offset
        if task.acted_at is not None:
            task.acted_at = decided
    for entry in await session.scalars(
        select(TimelineEntry).where(TimelineEntry.instance_id == instance.id)
    ):
        entry.at = decided if entry.action not in ("submit",) else started
