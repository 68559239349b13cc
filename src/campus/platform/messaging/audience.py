"""Audiences: checking the rule a sender gives, and turning it into people.

A campus-wide rule (everyone, or every student, or all staff) is never expanded: it is matched
against the reader when the inbox is read (``matches``), so people created after the
notification see it too. Any other rule is expanded once, when the notification is sent.
Groups reach the people whose account opens: those at work or in study and students on leave
(休学), who keep their place on the roll and read their inbox like everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import FieldError, InvalidInput
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.messaging.schemas import Audience
from campus.platform.users import service as users
from campus.platform.users.schemas import STAFF_TYPES, STUDENT_TYPES

# Unknown ids named in an error, at most.
NAMED_IN_ERROR = 10


@dataclass(frozen=True)
class Resolved:
    broadcast: bool
    person_scope: str  # of a campus-wide audience: all, student, staff
    person_ids: list[int]  # of a targeted audience, each once, ascending
    size: int


def person_types(kinds: list[str]) -> list[str]:
    """The user center's person types that "student" and "staff" stand for."""
    found: list[str] = []
    if "student" in kinds:
        found += STUDENT_TYPES
    if "staff" in kinds:
        found += STAFF_TYPES
    return found


def kind_of(person_type: str) -> str:
    """What a campus-wide scope calls a person of this type: student, staff or other."""
    if person_type in STUDENT_TYPES:
        return "student"
    if person_type in STAFF_TYPES:
        return "staff"
    return "other"


def matches(person_scope: str | None, reader_kind: str) -> bool:
    """Whether a campus-wide notification of this scope reaches a reader of this kind."""
    return person_scope in (None, "all") or person_scope == reader_kind


def _named(ids: object) -> str:
    values = sorted(ids)  # type: ignore[call-overload]
    shown = "、".join(str(v) for v in values[:NAMED_IN_ERROR])
    return shown + ("…" if len(values) > NAMED_IN_ERROR else "")


async def _unknown(session: AsyncSession, audience: Audience) -> list[FieldError]:
    """A field error for every list naming things that do not exist."""
    errors: list[FieldError] = []
    if audience.person_ids:
        missing = set(audience.person_ids) - await users.existing_person_ids(
            session, audience.person_ids
        )
        if missing:
            errors.append(
                FieldError("audience.person_ids", _("人员不存在：{ids}", ids=_named(missing)))
            )
    if audience.role_codes:
        missing_roles = set(audience.role_codes) - set(await access.role_names(session))
        if missing_roles:
            errors.append(
                FieldError("audience.role_codes", _("角色不存在：{ids}", ids=_named(missing_roles)))
            )
    for field in ("org_unit_ids", "exact_org_unit_ids"):
        ids: list[int] = getattr(audience, field)
        if ids:
            missing = set(ids) - set(await users.get_org_units(session, ids))
            if missing:
                errors.append(
                    FieldError(f"audience.{field}", _("单位不存在：{ids}", ids=_named(missing)))
                )
    if audience.class_ids:
        missing = set(audience.class_ids) - await users.existing_class_ids(
            session, audience.class_ids
        )
        if missing:
            errors.append(
                FieldError("audience.class_ids", _("班级不存在：{ids}", ids=_named(missing)))
            )
    return errors


async def resolve(session: AsyncSession, audience: Audience) -> Resolved:
    """Check the rule and expand a targeted one; raises a 422 naming the field at fault."""
    if audience.is_empty:
        raise InvalidInput.on("audience", _("请至少选择一类通知对象"))
    types = person_types(list(audience.person_types))
    if audience.everyone:
        if audience.has_groups:
            raise InvalidInput.on("audience.everyone", _("全校通知不能再指定其他对象"))
        size = await users.count_people(session, types, status=users.MAY_SIGN_IN)
        return Resolved(True, audience.person_scope, [], size)
    errors = await _unknown(session, audience)
    if errors:
        raise InvalidInput(_("通知对象有误"), errors=errors)
    chosen: set[int] = set(audience.person_ids)
    for code in audience.role_codes:
        chosen.update(await access.role_holder_ids(session, code))
    if types and chosen:
        chosen = set(await users.people_of_types(session, sorted(chosen), types))
    chosen.update(
        await users.people_in_groups(
            session,
            org_unit_ids=audience.org_unit_ids,
            exact_org_unit_ids=audience.exact_org_unit_ids,
            class_ids=audience.class_ids,
            person_types=types,
            status=users.MAY_SIGN_IN,
        )
    )
    if not chosen:
        raise InvalidInput.on("audience", _("所选对象中没有任何人"))
    ordered = sorted(chosen)
    return Resolved(False, "all", ordered, len(ordered))


async def broadcast_size(session: AsyncSession, person_scope: str) -> int:
    """How many people a campus-wide scope matches now."""
    kinds = [] if person_scope == "all" else [person_scope]
    return await users.count_people(session, person_types(kinds), status=users.MAY_SIGN_IN)
