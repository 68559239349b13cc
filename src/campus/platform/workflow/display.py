"""What the service hall's pages show beside the data: the names of statuses and timeline
actions, one line per timeline entry, and the ECharts options of the statistics page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from campus.kernel.i18n import LazyText, _
from campus.platform.workflow.schemas import HallStats, InstanceOut, TimelineOut

CHINA_TIME = timezone(timedelta(hours=8), "CST")

AUDIENCES: dict[str, LazyText] = {
    "all": _("全校师生"),
    "student": _("学生"),
    "staff": _("教职工"),
}

# status -> (label, Tabler colour)
INSTANCE_STATUSES: dict[str, tuple[LazyText, str]] = {
    "running": (_("审批中"), "blue"),
    "returned": (_("已退回"), "orange"),
    "approved": (_("已通过"), "green"),
    "rejected": (_("已驳回"), "red"),
    "withdrawn": (_("已撤回"), "secondary"),
}
TASK_STATUSES: dict[str, tuple[LazyText, str]] = {
    "pending": (_("待处理"), "blue"),
    "waiting": (_("等待前序审批"), "secondary"),
    "approved": (_("已同意"), "green"),
    "rejected": (_("已驳回"), "red"),
    "returned": (_("已退回"), "orange"),
    "transferred": (_("已转办"), "purple"),
    "cancelled": (_("已取消"), "secondary"),
    "unread": (_("未读"), "yellow"),
    "read": (_("已阅"), "secondary"),
    "done": (_("已完成"), "green"),
}
# timeline action -> (label, icon, Tabler colour)
ACTIONS: dict[str, tuple[LazyText, str, str]] = {
    "submit": (_("提交申请"), "send", "blue"),
    "approve": (_("同意"), "check", "green"),
    "reject": (_("驳回"), "x", "red"),
    "send_back": (_("退回"), "arrow-back-up", "orange"),
    "transfer": (_("转办"), "arrows-exchange", "purple"),
    "add_signer": (_("加签"), "user-plus", "cyan"),
    "cc": (_("抄送"), "mail-forward", "azure"),
    "approved": (_("审批通过"), "circle-check", "green"),
    "rejected": (_("申请被驳回"), "circle-x", "red"),
    "withdrawn": (_("撤回申请"), "arrow-back", "secondary"),
    "urge": (_("催办"), "bell-ringing", "yellow"),
    "resubmit": (_("重新提交"), "refresh", "blue"),
    "comment": (_("评论"), "message", "secondary"),
    "overdue": (_("超时"), "clock-exclamation", "red"),
}
TIMEOUT_RULES: dict[str, LazyText] = {
    "remind": _("已提醒审批人"),
    "escalate": _("已上报"),
    "approve": _("自动同意"),
    "reject": _("自动驳回"),
}
TASK_SOURCES: dict[str, LazyText] = {"workflow": _("审批")}


def when(value: datetime | None) -> str:
    """A moment in Beijing time, as the pages show it."""
    return value.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") if value else ""


def china_time(text: str) -> datetime:
    """A time typed into a ``datetime-local`` input, read as Beijing time (ValueError if it
    is not one)."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TIME)


def local_input(value: datetime) -> str:
    """The value of a ``datetime-local`` input for a moment."""
    return value.astimezone(CHINA_TIME).strftime("%Y-%m-%dT%H:%M")


# ---------------------------------------------------------------- the timeline


@dataclass(frozen=True)
class TimelineLine:
    at: str
    actor: str
    action: str
    label: LazyText
    icon: str
    colour: str
    step: str
    comment: str | None
    detail: str
    attachments: list[str]


def names_in(instance: InstanceOut) -> dict[int, str]:
    """Everyone the instance mentions, by id: applicant, assignees and actors."""
    names = {t.assignee_id: t.assignee_name for t in instance.tasks if t.assignee_name}
    names.update(
        {e.actor_id: e.actor_name for e in instance.timeline if e.actor_id and e.actor_name}
    )
    if instance.applicant_name:
        names[instance.applicant_id] = instance.applicant_name
    return names


def timeline(instance: InstanceOut) -> list[TimelineLine]:
    names = names_in(instance)
    steps = {s.id: s.name for s in instance.steps}
    lines = []
    for entry in instance.timeline:
        label, icon, colour = ACTIONS.get(entry.action, (_(entry.action), "point", "secondary"))
        lines.append(
            TimelineLine(
                at=when(entry.at),
                actor=entry.actor_name or (str(_("系统")) if entry.actor_id is None else ""),
                action=entry.action,
                label=label,
                icon=icon,
                colour=colour,
                step=entry.step_name,
                comment=entry.comment,
                detail=_detail(entry, names, steps),
                attachments=entry.attachments,
            )
        )
    return lines


def _people(ids: Any, names: dict[int, str]) -> str:
    if not isinstance(ids, list):
        return ""
    return "、".join(names.get(pid, f"#{pid}") for pid in ids)


def _detail(entry: TimelineOut, names: dict[int, str], steps: dict[str, str]) -> str:
    detail = entry.detail
    match entry.action:
        case "transfer":
            target = detail.get("to")
            name = names.get(target, f"#{target}") if isinstance(target, int) else ""
            return str(_("转给 {name}", name=name))
        case "add_signer":
            return str(_("加签 {names}", names=_people(detail.get("people"), names)))
        case "cc":
            return str(_("抄送给 {names}", names=_people(detail.get("people"), names)))
        case "urge":
            return str(_("提醒 {names}", names=_people(detail.get("people"), names)))
        case "send_back":
            step = detail.get("to_step")
            if step:
                return str(_("退回到“{step}”", step=steps.get(step, step)))
            return str(_("退回给申请人修改"))
        case "overdue":
            rule = TIMEOUT_RULES.get(str(detail.get("rule")))
            return str(rule) if rule else ""
    return ""


# ---------------------------------------------------------------- statistics charts


def _short_day(day: str) -> str:
    return day[5:] if len(day) == 10 else day


def stats_charts(result: HallStats, process_names: dict[str, str]) -> dict[str, dict[str, Any]]:
    """ECharts options by chart name: volume per day, per service, handling hours per service,
    the steps where applications wait longest, and overdue work per step."""
    services = result.services
    timed = sorted(
        (s for s in services if s.avg_hours is not None), key=lambda s: -(s.avg_hours or 0)
    )
    overdue = sorted((s for s in result.steps if s.overdue), key=lambda s: -s.overdue)

    def step_label(process_key: str, step_name: str) -> str:
        return f"{process_names.get(process_key, process_key)} · {step_name}"

    charts: dict[str, dict[str, Any]] = {
        "per_day": {
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": _GRID,
            "xAxis": {"type": "category", "data": [_short_day(d.day) for d in result.per_day]},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [
                {
                    "name": str(_("申请")),
                    "type": "line",
                    "smooth": True,
                    "data": [d.applied for d in result.per_day],
                },
                {
                    "name": str(_("办结")),
                    "type": "line",
                    "smooth": True,
                    "data": [d.finished for d in result.per_day],
                },
            ],
        },
        "services": {
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": _GRID,
            "xAxis": {
                "type": "category",
                "data": [s.name for s in services],
                "axisLabel": {"interval": 0, "rotate": 30},
            },
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [
                {
                    "name": str(_("申请")),
                    "type": "bar",
                    "barMaxWidth": 28,
                    "data": [s.applied for s in services],
                },
                {
                    "name": str(_("通过")),
                    "type": "bar",
                    "barMaxWidth": 28,
                    "data": [s.approved for s in services],
                },
                {
                    "name": str(_("驳回")),
                    "type": "bar",
                    "barMaxWidth": 28,
                    "data": [s.rejected for s in services],
                },
            ],
        },
        "hours": _horizontal_bars(
            [s.name for s in timed],
            [s.avg_hours or 0 for s in timed],
            str(_("平均办理时长（小时）")),
        ),
        "bottlenecks": _horizontal_bars(
            [step_label(s.process_key, s.step_name) for s in result.bottlenecks],
            [s.avg_hours or 0 for s in result.bottlenecks],
            str(_("平均审批时长（小时）")),
        ),
        "overdue": _horizontal_bars(
            [step_label(s.process_key, s.step_name) for s in overdue],
            [s.overdue for s in overdue],
            str(_("超时待办")),
        ),
    }
    return {name: {"color": _COLOURS, **option} for name, option in charts.items()}


_GRID = {"left": 8, "right": 24, "top": 36, "bottom": 8, "containLabel": True}
# Tabler's blue, green, red, then its other hues.
_COLOURS = ["#066fd1", "#2fb344", "#d63939", "#f59f00", "#ae3ec9", "#17a2b8"]


def _horizontal_bars(labels: list[str], values: list[float], name: str) -> dict[str, Any]:
    # The longest bar on top: ECharts draws a category axis from the bottom up.
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {**_GRID, "top": 8},
        "xAxis": {"type": "value"},
        "yAxis": {
            "type": "category",
            "data": labels[::-1],
            "axisLabel": {"width": 160, "overflow": "truncate"},
        },
        "series": [
            {
                "name": name,
                "type": "bar",
                "barMaxWidth": 24,
                "data": values[::-1],
                "label": {"show": True, "position": "right"},
            }
        ],
    }
