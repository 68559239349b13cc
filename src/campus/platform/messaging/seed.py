"""The messaging center's part of the demo university: the built-in templates, notifications of
each kind (campus-wide, students only, to a role, a college, a class, one person; one already
expired), some of them read, and the demo student's channel choices and quiet hours.

Deterministic and small: a few notifications whatever the scale; per-person rows only for the
targeted ones (a class, a college, the counselors).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.seeding import SeedContext
from campus.platform.messaging import actions
from campus.platform.messaging.models import Recipient, Template
from campus.platform.messaging.schemas import (
    BUILTIN_TEMPLATES,
    Audience,
    ChannelChoice,
    NotificationIn,
    PreferencesIn,
    QuietHoursIn,
)
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef

DEMO_COLLEGE = "12"
PRESIDENT_OFFICE = "802"
# Share of a class that has read the counselor's notice (the stats page has something to show).
READ_SHARE = 0.6


async def _person(session: AsyncSession, ctx: SeedContext, role: str) -> PersonRef | None:
    login = next((x for x in ctx.logins if x.role == role), None)
    return None if login is None else await users.find_person_by_login(session, login.login)


async def seed_templates(session: AsyncSession) -> None:
    now = clock.now()
    known = set(await session.scalars(select(Template.code)))
    for code, template in BUILTIN_TEMPLATES.items():
        if code not in known:
            session.add(Template(**template.model_dump(), builtin=True, updated_at=now))


async def _send(session: AsyncSession, ctx: SeedContext, item: NotificationIn) -> int:
    return await actions.notify(session, ctx.runtime, item)


async def _read_some(session: AsyncSession, ctx: SeedContext, notification_id: int) -> None:
    """Mark a share of the recipients read, spread over the hours after sending."""
    rng = ctx.rng("messaging")
    people = list(
        await session.scalars(
            select(Recipient.person_id).where(Recipient.notification_id == notification_id)
        )
    )
    now = clock.now()
    for person_id in people:
        if rng.random() < READ_SHARE:
            minutes = rng.randint(1, 600)
            await session.execute(
                update(Recipient)
                .where(
                    Recipient.notification_id == notification_id,
                    Recipient.person_id == person_id,
                )
                .values(read_at=now + timedelta(minutes=minutes))
            )


async def seed_notifications(session: AsyncSession, ctx: SeedContext) -> None:
    admin = await _person(session, ctx, "admin")
    counselor = await _person(session, ctx, "counselor")
    student = await _person(session, ctx, "student")
    college = await users.find_org_unit_by_code(session, DEMO_COLLEGE)
    later = clock.now() + timedelta(days=30)
    sender = admin.id if admin else None
    await _send(
        session,
        ctx,
        NotificationIn(
            category="system",
            template="system.maintenance",
            variables={"system": "统一身份认证", "time": "本周六 22:00", "duration": "2 小时"},
            priority="important",
            audience=Audience(everyone=True),
            sender_id=sender,
            expires_at=later,
            source="seed:maintenance",
        ),
    )
    await _send(
        session,
        ctx,
        NotificationIn(
            category="academic",
            title="关于做好期末考试复习的提醒",
            body="期末考试将于第 18 周开始，请同学们合理安排复习时间，留意教务系统中的考试安排。",
            audience=Audience(everyone=True, person_types=["student"]),
            sender_id=sender,
            expires_at=later,
            source="seed:exam-reminder",
        ),
    )
    await _send(
        session,
        ctx,
        NotificationIn(
            category="system",
            title="辅导员工作例会",
            body="请各学院辅导员于周三下午 3 点到行政楼 302 参加工作例会。",
            link="/oa/schedule",
            audience=Audience(role_codes=["counselor"]),
            sender_id=sender,
            source="seed:counselor-meeting",
        ),
    )
    if college is not None:
        await _send(
            session,
            ctx,
            NotificationIn(
                category="academic",
                title="学院关于开展教学检查的通知",
                body="学院将于下周开展期中教学检查，请各位老师做好准备。",
                audience=Audience(org_unit_ids=[college.id], person_types=["staff"]),
                sender_id=counselor.id if counselor else sender,
                source="seed:college-check",
            ),
        )
    if student is not None and student.class_id is not None:
        class_notice = await _send(
            session,
            ctx,
            NotificationIn(
                category="academic",
                title="本周五班会通知",
                body="本周五晚 7 点在教学楼 A201 召开主题班会，请全体同学准时参加。",
                audience=Audience(class_ids=[student.class_id]),
                sender_id=counselor.id if counselor else sender,
                source="seed:class-meeting",
            ),
        )
        await _read_some(session, ctx, class_notice)
    if student is not None:
        await _send(
            session,
            ctx,
            NotificationIn(
                category="academic",
                template="academic.exam",
                variables={"course": "高等数学", "time": "1 月 10 日 9:00", "place": "教学楼 B105"},
                priority="important",
                audience=Audience(person_ids=[student.id]),
                sender_id=sender,
                source="seed:exam-student",
            ),
        )
        await actions.do_save_preferences(
            session,
            student.id,
            PreferencesIn(
                channels=[
                    ChannelChoice(category="academic", email=True),
                    ChannelChoice(category="workflow", email=True, wecom=True),
                ],
                quiet_hours=QuietHoursIn(enabled=True, start="22:30", end="07:00"),
            ),
        )


async def seed(ctx: SeedContext) -> None:
    async with ctx.runtime.db.transaction() as session:
        await seed_templates(session)
        await seed_notifications(session, ctx)
