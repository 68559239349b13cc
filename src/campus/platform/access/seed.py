"""Built-in roles of the demo university, and who holds them.

The demo logins keep their roles (admin, user_admin, staff, teacher, counselor, student); the
staff login works at 教务处 and is its registrar too. Counselors, presidents and party
secretaries hold their roles through their posts; a few named people of the demo university
hold the other built-in roles (an academic secretary of the demo college, the heads of 财务处,
后勤保障处, 教务处, 校长办公室, 学生工作处 and 信息化建设与管理中心).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.cache import Cache
from campus.kernel.seeding import SeedContext
from campus.platform.access import actions
from campus.platform.access.registry import Registry, build_registry
from campus.platform.access.scopes import WILDCARD, ScopeKind
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef

PERSON_READ = "users.person.read"
PERSON_MANAGE = "users.person.manage"
PERSON_SENSITIVE = "users.person.sensitive"
ORG_READ = "users.org.read"
ORG_MANAGE = "users.org.manage"
AUDIT_READ = "monitor.audit.read"
ROLE_READ = "access.role.read"
NOTICE_PUBLISH = "oa.notice.publish"
NOTICE_MANAGE = "oa.notice.manage"
MEETING_INVITE_ORG = "oa.meeting.invite_org"
DOCUMENT_DRAFT = "oa.document.draft"
DOCUMENT_SEAL = "oa.document.seal"
DOCUMENT_MANAGE = "oa.document.manage"
NOTIFY_SEND = "messaging.notify.send"  # within the sender's reach
NOTIFY_SEND_ALL = "messaging.notify.send_all"  # the whole campus, and emergencies
NOTIFY_TEMPLATES = "messaging.template.manage"
ACCOUNT_MANAGE = "messaging.account.manage"
MODERATION_MANAGE = "messaging.moderation.manage"
BOARD_MANAGE = "community.board.manage"
COMMUNITY_MODERATE = "community.moderate"  # every board; boards also have moderators of their own
COMMUNITY_EDITOR = "community.editor"  # posts on editors' boards (校园头条)
COURSE_MANAGE = "academic.course.manage"
PROGRAMME_MANAGE = "academic.programme.manage"
OFFERING_MANAGE = "academic.offering.manage"
STATUS_READ = "academic.status.read"
GRADE_REVIEW = "academic.grade.review"
EVALUATION_READ = "academic.evaluation.read"
ACADEMIC_ALL = (
    "academic.calendar.manage",
    "academic.room.manage",
    COURSE_MANAGE,
    PROGRAMME_MANAGE,
    OFFERING_MANAGE,
    STATUS_READ,
    "academic.status.manage",
    "academic.timetable.manage",
    "academic.exam.manage",
    "academic.selection.manage",
    GRADE_REVIEW,
    "academic.grade.publish",
    "academic.evaluation.manage",
    EVALUATION_READ,
)


@dataclass(frozen=True)
class BuiltinRole:
    name: str
    description: str
    codes: tuple[str, ...]


BUILTIN_ROLES: dict[str, BuiltinRole] = {
    "admin": BuiltinRole("系统管理员", "全部权限，全校范围", (WILDCARD,)),
    "school_leader": BuiltinRole(
        "校领导",
        "查看全校人员、组织、审计日志与授权情况；发布全校通知，查看全校公文；向全校发消息",
        (
            PERSON_READ,
            ORG_READ,
            AUDIT_READ,
            ROLE_READ,
            NOTICE_PUBLISH,
            DOCUMENT_MANAGE,
            NOTIFY_SEND,
            NOTIFY_SEND_ALL,
        ),
    ),
    "registrar": BuiltinRole(
        "教务处",
        "全校学籍与人员信息的查看和维护；校历、教室、课程库、培养方案、开课、排课与考试安排；"
        "选课、成绩审核与发布、评教",
        (PERSON_READ, PERSON_MANAGE, ORG_READ, *ACADEMIC_ALL),
    ),
    "academic_secretary": BuiltinRole(
        "教务秘书",
        "查看本学院的人员与组织；维护本学院的课程、培养方案与开课，查看本学院学生学籍；"
        "审核本学院的成绩，查看本学院的评教结果",
        (
            PERSON_READ,
            ORG_READ,
            COURSE_MANAGE,
            PROGRAMME_MANAGE,
            OFFERING_MANAGE,
            STATUS_READ,
            GRADE_REVIEW,
            EVALUATION_READ,
        ),
    ),
    "counselor": BuiltinRole(
        "辅导员",
        "查看所带学院学生的完整信息（含联系方式）；向所带学院、班级发布通知和消息",
        (
            PERSON_READ,
            PERSON_SENSITIVE,
            ORG_READ,
            NOTICE_PUBLISH,
            MEETING_INVITE_ORG,
            NOTIFY_SEND,
        ),
    ),
    "teacher": BuiltinRole("教师", "查看本学院的人员与组织", (PERSON_READ, ORG_READ)),
    "finance": BuiltinRole("财务", "查看缴费人员的基本信息", (PERSON_READ, ORG_READ)),
    "dormitory_manager": BuiltinRole(
        "宿舍管理员", "查看住宿学生的基本信息", (PERSON_READ, ORG_READ)
    ),
    "student": BuiltinRole("学生", "本人信息的自助查看", ()),
    "user_admin": BuiltinRole(
        "用户中心管理员",
        "全校人员与组织机构的维护",
        (PERSON_READ, PERSON_MANAGE, PERSON_SENSITIVE, ORG_READ, ORG_MANAGE),
    ),
    "staff": BuiltinRole(
        "教职工",
        "查看本单位的人员与组织；以本单位名义发通知和消息、拟公文、整体邀请参会",
        (
            PERSON_READ,
            ORG_READ,
            NOTICE_PUBLISH,
            MEETING_INVITE_ORG,
            DOCUMENT_DRAFT,
            NOTIFY_SEND,
        ),
    ),
    "office": BuiltinRole(
        "校办文书",
        "公文用印与分发、发文字号维护；发布和管理全校通知；向全校发消息、维护消息模板；"
        "在校园头条发帖",
        (
            NOTICE_PUBLISH,
            NOTICE_MANAGE,
            MEETING_INVITE_ORG,
            DOCUMENT_DRAFT,
            DOCUMENT_SEAL,
            DOCUMENT_MANAGE,
            NOTIFY_SEND,
            NOTIFY_SEND_ALL,
            NOTIFY_TEMPLATES,
            COMMUNITY_EDITOR,
        ),
    ),
    "workflow_admin": BuiltinRole(
        "流程管理员",
        "设计表单与流程、管理办事大厅、查看办事统计；找不到审批人的节点交由其处理",
        (
            "workflow.process.manage",
            "workflow.service.manage",
            "workflow.form.manage",
            "workflow.form.read",
            "workflow.instance.read_all",
            "workflow.stats.read",
        ),
    ),
    "messaging_admin": BuiltinRole(
        "消息中心管理员",
        "创建服务号并指定编辑与必选人群；维护敏感词、处理举报、设置聊天记录保留期限",
        (ACCOUNT_MANAGE, MODERATION_MANAGE),
    ),
    "community_admin": BuiltinRole(
        "社区管理员",
        "管理校园社区的板块与版主，处理全部板块的举报、隐藏内容与禁言，在编辑板块发帖",
        (BOARD_MANAGE, COMMUNITY_MODERATE, COMMUNITY_EDITOR),
    ),
}

# Demo login role -> the roles its person holds and how far each reaches from their own unit.
LOGIN_GRANTS: dict[str, tuple[tuple[str, ScopeKind], ...]] = {
    "admin": (("admin", ScopeKind.ALL), ("workflow_admin", ScopeKind.ALL)),
    "user_admin": (("user_admin", ScopeKind.ALL),),
    "staff": (("staff", ScopeKind.ORG), ("registrar", ScopeKind.ALL)),
    "teacher": (("teacher", ScopeKind.SUBTREE),),
    "student": (("student", ScopeKind.SELF),),
}

# Kinds of post -> the role every holder has, reaching their post's unit and below (or all).
POSITION_GRANTS: dict[str, tuple[str, ScopeKind]] = {
    "counselor": ("counselor", ScopeKind.SUBTREE),
    "president": ("school_leader", ScopeKind.ALL),
    "party_secretary": ("school_leader", ScopeKind.ALL),
}

# Heads of these offices (codes of the demo university's offices) hold these roles school-wide.
OFFICE_HEAD_ROLES: dict[str, str] = {
    "808": "finance",
    "810": "dormitory_manager",
    "803": "registrar",
    "802": "office",
    "804": "community_admin",  # 学生工作处 keeps the campus community
    "815": "messaging_admin",  # 信息化建设与管理中心 keeps service accounts and moderation
}
SECRETARY_COLLEGE = "12"  # the demo college (of the demo teacher, counselor and student)


def registered_codes(known: Registry, codes: tuple[str, ...]) -> list[str]:
    """The role's codes that the running modules declare (a disabled module's are left out)."""
    return [code for code in codes if code == WILDCARD or code in known]


async def seed(ctx: SeedContext) -> None:
    cache = ctx.runtime.cache
    known = build_registry(ctx.runtime.modules)
    async with ctx.runtime.db.transaction() as session:
        for code, role in BUILTIN_ROLES.items():
            await actions.do_ensure_role(
                session,
                code,
                role.name,
                registered_codes(known, role.codes),
                description=role.description,
            )
        for kind, (role_code, scope) in POSITION_GRANTS.items():
            await actions.do_grant_position(session, cache, kind, role_code, scope=scope)
        await _grant_demo_logins(session, cache, ctx)
        await _grant_office_heads(session, cache)
        await _grant_secretary(session, cache, ctx)


async def _grant_demo_logins(session: AsyncSession, cache: Cache, ctx: SeedContext) -> None:
    for login in ctx.logins:
        person = await users.find_person_by_login(session, login.login)
        if person is None:
            continue
        for role_code, scope in LOGIN_GRANTS.get(login.role, ()):
            await _grant(session, cache, person, role_code, scope)


async def _grant(
    session: AsyncSession, cache: Cache, person: PersonRef, role_code: str, scope: ScopeKind
) -> None:
    anchor = person.org_unit_id if scope in (ScopeKind.ORG, ScopeKind.SUBTREE) else None
    await actions.do_grant(session, cache, person.id, role_code, scope=scope, org_unit_id=anchor)


async def _grant_office_heads(session: AsyncSession, cache: Cache) -> None:
    for office_code, role_code in OFFICE_HEAD_ROLES.items():
        office = await users.find_org_unit_by_code(session, office_code)
        if office is None:
            continue
        for head in await users.holders_of(session, "head", org_unit_id=office.id):
            await _grant(session, cache, head, role_code, ScopeKind.ALL)


async def _grant_secretary(session: AsyncSession, cache: Cache, ctx: SeedContext) -> None:
    """A member of the demo college's faculty who holds no post and no demo login."""
    college = await users.find_org_unit_by_code(session, SECRETARY_COLLEGE)
    if college is None:
        return
    logins = {login.login for login in ctx.logins}
    faculty = await users.members_of_org(session, college.id, person_type="faculty")
    for person in reversed(faculty):
        if person.number in logins or await users.positions_of(session, person.id):
            continue
        await _grant(session, cache, person, "academic_secretary", ScopeKind.SUBTREE)
        return
