"""Writes of groups: creating, renaming, announcements, inviting, removing, leaving, roles,
dissolving; and the automatic class and section groups, whose members follow their rosters.
A person added to a group sees the messages from then on (``joined_seq``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, FieldError, Forbidden, InvalidInput
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.messaging import live
from campus.platform.messaging.im import events, queries
from campus.platform.messaging.im.access import access_conversation, member_ids
from campus.platform.messaging.im.actions import frame_of, system_message
from campus.platform.messaging.im.models import Conversation, Member
from campus.platform.messaging.im.schemas import GROUP_MAX_MEMBERS, GroupIn, GroupUpdate
from campus.platform.messaging.moderation import filter as words
from campus.platform.users import service as users

AUTO_KINDS = ("class", "section")
MANAGERS = ("owner", "admin")


async def _changed(
    session: AsyncSession,
    rt: Runtime,
    conversation_id: int,
    change: str,
    people: Sequence[int] = (),
    also: Sequence[int] = (),
) -> None:
    """Tell the members (and ``also``: people just removed) to refresh the conversation."""
    recipients = {*await member_ids(session, conversation_id), *also}
    live.push_after_commit(
        session,
        rt,
        recipients,
        frame_of("conversation", conversation_id=conversation_id, change=change),
    )
    await emit(
        session,
        events.GROUP_CHANGED,
        events.GroupChanged(
            conversation_id=conversation_id, change=change, person_ids=list(people)
        ),
    )


async def _check_people(session: AsyncSession, ids: Sequence[int], field: str) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    found = await users.get_people(session, wanted)
    errors = [
        FieldError(f"{field}.{index}", _("人员 {id} 不存在", id=pid))
        for index, pid in enumerate(ids)
        if pid not in found
    ]
    if errors:
        raise InvalidInput(_("有人员不存在，请检查标出的项"), errors=errors)
    return wanted


async def _manageable(
    session: AsyncSession, principal: Principal, conversation_id: int
) -> tuple[Conversation, Member]:
    conversation, member = await access_conversation(session, conversation_id, principal.person_id)
    if conversation.kind == "direct":
        raise Conflict(_("单聊没有群设置"))
    if member.role not in MANAGERS:
        raise Forbidden(_("只有群主和管理员可以管理群聊"))
    return conversation, member


def _not_automatic(conversation: Conversation) -> None:
    if conversation.kind in AUTO_KINDS:
        raise Conflict(_("班级群和课程群的成员随名单自动维护，不能手动增减"))


async def _count(session: AsyncSession, conversation_id: int) -> int:
    return int(
        await session.scalar(select(func.count()).where(Member.conversation_id == conversation_id))
        or 0
    )


async def _add_members(
    session: AsyncSession, conversation: Conversation, ids: Sequence[int], role: str = "member"
) -> list[int]:
    """Add those not in yet; returns who was added."""
    present = set(await member_ids(session, conversation.id))
    added = [pid for pid in ids if pid not in present]
    now = clock.now()
    session.add_all(
        Member(
            conversation_id=conversation.id,
            person_id=pid,
            role=role,
            joined_seq=conversation.last_seq,
            read_seq=conversation.last_seq,
            joined_at=now,
        )
        for pid in added
    )
    await session.flush()
    return added


async def _names(session: AsyncSession, ids: Sequence[int]) -> str:
    names = await queries.names_of(session, ids)
    shown = "、".join(names.get(pid, str(pid)) for pid in ids[:5])
    return shown + (str(_("等 {n} 人", n=len(ids))) if len(ids) > 5 else "")


# ---------------------------------------------------------------- groups people make


async def check_create_group(
    session: AsyncSession, rt: Runtime, principal: Principal, body: GroupIn
) -> int:
    name = body.name.strip()
    if not name:
        raise InvalidInput.on("name", _("请填写群名称"))
    name = await words.clean_text(session, name, "name")
    people = await _check_people(session, body.members, "members")
    everyone = list(dict.fromkeys([principal.person_id, *people]))
    if len(everyone) < 2:
        raise InvalidInput.on("members", _("群聊至少需要另一位成员"))
    if len(everyone) > GROUP_MAX_MEMBERS:
        raise InvalidInput.on("members", _("群成员不能超过 {n} 人", n=GROUP_MAX_MEMBERS))
    conversation = Conversation(
        kind="group",
        name=name,
        owner_id=principal.person_id,
        last_seq=0,
        created_by=principal.person_id,
        created_at=clock.now(),
    )
    session.add(conversation)
    await session.flush()
    await _add_members(session, conversation, [principal.person_id], role="owner")
    await _add_members(session, conversation, everyone[1:])
    audit.record(
        session,
        "messaging.im.group.create",
        "msg_im_conversation",
        conversation.id,
        after={"name": name, "members": everyone},
    )
    await system_message(
        session, rt, conversation.id, str(_("{who} 创建了群聊", who=principal.name))
    )
    await _changed(session, rt, conversation.id, "created", everyone)
    return conversation.id


async def check_update_group(
    session: AsyncSession,
    rt: Runtime,
    principal: Principal,
    conversation_id: int,
    body: GroupUpdate,
) -> None:
    conversation, _member = await _manageable(session, principal, conversation_id)
    before = {"name": conversation.name, "announcement": conversation.announcement}
    notices = []
    if body.name is not None and body.name.strip() != conversation.name:
        name = body.name.strip()
        if not name:
            raise InvalidInput.on("name", _("请填写群名称"))
        conversation.name = await words.clean_text(session, name, "name")
        notices.append(
            str(_("{who} 将群名称改为“{name}”", who=principal.name, name=conversation.name))
        )
    if body.announcement is not None and body.announcement.strip() != conversation.announcement:
        text = body.announcement.strip()
        conversation.announcement = await words.clean_text(session, text, "announcement")
        notices.append(str(_("{who} 更新了群公告", who=principal.name)))
    if not notices:
        return
    audit.record(
        session,
        "messaging.im.group.update",
        "msg_im_conversation",
        conversation.id,
        before=before,
        after={"name": conversation.name, "announcement": conversation.announcement},
    )
    for notice in notices:
        await system_message(session, rt, conversation.id, notice)
    await _changed(session, rt, conversation.id, "updated")


async def check_invite(
    session: AsyncSession, rt: Runtime, principal: Principal, conversation_id: int, ids: list[int]
) -> list[int]:
    conversation, _member = await _manageable(session, principal, conversation_id)
    _not_automatic(conversation)
    people = await _check_people(session, ids, "members")
    if await _count(session, conversation.id) + len(people) > GROUP_MAX_MEMBERS:
        raise InvalidInput.on("members", _("群成员不能超过 {n} 人", n=GROUP_MAX_MEMBERS))
    added = await _add_members(session, conversation, people)
    if added:
        audit.record(
            session,
            "messaging.im.group.invite",
            "msg_im_conversation",
            conversation.id,
            after={"added": added},
        )
        who = await _names(session, added)
        await system_message(
            session,
            rt,
            conversation.id,
            str(_("{who} 邀请 {whom} 加入了群聊", who=principal.name, whom=who)),
        )
        await _changed(session, rt, conversation.id, "invited", added)
    return added


async def check_remove(
    session: AsyncSession, rt: Runtime, principal: Principal, conversation_id: int, person_id: int
) -> None:
    """Remove a member (owner: anyone; admin: ordinary members), or leave when it is oneself."""
    if person_id == principal.person_id:
        await check_leave(session, rt, principal, conversation_id)
        return
    conversation, me = await _manageable(session, principal, conversation_id)
    _not_automatic(conversation)
    target = await session.get(Member, (conversation_id, person_id))
    if target is None:
        raise InvalidInput.on("person_id", _("此人不在群中"))
    if target.role != "member" and me.role != "owner":
        raise Forbidden(_("只有群主可以移除管理员"))
    await session.delete(target)
    await session.flush()
    audit.record(
        session,
        "messaging.im.group.remove",
        "msg_im_conversation",
        conversation_id,
        after={"removed": person_id},
    )
    who = await _names(session, [person_id])
    await system_message(
        session,
        rt,
        conversation_id,
        str(_("{who} 将 {whom} 移出了群聊", who=principal.name, whom=who)),
    )
    await _changed(session, rt, conversation_id, "removed", [person_id], also=[person_id])


async def check_leave(
    session: AsyncSession, rt: Runtime, principal: Principal, conversation_id: int
) -> None:
    conversation, me = await access_conversation(session, conversation_id, principal.person_id)
    if conversation.kind == "direct":
        raise Conflict(_("单聊不能退出"))
    _not_automatic(conversation)
    await session.delete(me)
    await session.flush()
    remaining = (
        await session.scalars(
            select(Member)
            .where(Member.conversation_id == conversation_id)
            .order_by(Member.role, Member.joined_at, Member.person_id)
        )
    ).all()
    if not remaining:
        conversation.dissolved_at = clock.now()
    elif me.role == "owner":
        # The owner's seat passes to an admin if there is one, else to the longest member.
        heir = next((m for m in remaining if m.role == "admin"), remaining[0])
        heir.role = "owner"
        conversation.owner_id = heir.person_id
    audit.record(session, "messaging.im.group.leave", "msg_im_conversation", conversation_id)
    if remaining:
        await system_message(
            session, rt, conversation_id, str(_("{who} 退出了群聊", who=principal.name))
        )
    await _changed(
        session, rt, conversation_id, "left", [principal.person_id], also=[principal.person_id]
    )


async def check_set_role(
    session: AsyncSession,
    rt: Runtime,
    principal: Principal,
    conversation_id: int,
    person_id: int,
    role: str,
) -> None:
    conversation, me = await _manageable(session, principal, conversation_id)
    if me.role != "owner":
        raise Forbidden(_("只有群主可以设置管理员"))
    target = await session.get(Member, (conversation_id, person_id))
    if target is None:
        raise InvalidInput.on("person_id", _("此人不在群中"))
    if target.role == "owner":
        raise Conflict.on("person_id", _("不能更改群主的角色"))
    if target.role == role:
        return
    target.role = role
    audit.record(
        session,
        "messaging.im.group.role",
        "msg_im_conversation",
        conversation.id,
        after={"person_id": person_id, "role": role},
    )
    await _changed(session, rt, conversation.id, "role", [person_id])


async def check_dissolve(
    session: AsyncSession, rt: Runtime, principal: Principal, conversation_id: int
) -> None:
    conversation, me = await _manageable(session, principal, conversation_id)
    _not_automatic(conversation)
    if me.role != "owner":
        raise Forbidden(_("只有群主可以解散群聊"))
    everyone = await member_ids(session, conversation_id)
    conversation.dissolved_at = clock.now()
    audit.record(session, "messaging.im.group.dissolve", "msg_im_conversation", conversation_id)
    await _changed(session, rt, conversation_id, "dissolved", everyone)


# ---------------------------------------------------------------- automatic groups


async def sync_auto_group(
    session: AsyncSession,
    rt: Runtime | None,
    *,
    source_key: str,
    kind: str,
    name: str,
    member_ids_wanted: Sequence[int],
    admin_ids: Sequence[int] = (),
    active: bool = True,
) -> int | None:
    """Make the group mirroring ``source_key`` (``class:12``…) hold exactly these people, the
    admins first (the first admin owns it). Returns its id (None when there is nothing to
    keep). Idempotent: run it again with the same roster and nothing changes."""
    conversation = await session.scalar(
        select(Conversation).where(Conversation.source_key == source_key)
    )
    wanted = list(dict.fromkeys([*admin_ids, *member_ids_wanted]))
    if not active or not wanted:
        if conversation is not None and conversation.dissolved_at is None:
            conversation.dissolved_at = clock.now()
            if rt is not None:
                await _changed(session, rt, conversation.id, "dissolved")
        return None if conversation is None else conversation.id
    if conversation is None:
        conversation = await _create_auto(session, source_key, kind, name)
    conversation.dissolved_at = None
    conversation.name = name[:60]
    conversation.owner_id = admin_ids[0] if admin_ids else None
    present = {
        m.person_id: m
        for m in (
            await session.scalars(select(Member).where(Member.conversation_id == conversation.id))
        ).all()
    }
    gone = [pid for pid in present if pid not in set(wanted)]
    if gone:
        await session.execute(
            delete(Member).where(
                Member.conversation_id == conversation.id, Member.person_id.in_(gone)
            )
        )
    roles = {pid: ("owner" if i == 0 else "admin") for i, pid in enumerate(admin_ids)}
    for pid, member in present.items():
        if pid not in gone:
            member.role = roles.get(pid, "member")
    new = [pid for pid in wanted if pid not in present]
    now = clock.now()
    session.add_all(
        Member(
            conversation_id=conversation.id,
            person_id=pid,
            role=roles.get(pid, "member"),
            joined_seq=conversation.last_seq,
            read_seq=conversation.last_seq,
            joined_at=now,
        )
        for pid in new
    )
    await session.flush()
    if rt is not None and (new or gone):
        await _changed(session, rt, conversation.id, "roster", [*new, *gone], also=gone)
    return conversation.id


async def _create_auto(
    session: AsyncSession, source_key: str, kind: str, name: str
) -> Conversation:
    try:
        async with session.begin_nested():
            conversation = Conversation(
                kind=kind, name=name[:60], source_key=source_key, last_seq=0, created_at=clock.now()
            )
            session.add(conversation)
            await session.flush()
            return conversation
    except IntegrityError:
        found = await session.scalar(
            select(Conversation).where(Conversation.source_key == source_key)
        )
        if found is None:
            raise
        return found


async def sync_class_group(session: AsyncSession, rt: Runtime | None, class_id: int) -> int | None:
    """The class's group: its active people and its counselors (admins)."""
    found = await users.get_class(session, class_id)
    if found is None:
        return await sync_auto_group(
            session,
            rt,
            source_key=f"class:{class_id}",
            kind="class",
            name="",
            member_ids_wanted=[],
            active=False,
        )
    members = await users.members_of_class(session, class_id)
    counselors = await users.counselors_of_class(session, class_id)
    return await sync_auto_group(
        session,
        rt,
        source_key=f"class:{class_id}",
        kind="class",
        name=str(_("{name} 班级群", name=found.name)),
        member_ids_wanted=[m.id for m in members],
        admin_ids=[c.id for c in counselors],
    )


async def class_groups_of(session: AsyncSession, person_id: int) -> list[int]:
    """The class ids whose groups the person is in."""
    rows = await session.scalars(
        select(Conversation.source_key)
        .join(Member, Member.conversation_id == Conversation.id)
        .where(Member.person_id == person_id, Conversation.kind == "class")
    )
    return [int(key.split(":", 1)[1]) for key in rows.all() if key]


async def resync_person(session: AsyncSession, rt: Runtime | None, person_id: int) -> None:
    """After a person's class or status changed: the groups they were in and the class they
    are in now."""
    person = await users.get_person_ref(session, person_id)
    classes = set(await class_groups_of(session, person_id))
    if person is not None and person.class_id is not None:
        classes.add(person.class_id)
    for class_id in sorted(classes):
        await sync_class_group(session, rt, class_id)
