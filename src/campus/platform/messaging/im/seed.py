"""Chats' part of the demo university: a few sensitive words, one group per class (its students
and counselors), and some conversations of the demo student — with their counselor, a
classmate, a study group, and a notice in their class group — partly unread.

Deterministic and quick: class groups are rosters only; a few dozen messages in all."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.seeding import SeedContext
from campus.platform.messaging.im import actions, group_actions
from campus.platform.messaging.im.models import Conversation, Member
from campus.platform.messaging.moderation import actions as moderation
from campus.platform.users import service as users

BLOCK_WORDS = ["代考", "替考", "办假证", "刷单返利", "校园贷"]
MASK_WORDS = ["傻瓜", "白痴", "垃圾人"]


async def seed(ctx: SeedContext) -> None:
    rt = ctx.runtime
    async with rt.db.transaction() as session:
        await moderation.do_add_words(session, None, BLOCK_WORDS, "block", announce=False)
        await moderation.do_add_words(session, None, MASK_WORDS, "mask", announce=False)
        for found in await users.list_classes(session):
            await group_actions.sync_class_group(session, None, found.id)
    async with rt.db.transaction() as session:
        await _demo_conversations(session, ctx)


async def _person(session: AsyncSession, ctx: SeedContext, role: str) -> int | None:
    login = next((x for x in ctx.logins if x.role == role), None)
    if login is None:
        return None
    found = await users.find_person_by_login(session, login.login)
    return None if found is None else found.id


async def _say(
    session: AsyncSession,
    conversation_id: int,
    lines: list[tuple[int, str]],
    *,
    minutes_ago: int,
    mention_all: bool = False,
) -> None:
    """Store the lines as sent a while ago, a minute apart; each sender has read up to their
    own line."""
    start = clock.now() - timedelta(minutes=minutes_ago)
    for index, (sender, text) in enumerate(lines):
        message = await actions.store(
            session,
            conversation_id,
            sender_id=sender,
            kind="text",
            body=text,
            mention_all=mention_all and index == 0,
        )
        message.created_at = start + timedelta(minutes=index)
        await session.execute(
            update(Member)
            .where(Member.conversation_id == conversation_id, Member.person_id == sender)
            .values(read_seq=message.seq)
        )
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_message_at=start + timedelta(minutes=len(lines) - 1))
    )
    await session.flush()


async def _demo_conversations(session: AsyncSession, ctx: SeedContext) -> None:
    student = await _person(session, ctx, "student")
    counselor = await _person(session, ctx, "counselor")
    teacher = await _person(session, ctx, "teacher")
    if student is None or counselor is None:
        return
    me = await users.get_person_ref(session, student)
    classmates = []
    if me is not None and me.class_id is not None:
        classmates = [
            p.id for p in await users.members_of_class(session, me.class_id) if p.id != student
        ]
    rng = ctx.rng("messaging.im")
    buddies = rng.sample(classmates, min(3, len(classmates)))

    chat, _m = await actions.open_direct(session, student, counselor)
    await _say(
        session,
        chat.id,
        [
            (counselor, "同学你好，本周五下午三点在教学楼 A201 开班会，记得准时参加。"),
            (student, "好的老师，收到！"),
            (counselor, "另外奖学金申请材料下周一前交到学院办公室 👍"),
        ],
        minutes_ago=90,
    )
    if buddies:
        chat, _m = await actions.open_direct(session, student, buddies[0])
        await _say(
            session,
            chat.id,
            [
                (buddies[0], "明天图书馆一起复习高数吗？"),
                (student, "好呀，八点半门口见 😄"),
                (buddies[0], "那我占座，带上上次的笔记"),
            ],
            minutes_ago=30,
        )
    if len(buddies) >= 2:
        group = Conversation(
            kind="group",
            name="课程设计小组",
            owner_id=student,
            last_seq=0,
            created_by=student,
            created_at=clock.now() - timedelta(days=2),
        )
        session.add(group)
        await session.flush()
        people = [student, *buddies, *([teacher] if teacher else [])]
        for index, pid in enumerate(people):
            session.add(
                Member(
                    conversation_id=group.id,
                    person_id=pid,
                    role="owner" if index == 0 else "member",
                    joined_at=group.created_at,
                )
            )
        await session.flush()
        lines = [
            (student, "大家好，课程设计的选题定为“校园二手交易平台”，有意见吗？"),
            (buddies[0], "可以，我来做数据库设计"),
            (buddies[1], "我负责前端页面"),
        ]
        if teacher:
            lines.append((teacher, "选题不错，下周交开题报告，注意分工写清楚。"))
        await _say(session, group.id, lines, minutes_ago=300)
    if me is not None and me.class_id is not None:
        class_group = await group_actions.sync_class_group(session, None, me.class_id)
        if class_group is not None:
            await _say(
                session,
                class_group,
                [(counselor, "@所有人 请大家本周内在系统里完成学期注册，有问题私聊我。")],
                minutes_ago=600,
                mention_all=True,
            )
