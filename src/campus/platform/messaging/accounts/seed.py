"""Subscription push's part of the demo university: six service accounts — 教务处 (mandatory for
every student), 图书馆, 后勤服务, 学生工作部, the demo college (mandatory for its undergraduates)
and 校团委 — with a few posts each, subscribers and unique readers.

Deterministic (the module's own random source) and small at every scale: at most a few hundred
subscription and read rows per account. The posts are history (published days ago), so they are
written as published rows without live frames or Web Push events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.seeding import SeedContext
from campus.platform.messaging.accounts import actions, webpush
from campus.platform.messaging.accounts.models import Account, Post, PostRead, Subscription
from campus.platform.messaging.accounts.queries import editor_ids
from campus.platform.messaging.accounts.rules import BulkRules
from campus.platform.messaging.accounts.schemas import AccountCreate, AudienceRule
from campus.platform.users import service as users

STUDENTS = ["undergraduate", "postgraduate"]
SUBSCRIBERS_PER_ACCOUNT = 200
READERS_PER_POST = (15, 160)
SAMPLE = 3000  # people drawn once, from whom subscribers and readers are chosen


@dataclass(frozen=True)
class DemoPost:
    title: str
    summary: str
    body: str
    days_ago: float


@dataclass(frozen=True)
class DemoAccount:
    code: str
    name: str
    category: str
    icon: str
    unit_code: str
    description: str
    audience_types: list[str] = field(default_factory=list)
    audience_own_unit: bool = False
    mandatory_types: list[str] | None = None
    mandatory_own_unit: bool = False
    editor_logins: tuple[str, ...] = ()
    follower_logins: tuple[str, ...] = ()  # demo logins who follow it of their own accord
    posts: tuple[DemoPost, ...] = ()


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "jwc",
        "教务处",
        "academic",
        "school",
        "803",
        "选课、考试、成绩、学籍与教学安排的权威发布。全体学生必选。",
        mandatory_types=STUDENTS,
        editor_logins=("staff",),
        posts=(
            DemoPost(
                "关于 2025-2026 学年第二学期选课的通知",
                "第一轮选课 2 月 24 日 9:00 开始，请在教务系统中完成选课。",
                "## 选课安排\n\n| 轮次 | 时间 | 说明 |\n| --- | --- | --- |\n"
                "| 第一轮 | 2 月 24 日 9:00 – 2 月 26 日 17:00 | 按志愿抽签 |\n"
                "| 第二轮 | 2 月 28 日 9:00 – 3 月 2 日 17:00 | 先到先得 |\n\n"
                "请同学们**提前核对培养方案**，避免漏选必修课。选课结果以教务系统为准。",
                20,
            ),
            DemoPost(
                "期末考试安排已发布",
                "请登录教务系统查看个人考试安排，考试时请携带学生证和身份证。",
                "各位同学：\n\n本学期期末考试安排已发布，请登录教务系统查看。\n\n"
                "1. 考试时携带学生证和身份证；\n2. 提前 15 分钟进入考场；\n"
                "3. 严禁携带手机等通讯工具进入考场。\n\n预祝大家取得好成绩！",
                9,
            ),
            DemoPost(
                "2026 年大学英语四六级考试报名提醒",
                "报名时间为 3 月 10 日至 3 月 20 日，逾期不再补报。",
                "报名网址以全国大学英语四六级考试网站为准。首次报名的同学请按学校规定完成资格审核。",
                2,
            ),
        ),
    ),
    DemoAccount(
        "library",
        "图书馆",
        "service",
        "book",
        "814",
        "开馆时间、新书推荐、讲座与数据库试用。",
        follower_logins=("student", "teacher"),
        posts=(
            DemoPost(
                "寒假期间开馆时间调整",
                "1 月 15 日至 2 月 20 日，总馆开放时间为 9:00–17:00。",
                "寒假期间总馆一、二楼阅览室开放，自习室暂停开放。电子资源校外访问不受影响。",
                30,
            ),
            DemoPost(
                "新书推荐｜人工智能与社会",
                "本月新到图书 320 种，精选 10 种推荐给大家。",
                "本月新书已上架二楼新书展示区，欢迎借阅。\n\n- 《人工智能导论》\n- 《数据之美》\n"
                "- 《算法的力量》",
                12,
            ),
            DemoPost(
                "“知网研学”数据库开通试用",
                "试用期至 6 月 30 日，欢迎师生使用并反馈意见。",
                "试用期间可通过图书馆主页“数据库”栏目访问，校外请使用 VPN。",
                4,
            ),
        ),
    ),
    DemoAccount(
        "logistics",
        "后勤服务",
        "service",
        "tools-kitchen-2",
        "810",
        "食堂、宿舍维修、水电与校园环境服务。",
        posts=(
            DemoPost(
                "第二食堂二楼装修完成，3 月 1 日恢复营业",
                "新增清真窗口和自选快餐，欢迎同学们品尝。",
                "装修期间给大家带来不便，敬请谅解。恢复营业首周部分菜品八折优惠。",
                16,
            ),
            DemoPost(
                "东区宿舍停水通知",
                "因管网维修，3 月 8 日 8:00–14:00 东区 1–6 栋停水。",
                "请同学们提前储水。如遇紧急情况请拨打后勤服务热线。",
                6,
            ),
        ),
    ),
    DemoAccount(
        "xgb",
        "学生工作部",
        "student",
        "users-group",
        "804",
        "奖助学金、心理健康、资助与学生事务。",
        audience_types=STUDENTS,
        posts=(
            DemoPost(
                "国家励志奖学金评审工作启动",
                "请符合条件的同学于 10 月 15 日前向学院提交申请材料。",
                "## 申请条件\n\n1. 家庭经济困难；\n2. 学习成绩优秀；\n3. 无违纪处分。\n\n"
                "详见各学院通知。",
                25,
            ),
            DemoPost(
                "心理健康月系列活动",
                "讲座、团体辅导与一对一咨询，欢迎报名参加。",
                "心理健康教育中心本月推出系列活动，报名请关注各学院通知。",
                8,
            ),
        ),
    ),
    DemoAccount(
        "cs",
        "计算机科学与技术学院",
        "college",
        "cpu",
        "12",
        "学院新闻、学术讲座、竞赛与实习信息。本院本科生必选。",
        audience_own_unit=True,
        mandatory_types=["undergraduate"],
        mandatory_own_unit=True,
        editor_logins=("teacher", "counselor"),
        posts=(
            DemoPost(
                "学术讲座：大模型时代的软件工程",
                "周四 14:30，学院报告厅，欢迎师生参加。",
                "主讲人为校外知名专家。讲座后设有问答环节。",
                11,
            ),
            DemoPost(
                "ACM 程序设计竞赛校内选拔赛报名",
                "报名截止 4 月 5 日，组队或个人均可。",
                "选拔赛成绩优秀者将代表学校参加区域赛，学院提供集训支持。",
                3,
            ),
            DemoPost(
                "暑期企业实习岗位汇总",
                "20 余家合作企业提供 150 个实习岗位。",
                "岗位清单见附件（示例数据中未附文件），有意者请向辅导员报名。",
                1,
            ),
        ),
    ),
    DemoAccount(
        "youth",
        "校团委",
        "youth",
        "flag",
        "801",
        "团学活动、志愿服务与社团信息。",
        audience_types=STUDENTS,
        posts=(
            DemoPost(
                "“青春志愿行”春季志愿服务招募",
                "社区服务、支教、环保等 12 个项目，现已开放报名。",
                "志愿服务时长将记入第二课堂成绩单。",
                14,
            ),
            DemoPost(
                "校园十佳歌手大赛海选开始",
                "3 月 20 日前报名，海选在大学生活动中心举行。",
                "欢迎热爱唱歌的同学报名参加！",
                5,
            ),
        ),
    ),
)


async def seed(ctx: SeedContext) -> None:
    rng = ctx.rng("messaging.accounts")
    logins = {login.role: login.login for login in ctx.logins}
    async with ctx.runtime.db.transaction() as session:
        if await session.scalar(select(Account.id).limit(1)) is not None:
            return  # seeded already
        await webpush.ensure_key(session)
        sample = await _sample_people(session, rng)
        creator = Principal(person_id=0, name="seed", login="seed")
        for demo in ACCOUNTS:
            account_id = await _create(session, creator, demo, logins)
            if account_id is not None:
                followers = [await _person_id(session, logins, r) for r in demo.follower_logins]
                await _fill(session, rng, account_id, demo, sample, [f for f in followers if f])


async def _person_id(session: AsyncSession, logins: dict[str, str], role: str) -> int | None:
    person = await users.find_person_by_login(session, logins[role]) if role in logins else None
    return None if person is None else person.id


async def _sample_people(session: AsyncSession, rng: random.Random) -> list[int]:
    everyone = await users.all_person_ids(session)
    return sorted(rng.sample(everyone, min(SAMPLE, len(everyone))))


def _rule(types: list[str] | None, own_unit: bool, unit_id: int) -> AudienceRule | None:
    if types is None:
        return None
    return AudienceRule(person_types=types, org_unit_ids=[unit_id] if own_unit else [])


async def _create(
    session: AsyncSession, creator: Principal, demo: DemoAccount, logins: dict[str, str]
) -> int | None:
    unit = await users.find_org_unit_by_code(session, demo.unit_code)
    if unit is None:
        return None
    editors = []
    for role in demo.editor_logins:
        person_id = await _person_id(session, logins, role)
        if person_id is not None:
            editors.append(person_id)
    editors += [h.id for h in await users.holders_of(session, "head", org_unit_id=unit.id)]
    body = AccountCreate(
        code=demo.code,
        name=demo.name,
        description=demo.description,
        category=demo.category,
        icon=demo.icon,
        org_unit_id=unit.id,
        audience=_rule(demo.audience_types, demo.audience_own_unit, unit.id) or AudienceRule(),
        mandatory=_rule(demo.mandatory_types, demo.mandatory_own_unit, unit.id),
        editor_ids=list(dict.fromkeys(editors)),
    )
    account_id = await actions.do_create_account(session, creator, body, body.editor_ids, None)
    account = await session.get(Account, account_id)
    assert account is not None
    account.created_by = None  # made by the seed, not by a person
    return account_id


async def _fill(
    session: AsyncSession,
    rng: random.Random,
    account_id: int,
    demo: DemoAccount,
    sample: list[int],
    chosen: list[int],
) -> None:
    account = await session.get(Account, account_id)
    assert account is not None
    rules = BulkRules()
    audience = sorted(
        await rules.covered(session, AudienceRule.model_validate(account.audience), sample)
    )
    subscribers = rng.sample(audience, min(SUBSCRIBERS_PER_ACCOUNT, len(audience) // 4))
    subscribers = sorted(set(subscribers) | set(chosen))
    now = clock.now()
    for person_id in subscribers:
        session.add(
            Subscription(
                account_id=account_id,
                person_id=person_id,
                subscribed_at=now - timedelta(days=40 + rng.random() * 100),
            )
        )
    mandatory = (
        sorted(await rules.covered(session, AudienceRule.model_validate(account.mandatory), sample))
        if account.mandatory
        else []
    )
    followers = sorted(set(subscribers) | set(mandatory))
    author = (await _first_editor(session, account_id)) or 0
    for demo_post in demo.posts:
        published = now - timedelta(days=demo_post.days_ago)
        post = Post(
            account_id=account_id,
            title=demo_post.title,
            summary=demo_post.summary,
            body=demo_post.body,
            attachments=[],
            status="published",
            published_at=published,
            author_id=author,
            read_count=0,
            like_count=0,
            created_at=published,
            updated_at=published,
        )
        session.add(post)
        await session.flush()
        _add_reads(session, rng, post, followers, now)


def _add_reads(
    session: AsyncSession, rng: random.Random, post: Post, followers: list[int], now: datetime
) -> None:
    assert post.published_at is not None
    count = min(len(followers), rng.randint(*READERS_PER_POST))
    span = max(60.0, (now - post.published_at).total_seconds())
    for person_id in rng.sample(followers, count):
        # Most people read a post within the first two days.
        delay = min(span, rng.expovariate(1 / 40000))
        session.add(
            PostRead(
                post_id=post.id,
                person_id=person_id,
                read_at=post.published_at + timedelta(seconds=delay),
            )
        )
    post.read_count = count
    post.like_count = count // 7


async def _first_editor(session: AsyncSession, account_id: int) -> int | None:
    ids = await editor_ids(session, account_id)
    return ids[0] if ids else None
