"""Words shown for the codes of subscription push (wrapped in ``_`` where shown)."""

from __future__ import annotations

from campus.kernel.i18n import LazyText, _

CATEGORIES: dict[str, LazyText] = {
    "academic": _("教学教务"),
    "service": _("生活服务"),
    "student": _("学生事务"),
    "college": _("院系"),
    "youth": _("团学组织"),
    "other": _("其他"),
}

PERSON_TYPES: dict[str, LazyText] = {
    "undergraduate": _("本科生"),
    "postgraduate": _("研究生"),
    "faculty": _("教师"),
    "staff": _("职工"),
    "external": _("校外人员"),
}

POST_STATUS: dict[str, LazyText] = {
    "draft": _("草稿"),
    "scheduled": _("定时发布"),
    "published": _("已发布"),
}


def describe(person_types: list[str], unit_names: list[str]) -> str:
    """A rule in words: "全校 本科生、研究生", "计算机学院 全体人员"."""
    where = "、".join(unit_names) if unit_names else str(_("全校"))
    who = "、".join(str(PERSON_TYPES[t]) for t in person_types if t in PERSON_TYPES)
    return f"{where} {who or _('全体人员')}"
