"""Chinese names of the user center's enumerations (translated in templates with ``_()``)."""

from __future__ import annotations

PERSON_TYPE_LABELS: dict[str, str] = {
    "undergraduate": "本科生",
    "postgraduate": "研究生",
    "faculty": "教师",
    "staff": "职工",
    "external": "校外人员",
}

STATUS_LABELS: dict[str, str] = {
    "active": "正常",
    "suspended": "休学/停职",
    "graduated": "毕业",
    "left": "离校/离职",
    "retired": "退休",
}

# Other words people write in the status column of a spreadsheet.
STATUS_ALIASES: dict[str, str] = {
    "在读": "active",
    "在校": "active",
    "在职": "active",
    "在籍": "active",
    "休学": "suspended",
    "停职": "suspended",
    "已毕业": "graduated",
    "离校": "left",
    "离职": "left",
    "退学": "left",
    "已退休": "retired",
}

ORG_KIND_LABELS: dict[str, str] = {
    "university": "学校",
    "college": "学院",
    "department": "系/部门",
    "major": "专业",
    "office": "机关处室",
}

POSITION_TITLES: dict[str, str] = {
    "president": "校长",
    "party_secretary": "党委书记",
    "dean": "院长",
    "vice_dean": "副院长",
    "head": "负责人",
    "counselor": "辅导员",
    "head_teacher": "班主任",
}
