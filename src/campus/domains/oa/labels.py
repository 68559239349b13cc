"""Chinese names of the collaborative office's enumerations (translated with ``_()`` where
shown)."""

from __future__ import annotations

NOTICE_STATUS_LABELS: dict[str, str] = {
    "draft": "草稿",
    "published": "已发布",
    "withdrawn": "已撤回",
}

PEOPLE_LABELS: dict[str, str] = {
    "all": "全体人员",
    "students": "仅学生",
    "staff": "仅教职工",
}

TARGET_LABELS: dict[str, str] = {
    "campus": "全校",
    "org": "单位",
    "class": "班级",
}

RESPONSE_LABELS: dict[str, str] = {
    "pending": "待回复",
    "accepted": "接受",
    "declined": "拒绝",
    "tentative": "待定",
}

DOCUMENT_KIND_LABELS: dict[str, str] = {
    "notice": "通知",
    "decision": "决定",
    "bulletin": "通报",
    "request": "请示",
    "report": "报告",
    "letter": "函",
    "minutes": "纪要",
}

URGENCY_LABELS: dict[str, str] = {
    "normal": "普通",
    "urgent": "加急",
    "very_urgent": "特急",
}

SECRECY_LABELS: dict[str, str] = {
    "public": "公开",
    "internal": "内部",
}

DOCUMENT_STATUS_LABELS: dict[str, str] = {
    "draft": "草稿",
    "reviewing": "审批中",
    "approved": "已签发，待用印",
    "sealed": "已用印，待分发",
    "distributed": "已分发",
}

ADDRESSEE_ROLE_LABELS: dict[str, str] = {
    "main": "主送",
    "copy": "抄送",
}

REMINDER_CHOICES: tuple[tuple[int, str], ...] = (
    (0, "开始时"),
    (5, "提前 5 分钟"),
    (15, "提前 15 分钟"),
    (30, "提前 30 分钟"),
    (60, "提前 1 小时"),
    (120, "提前 2 小时"),
    (1440, "提前 1 天"),
)

# What the workflow engine's timeline entries mean, in the document's approval history.
APPROVAL_ACTION_LABELS: dict[str, str] = {
    "submit": "提交",
    "approve": "同意",
    "reject": "驳回",
    "send_back": "退回",
    "transfer": "转办",
    "add_signer": "加签",
    "urge": "催办",
    "resubmit": "重新提交",
    "comment": "评论",
    "cc": "抄送",
    "approved": "审批通过",
    "rejected": "审批未通过",
    "withdrawn": "撤回",
    "overdue": "超时",
}

STEP_STATE_LABELS: dict[str, str] = {
    "done": "已完成",
    "active": "进行中",
    "future": "未开始",
}
