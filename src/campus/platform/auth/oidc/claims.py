"""Scopes and the claims they release about a person (ID token and userinfo).

Standard claims follow OpenID Connect Core §5.4 through Authlib's ``UserInfo`` (``filter``
keeps what the scopes allow); the ``campus`` scope adds the university's own claims.
"""

from __future__ import annotations

from typing import Any

from authlib.oidc.core import UserInfo
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.i18n import LazyText, _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonDetail

OPENID = "openid"
# Scope → what the consent page tells the person it releases.
SCOPES: dict[str, LazyText] = {
    OPENID: _("确认您的身份（用户标识）"),
    "profile": _("姓名、学号或工号、性别"),
    "email": _("电子邮箱"),
    "phone": _("手机号"),
    "campus": _("人员类型、学号/工号、所在单位、角色"),
}
SUPPORTED_SCOPES = tuple(SCOPES)
# Scopes that describe a person: meaningless for a token a client gets for itself.
PERSON_SCOPES = frozenset(SUPPORTED_SCOPES)
CAMPUS_CLAIMS = ("person_type", "student_no", "staff_no", "org_unit", "roles")
STANDARD_CLAIMS = (
    "sub",
    "name",
    "preferred_username",
    "gender",
    "locale",
    "updated_at",
    "email",
    "phone_number",
)
_GENDERS = {"1": "male", "2": "female"}


def _e164(phone: str | None) -> str | None:
    """Mainland mobile numbers as E.164, which OpenID Connect asks for."""
    if not phone:
        return None
    return f"+86{phone}" if len(phone) == 11 and phone.isdigit() else phone


def _standard(detail: PersonDetail) -> UserInfo:
    values: dict[str, Any] = {
        "sub": str(detail.id),
        "name": detail.name,
        "preferred_username": detail.number or str(detail.id),
        "gender": _GENDERS.get(detail.gender),
        "locale": "zh-CN",
        "updated_at": int(detail.updated_at.timestamp()),
        "email": detail.email,
        "phone_number": _e164(detail.phone),
    }
    return UserInfo({k: v for k, v in values.items() if v is not None})


async def _campus(session: AsyncSession, detail: PersonDetail) -> dict[str, Any]:
    unit = next((u for u in detail.org_path if u.id == detail.org_unit_id), None)
    claims: dict[str, Any] = {
        "person_type": detail.person_type,
        "org_unit": {
            "id": detail.org_unit_id,
            "code": unit.code if unit else None,
            "name": detail.org_unit_name,
        },
        "roles": await access.roles_of(session, detail.id),
    }
    if detail.student_no:
        claims["student_no"] = detail.student_no
    if detail.staff_no:
        claims["staff_no"] = detail.staff_no
    return claims


async def person_claims(session: AsyncSession, person_id: int, scopes: list[str]) -> dict[str, Any]:
    """What the scopes release about the person; ``{"sub": ...}`` at least."""
    detail = await users.person_detail(session, person_id, users.PersonAccess.FULL)
    if detail is None:
        return {"sub": str(person_id)}
    claims: dict[str, Any] = dict(_standard(detail).filter(" ".join(scopes)))
    claims["sub"] = str(person_id)
    if "campus" in scopes:
        claims.update(await _campus(session, detail))
    return claims


async def person_may_sign_in(session: AsyncSession, person_id: int) -> bool:
    person = await users.get_person_ref(session, person_id)
    return person is not None and users.may_sign_in(person)
