"""Chinese names of the community's enumerations (translated with ``_()`` where shown)."""

from __future__ import annotations

BOARD_KIND_LABELS: dict[str, str] = {
    "news": "资讯",
    "general": "综合",
    "market": "二手交易",
    "lost_found": "失物招领",
    "help": "求助",
    "event": "活动",
}

POSTING_LABELS: dict[str, str] = {
    "all": "所有人",
    "staff": "仅教职工",
    "editors": "仅编辑与版主",
}

CONDITION_LABELS: dict[str, str] = {
    "new": "全新",
    "like_new": "几乎全新",
    "good": "良好",
    "fair": "有使用痕迹",
}

LOST_FOUND_LABELS: dict[str, str] = {
    "lost": "寻物",
    "found": "招领",
}

STATUS_LABELS: dict[str, str] = {
    "visible": "正常",
    "hidden": "已隐藏",
    "deleted": "已删除",
}

REPORT_STATUS_LABELS: dict[str, str] = {
    "pending": "待处理",
    "removed": "已隐藏内容",
    "dismissed": "已驳回",
}
