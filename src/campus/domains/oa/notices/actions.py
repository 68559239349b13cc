"""Writes of notices: ``check_*`` validates everything (input, state, the publisher's reach),
then ``do_*`` writes, audits and emits. A refusal changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import attachments, events, people
from campus.domains.oa.models import Notice, NoticeRead, NoticeTarget
from campus.domains.oa.notices.access import NoticeAccess, access_notice
from campus.domains.oa.notices.queries import targets_of
from campus.domains.oa.people import Reader
from campus.domains.oa.permissions import NOTICE_PUBLISH
from campus.domains.oa.schemas import NoticeCreate, NoticeUpdate, TargetIn
from campus.kernel import audit, clock
from campus.kernel.clock import today
from campus.kernel.context import Principal
from campus.kernel.db import insert_ignore
from campus.kernel.errors import Conflict, InvalidInput
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory


@dataclass(frozen=True)
class CheckedTarget:
    kind: str
    target_id: int | None
    subtree: bool
    units: tuple[int, ...]  # every org unit whose people it addresses


@dataclass(frozen=True)
class CheckedNotice:
    """A notice's fields once every one of them has been checked."""

    title: str
    body: str
    org_unit_id: int
    people: str
    targets: list[CheckedTarget]
    pinned: bool
    expires_on: Any
    attachments: list[str]


async def _check_targets(
    session: AsyncSession, targets: list[TargetIn], directory: OrgDirectory
) -> list[CheckedTarget]:
    checked: dict[tuple[str, int | None, bool], CheckedTarget] = {}
    for index, target in enumerate(targets):
        field = f"targets.{index}.id"
        if target.kind == "campus":
            units = tuple(u for root in directory.roots for u in directory.subtree(root))
            item = CheckedTarget("campus", None, True, units)
        elif target.id is None:
            raise InvalidInput.on(field, _("请选择单位或班级"))
        elif target.kind == "org":
            if target.id not in directory:
                raise InvalidInput.on(field, _("单位 {id} 不存在", id=target.id))
            units = tuple(directory.subtree(target.id)) if target.subtree else (target.id,)
            item = CheckedTarget("org", target.id, target.subtree, units)
        else:
            found = await users.get_class(session, target.id)
            if found is None:
                raise InvalidInput.on(field, _("班级 {id} 不存在", id=target.id))
            item = CheckedTarget("class", target.id, False, (found.org_unit_id,))
        checked.setdefault((item.kind, item.target_id, item.subtree), item)
    return list(checked.values())


async def _check_reach(
    principal: Principal, notice: CheckedNotice, directory: OrgDirectory
) -> None:
    """The publisher's grant must reach the issuing unit and every unit addressed: a college's
    office publishes within its college only."""
    if not people.reaches_units(principal, NOTICE_PUBLISH, [notice.org_unit_id], directory):
        message = _("您不能以“{unit}”的名义发布通知", unit=directory.name(notice.org_unit_id))
        raise await access.denied(principal, NOTICE_PUBLISH, message)
    for target in notice.targets:
        if not people.reaches_units(principal, NOTICE_PUBLISH, target.units, directory):
            name = "全校" if target.kind == "campus" else directory.name(target.units[0])
            message = _("“{name}”超出了您发布通知的范围", name=name)
            raise await access.denied(principal, NOTICE_PUBLISH, message)


async def _check_fields(
    session: AsyncSession,
    principal: Principal,
    values: dict[str, Any],
    directory: OrgDirectory,
) -> CheckedNotice:
    org_unit_id = values["org_unit_id"]
    if org_unit_id is None:
        me = await users.get_person_ref(session, principal.person_id)
        org_unit_id = me.org_unit_id if me else None
    if org_unit_id not in directory:
        raise InvalidInput.on("org_unit_id", _("发布单位不存在"))
    expires_on = values["expires_on"]
    if expires_on is not None and expires_on < today():
        raise InvalidInput.on("expires_on", _("到期日不能早于今天"))
    targets = await _check_targets(session, values["targets"], directory)
    files = await attachments.check(
        session,
        principal,
        values["attachments"],
        "attachments",
        kind="notice",
        object_id=values.get("id"),
    )
    notice = CheckedNotice(
        title=values["title"],
        body=values["body"],
        org_unit_id=org_unit_id,
        people=values["people"],
        targets=targets,
        pinned=values["pinned"],
        expires_on=expires_on,
        attachments=files,
    )
    await _check_reach(principal, notice, directory)
    return notice


# ---------------------------------------------------------------- drafting


async def check_create_notice(
    session: AsyncSession, principal: Principal, body: NoticeCreate
) -> int:
    directory = await users.org_directory(session)
    values = {**body.model_dump(), "targets": body.targets}
    notice = await _check_fields(session, principal, values, directory)
    return await do_create_notice(session, principal, notice)


async def do_create_notice(
    session: AsyncSession, principal: Principal, checked: CheckedNotice
) -> int:
    now = clock.now()
    notice = Notice(
        title=checked.title,
        body=checked.body,
        status="draft",
        people=checked.people,
        org_unit_id=checked.org_unit_id,
        publisher_id=principal.person_id,
        pinned=checked.pinned,
        expires_on=checked.expires_on,
        attachments=checked.attachments,
        withdraw_reason="",
        created_at=now,
        updated_at=now,
    )
    session.add(notice)
    await session.flush()
    _add_targets(session, notice.id, checked.targets)
    await attachments.bind(session, checked.attachments, "notice", notice.id)
    audit.record(session, "oa.notice.create", "notice", notice.id, after=_state(notice))
    return notice.id


def _add_targets(session: AsyncSession, notice_id: int, targets: list[CheckedTarget]) -> None:
    for t in targets:
        session.add(
            NoticeTarget(notice_id=notice_id, kind=t.kind, target_id=t.target_id, subtree=t.subtree)
        )


def _state(notice: Notice) -> dict[str, Any]:
    return {
        "title": notice.title,
        "status": notice.status,
        "people": notice.people,
        "org_unit_id": notice.org_unit_id,
        "pinned": notice.pinned,
        "expires_on": notice.expires_on.isoformat() if notice.expires_on else None,
        "attachments": list(notice.attachments or []),
    }


async def _own_draft(session: AsyncSession, principal: Principal, notice_id: int) -> Notice:
    notice, level = await access_notice(session, principal, notice_id)
    if level is not NoticeAccess.PUBLISHER:
        raise await access.denied(
            principal,
            NOTICE_PUBLISH,
            _("只有发布人可以修改这条通知"),
            target_type="notice",
            target_id=notice_id,
        )
    if notice.status != "draft":
        raise Conflict(_("只能修改草稿；已发布的通知请先撤回"))
    return notice


async def check_update_notice(
    session: AsyncSession, principal: Principal, notice_id: int, body: NoticeUpdate
) -> None:
    notice = await _own_draft(session, principal, notice_id)
    old_targets = [
        TargetIn(kind=t.kind, id=t.target_id, subtree=t.subtree)
        for t in await targets_of(session, notice_id)
    ]
    values = {
        "id": notice.id,
        "title": notice.title,
        "body": notice.body,
        "org_unit_id": notice.org_unit_id,
        "people": notice.people,
        "targets": old_targets,
        "pinned": notice.pinned,
        "expires_on": notice.expires_on,
        "attachments": list(notice.attachments or []),
    }
    given = body.model_dump(exclude_unset=True)
    for key, value in given.items():
        if value is None and key not in ("expires_on",):
            raise InvalidInput.on(key, _("不能为空"))
        values[key] = body.targets if key == "targets" else value
    directory = await users.org_directory(session)
    checked = await _check_fields(session, principal, values, directory)
    await do_update_notice(session, notice, checked, replace_targets="targets" in given)


async def do_update_notice(
    session: AsyncSession, notice: Notice, checked: CheckedNotice, *, replace_targets: bool
) -> None:
    before = _state(notice)
    notice.title = checked.title
    notice.body = checked.body
    notice.org_unit_id = checked.org_unit_id
    notice.people = checked.people
    notice.pinned = checked.pinned
    notice.expires_on = checked.expires_on
    added = [f for f in checked.attachments if f not in (notice.attachments or [])]
    notice.attachments = checked.attachments
    notice.updated_at = clock.now()
    if replace_targets:
        await session.execute(delete(NoticeTarget).where(NoticeTarget.notice_id == notice.id))
        _add_targets(session, notice.id, checked.targets)
    await attachments.bind(session, added, "notice", notice.id)
    audit.record(
        session, "oa.notice.update", "notice", notice.id, before=before, after=_state(notice)
    )


async def check_delete_notice(session: AsyncSession, principal: Principal, notice_id: int) -> None:
    notice = await _own_draft(session, principal, notice_id)
    audit.record(session, "oa.notice.delete", "notice", notice.id, before=_state(notice))
    await session.delete(notice)


# ---------------------------------------------------------------- publishing


async def check_publish(session: AsyncSession, principal: Principal, notice_id: int) -> None:
    notice = await _own_draft(session, principal, notice_id)
    # The publisher's reach may have changed since the draft was saved: check it again.
    directory = await users.org_directory(session)
    targets = await targets_of(session, notice_id)
    values = {
        "title": notice.title,
        "body": notice.body,
        "org_unit_id": notice.org_unit_id,
        "people": notice.people,
        "targets": [TargetIn(kind=t.kind, id=t.target_id, subtree=t.subtree) for t in targets],
        "pinned": notice.pinned,
        "expires_on": notice.expires_on,
        "attachments": [],  # bound already when the draft was saved
    }
    await _check_fields(session, principal, values, directory)
    await do_publish(session, notice, targets)


async def do_publish(session: AsyncSession, notice: Notice, targets: list[NoticeTarget]) -> None:
    before = _state(notice)
    now = clock.now()
    notice.status = "published"
    notice.published_at = now
    notice.updated_at = now
    audit.record(
        session, "oa.notice.publish", "notice", notice.id, before=before, after=_state(notice)
    )
    await emit(
        session,
        events.NOTICE_PUBLISHED,
        events.NoticePublished(
            notice_id=notice.id,
            title=notice.title,
            org_unit_id=notice.org_unit_id,
            publisher_id=notice.publisher_id,
            people=notice.people,
            targets=[{"kind": t.kind, "id": t.target_id, "subtree": t.subtree} for t in targets],
        ),
    )


async def check_withdraw(
    session: AsyncSession, principal: Principal, notice_id: int, reason: str
) -> None:
    notice, level = await access_notice(session, principal, notice_id)
    if level not in (NoticeAccess.PUBLISHER, NoticeAccess.MANAGER):
        raise await access.denied(
            principal,
            NOTICE_PUBLISH,
            _("只有发布人或管理人员可以撤回这条通知"),
            target_type="notice",
            target_id=notice_id,
        )
    if notice.status != "published":
        raise Conflict(_("只能撤回已发布的通知"))
    await do_withdraw(session, notice, reason)


async def do_withdraw(session: AsyncSession, notice: Notice, reason: str) -> None:
    before = _state(notice)
    now = clock.now()
    notice.status = "withdrawn"
    notice.withdrawn_at = now
    notice.withdraw_reason = reason
    notice.updated_at = now
    audit.record(
        session, "oa.notice.withdraw", "notice", notice.id, before=before, after=_state(notice)
    )
    await emit(
        session,
        events.NOTICE_WITHDRAWN,
        events.NoticeWithdrawn(notice_id=notice.id, title=notice.title, reason=reason),
    )


# ---------------------------------------------------------------- reading


async def do_mark_read(session: AsyncSession, notice: Notice, reader: Reader) -> bool:
    """The reader's receipt, once (the first reading counts); returns whether it is new."""
    row = {
        "notice_id": notice.id,
        "person_id": reader.person_id,
        "org_unit_id": reader.org_unit_id,
        "read_at": clock.now(),
    }
    return await insert_ignore(session, NoticeRead, [row], ["notice_id", "person_id"]) > 0
