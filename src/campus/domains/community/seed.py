"""The community's part of the demo university: six boards with their moderators, and a
realistic handful of posts per board (二手 with prices, 失物招领 with places and times, 活动
with dates, some anonymous 求助 and 校园生活 posts), comments with replies, likes, views,
follows of the demo student, and one report waiting in the moderation queue.

Deterministic (the module's own random source, Faker zh_CN seeded from it) and written through
the module's ``do_*`` actions; sized by the scale: posts per board 6 (small), 12, 20 (large).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from faker import Faker
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community.boards import actions as board_actions
from campus.domains.community.models import Board, Comment, Post
from campus.domains.community.moderation import actions as moderation_actions
from campus.domains.community.posts import actions as post_actions
from campus.domains.community.schemas import BoardIn
from campus.kernel import clock
from campus.kernel.clock import CHINA
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef

POSTS_PER_BOARD = {"small": 6, "medium": 12, "large": 20}
PRESIDENT_OFFICE = "802"
DEMO_COLLEGE = "12"

BOARDS: list[dict[str, Any]] = [
    {
        "code": "headlines",
        "name": "校园头条",
        "kind": "news",
        "posting": "editors",
        "icon": "news",
        "description": "学校新闻、重要通知与校园动态，由编辑发布",
        "sort_order": 10,
    },
    {
        "code": "market",
        "name": "二手市场",
        "kind": "market",
        "posting": "all",
        "icon": "shopping-cart",
        "description": "闲置转让、求购，校内面交更安心",
        "sort_order": 20,
    },
    {
        "code": "lost-found",
        "name": "失物招领",
        "kind": "lost_found",
        "posting": "all",
        "icon": "zoom-question",
        "description": "丢了东西、捡到东西，都来这里说一声",
        "sort_order": 30,
    },
    {
        "code": "help",
        "name": "求助",
        "kind": "help",
        "posting": "all",
        "icon": "lifebuoy",
        "description": "学习、生活上的问题，同学们来帮忙；可匿名",
        "sort_order": 40,
        "allow_anonymous": True,
    },
    {
        "code": "events",
        "name": "活动",
        "kind": "event",
        "posting": "all",
        "icon": "calendar-event",
        "description": "讲座、比赛、社团招新与各类校园活动",
        "sort_order": 50,
    },
    {
        "code": "life",
        "name": "校园生活",
        "kind": "general",
        "posting": "all",
        "icon": "mood-smile",
        "description": "吃喝玩乐、日常分享、吐槽树洞；可匿名",
        "sort_order": 60,
        "allow_anonymous": True,
    },
]

PLACES = [
    "第一教学楼",
    "第三教学楼 201",
    "图书馆三楼",
    "一食堂",
    "二食堂门口",
    "东区操场",
    "体育馆",
    "学生活动中心",
    "南门快递站",
    "8 号宿舍楼下",
    "实验楼 A 座",
    "校医院",
]

TITLES: dict[str, list[str]] = {
    "headlines": [
        "图书馆考试周将延长开放至晚上 11 点",
        "校园网将于本周日凌晨 2:00–5:00 维护",
        "我校学子在全国大学生数学建模竞赛中获一等奖",
        "二食堂三楼新窗口开始试营业",
        "关于寒假学生离校安全工作的提醒",
        "校运动会开幕式将于下周五举行",
        "东区体育馆完成改造重新开放",
        "新学期校园巴士线路调整说明",
    ],
    "market": [
        "出九成新山地自行车一辆",
        "转让考研数学全套复习资料",
        "毕业清仓：台灯、小风扇、收纳箱",
        "出二手 27 寸显示器",
        "转让吉他一把，附琴包",
        "出 C 语言、数据结构教材",
        "出宿舍用小冰箱",
        "转让羽毛球拍两支",
    ],
    "lost-found": [
        "捡到校园卡一张",
        "丢失黑色双肩包，内有笔记本电脑",
        "捡到一把蓝色雨伞",
        "寻找丢失的钥匙串（带小熊挂件）",
        "捡到 AirPods 耳机盒",
        "丢失学生证，姓李",
        "在自习室捡到一本高数笔记",
        "丢了一个保温杯，灰色",
    ],
    "help": [
        "高数期中复习有没有推荐的资料？",
        "电脑开机蓝屏，求懂行的同学帮忙",
        "请问校医院周末开门吗？",
        "有没有一起去图书馆自习的同学",
        "大二转专业需要准备什么？",
        "宿舍网络总掉线怎么办",
        "四六级报名入口在哪里",
        "求推荐适合新手的编程入门书",
    ],
    "events": [
        "话剧社年度大戏《雷雨》公演",
        "校园歌手大赛开始报名啦",
        "篮球友谊赛：计算机学院 vs 外国语学院",
        "读书会：一起读《平凡的世界》",
        "摄影社外拍活动招募",
        "创新创业讲座：从想法到产品",
        "志愿者招募：社区敬老院探访",
        "周末电影放映《流浪地球》",
    ],
    "life": [
        "今天的晚霞也太美了吧",
        "一食堂的麻辣烫是不是又涨价了",
        "期末周大家都是怎么熬过来的",
        "宿舍楼下的猫又胖了",
        "推荐几家学校附近好吃的店",
        "早八的痛谁懂",
        "今天在图书馆遇到了超好看的书",
        "冬天的第一场雪！",
    ],
}

BODIES: dict[str, list[str]] = {
    "headlines": [
        "详情请关注学校官网通知。如有疑问，请联系相关部门。\n感谢大家的理解与支持！",
        "具体安排如下，请同学们相互转告。\n更多信息见 https://www.example.edu.cn/news",
    ],
    "market": [
        "成色如图，价格可小刷，校内面交。\n有意请留言或私信。",
        "毕业带不走，便宜出，自提优先。周末都在宿舍。",
    ],
    "lost-found": ["请失主带好证件来认领，或私信我。", "如有同学捡到，麻烦联系我，必有重谢！"],
    "help": ["先谢谢大家了！", "试了好几种办法都不行，求指点。", "在线等，挺急的。"],
    "events": [
        "欢迎大家前来参加！名额有限，先到先得。",
        "现场还有小礼品，记得带上好心情～\n报名请在评论区留言。",
    ],
    "life": ["随手一拍，分享给大家。", "有没有同感的？", "大家怎么看？"],
}

COMMENTS = [
    "顶一个！",
    "谢谢分享",
    "请问还在吗？",
    "已私信",
    "同问",
    "太棒了",
    "mark 一下",
    "我也遇到过，建议去信息中心问问",
    "周末可以面交吗？",
    "支持！",
    "楼主好人",
    "请问具体在哪里？",
    "我去过，推荐",
    "哈哈哈哈",
    "求更新",
]
REPLIES = ["谢谢！", "已回复你了", "对，就是那里", "好的好的", "可以的", "同感"]


@dataclass
class Cast:
    student: PersonRef | None
    teacher: PersonRef | None
    counselor: PersonRef | None
    staff: PersonRef | None
    office_head: PersonRef | None
    people: list[int]  # everyone the demo may write as


async def _cast(session: AsyncSession, ctx: SeedContext, rng: random.Random) -> Cast:
    found: dict[str, PersonRef | None] = {}
    for role in ("student", "teacher", "counselor", "staff"):
        login = next((x.login for x in ctx.logins if x.role == role), None)
        found[role] = await users.find_person_by_login(session, login) if login else None
    office = await users.find_org_unit_by_code(session, PRESIDENT_OFFICE)
    heads = await users.holders_of(session, "head", org_unit_id=office.id) if office else []
    everyone = await users.all_person_ids(session)
    sample = rng.sample(everyone, min(len(everyone), 300))
    return Cast(
        student=found["student"],
        teacher=found["teacher"],
        counselor=found["counselor"],
        staff=found["staff"],
        office_head=heads[0] if heads else None,
        people=sample,
    )


def _moderators(cast: Cast) -> dict[str, list[PersonRef | None]]:
    return {
        "headlines": [cast.staff, cast.office_head],
        "market": [cast.teacher],
        "lost-found": [cast.counselor],
        "help": [cast.counselor],
        "events": [cast.staff],
        "life": [cast.counselor],
    }


async def seed(ctx: SeedContext) -> None:
    rng = ctx.rng("community")
    fake = Faker("zh_CN")
    fake.seed_instance(rng.randrange(1 << 30))
    async with ctx.runtime.db.transaction() as session:
        if await session.scalar(select(Board.id).limit(1)) is not None:
            return  # seeded already
        cast = await _cast(session, ctx, rng)
        if not cast.people:
            return
        boards = await _boards(session, cast)
        now = clock.now()
        posts: list[Post] = []
        for board in boards:
            posts += await _posts(session, board, cast, rng, fake, now, POSTS_PER_BOARD[ctx.scale])
        for post in posts:
            await _engage(session, post, cast, rng, now)
        await _follows(session, cast, posts)
        life = next(b.id for b in boards if b.code == "life")
        await _report(session, cast, [p for p in posts if p.board_id == life], rng)


async def _boards(session: AsyncSession, cast: Cast) -> list[Board]:
    moderators = _moderators(cast)
    boards = []
    for spec in BOARDS:
        board_id = await board_actions.do_create_board(session, BoardIn(**spec))
        board = await session.get(Board, board_id)
        assert board is not None
        ids = [p.id for p in moderators[spec["code"]] if p is not None]
        await board_actions.do_set_moderators(session, board, list(dict.fromkeys(ids)))
        boards.append(board)
    return boards


def _extra(kind: str, rng: random.Random, now: datetime) -> dict[str, Any] | None:
    if kind == "market":
        return {
            "price": float(rng.choice([15, 20, 35, 50, 80, 120, 200, 350, 600])),
            "condition": rng.choice(["new", "like_new", "good", "fair"]),
        }
    if kind == "lost_found":
        at = (
            (now - timedelta(hours=rng.randint(2, 96)))
            .astimezone(CHINA)
            .replace(second=0, microsecond=0)
        )
        return {
            "type": rng.choice(["lost", "found"]),
            "place": rng.choice(PLACES),
            "time": at.isoformat(),
        }
    if kind == "event":
        starts = (now + timedelta(days=rng.randint(1, 20))).astimezone(CHINA)
        starts = starts.replace(hour=rng.choice([14, 15, 19]), minute=0, second=0, microsecond=0)
        ends = starts + timedelta(hours=2)
        return {
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
            "place": rng.choice(PLACES),
        }
    return None


def _author(board: Board, cast: Cast, rng: random.Random, index: int) -> int:
    if board.code == "headlines":
        editors = [p.id for p in (cast.staff, cast.office_head) if p is not None]
        return rng.choice(editors) if editors else rng.choice(cast.people)
    if index == 0 and cast.student is not None and board.code in ("market", "help", "life"):
        return cast.student.id  # the demo student's own posts, for 我的帖子
    return rng.choice(cast.people)


async def _posts(
    session: AsyncSession,
    board: Board,
    cast: Cast,
    rng: random.Random,
    fake: Faker,
    now: datetime,
    count: int,
) -> list[Post]:
    titles = TITLES[board.code]
    made = []
    for index in range(count):
        title = titles[index % len(titles)]
        if index >= len(titles):
            title = f"{title}（{fake.city_name()}）"
        at = now - timedelta(hours=rng.uniform(0.5, 240))
        post_id = await post_actions.do_create_post(
            session,
            author_id=_author(board, cast, rng, index),
            board_id=board.id,
            title=title[:60],
            body=rng.choice(BODIES[board.code]),
            picture_ids=[],
            anonymous=board.allow_anonymous and rng.random() < 0.4,
            extra=_extra(board.kind, rng, now),
            at=at,
        )
        post = await session.get(Post, post_id)
        assert post is not None
        made.append(post)
    return made


async def _engage(
    session: AsyncSession, post: Post, cast: Cast, rng: random.Random, now: datetime
) -> None:
    """Comments (some anonymous where allowed, some with a reply), likes and views."""
    board = await session.get(Board, post.board_id)
    assert board is not None
    span = max(60.0, (now - post.created_at).total_seconds())
    for _n in range(rng.randint(0, 5)):
        at = post.created_at + timedelta(seconds=rng.uniform(30, span))
        comment_id = await post_actions.do_comment(
            session,
            post,
            None,
            author_id=rng.choice(cast.people),
            body=rng.choice(COMMENTS),
            anonymous=board.allow_anonymous and rng.random() < 0.3,
            at=at,
            tell=False,
        )
        if rng.random() < 0.35:
            parent = await session.get(Comment, comment_id)
            await post_actions.do_comment(
                session,
                post,
                parent,
                author_id=post.author_id,
                body=rng.choice(REPLIES),
                anonymous=post.anonymous,
                at=min(now, at + timedelta(minutes=rng.randint(5, 300))),
                tell=False,
            )
    likes = 0
    for liker in rng.sample(cast.people, min(len(cast.people), rng.randint(0, 18))):
        likes = (await post_actions.do_like_post(session, post, liker, True)).like_count
    post.view_count = likes * rng.randint(4, 12) + rng.randint(5, 60)


async def _follows(session: AsyncSession, cast: Cast, posts: list[Post]) -> None:
    """The demo student follows a few named writers, so that 关注 shows something."""
    if cast.student is None:
        return
    named = [p.author_id for p in posts if not p.anonymous and p.author_id != cast.student.id]
    for followee in list(dict.fromkeys(named))[:4]:
        await post_actions.do_follow(session, cast.student.id, followee, True)


async def _report(session: AsyncSession, cast: Cast, life: list[Post], rng: random.Random) -> None:
    """One report waiting in 校园生活's queue (the counselor moderates it)."""
    if not life or cast.teacher is None:
        return
    target = rng.choice(life)
    if target.author_id != cast.teacher.id:
        await moderation_actions.do_report(session, cast.teacher.id, target, None, "疑似广告引流")
