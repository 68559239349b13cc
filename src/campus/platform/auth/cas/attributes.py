"""The person's attributes a service receives, limited to what its registration releases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.i18n import LazyText, _
from campus.platform.access import service as access
from campus.platform.auth.cas.schemas import Attribute, AttributeOut
from campus.platform.users import service as users
from campus.platform.users.service import PersonAccess

TITLES: dict[Attribute, LazyText] = {
    Attribute.NAME: _("姓名"),
    Attribute.NUMBER: _("学号或工号"),
    Attribute.PERSON_TYPE: _("人员类型"),
    Attribute.STUDENT_NO: _("学号"),
    Attribute.STAFF_NO: _("工号"),
    Attribute.GENDER: _("性别"),
    Attribute.ORG_UNIT: _("所在单位"),
    Attribute.ORG_UNIT_CODE: _("单位代码"),
    Attribute.CLASS_NAME: _("行政班"),
    Attribute.EMAIL: _("电子邮箱"),
    Attribute.PHONE: _("手机号"),
    Attribute.ROLES: _("角色"),
}


def catalog() -> list[AttributeOut]:
    return [AttributeOut(name=name, title=str(title)) for name, title in TITLES.items()]


async def released(
    session: AsyncSession, person_id: int, wanted: list[Attribute]
) -> dict[str, list[str]]:
    """The values of the ``wanted`` attributes the person has (empty ones are left out)."""
    if not wanted:
        return {}
    values: dict[Attribute, list[str]] = {}
    if set(wanted) - {Attribute.ROLES}:
        detail = await users.person_detail(session, person_id, PersonAccess.FULL)
        if detail is not None:
            code = None
            if Attribute.ORG_UNIT_CODE in wanted:
                unit = await users.get_org_unit(session, detail.org_unit_id)
                code = unit.code if unit else None
            single = {
                Attribute.NAME: detail.name,
                Attribute.NUMBER: detail.number,
                Attribute.PERSON_TYPE: str(detail.person_type),
                Attribute.STUDENT_NO: detail.student_no,
                Attribute.STAFF_NO: detail.staff_no,
                Attribute.GENDER: detail.gender_name,
                Attribute.ORG_UNIT: detail.org_unit_name,
                Attribute.ORG_UNIT_CODE: code,
                Attribute.CLASS_NAME: detail.class_name,
                Attribute.EMAIL: detail.email,
                Attribute.PHONE: detail.phone,
            }
            values.update({k: [v] for k, v in single.items() if v})
    if Attribute.ROLES in wanted:
        values[Attribute.ROLES] = await access.roles_of(session, person_id)
    return {name.value: values[name] for name in wanted if values.get(name)}
