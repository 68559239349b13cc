"""Built-in roles of the demo university, and the roles of its demo logins."""

from __future__ import annotations

from campus.kernel.seeding import SeedContext
from campus.platform.access import actions
from campus.platform.users import service as users

# role code -> (name, permission codes); "*" grants every code.
BUILTIN_ROLES: dict[str, tuple[str, list[str]]] = {
    "admin": ("系统管理员", ["*"]),
    "user_admin": (
        "用户中心管理员",
        [
            "users.person.read",
            "users.person.manage",
            "users.person.sensitive",
            "users.org.read",
            "users.org.manage",
        ],
    ),
    "staff": ("教职工", ["users.person.read", "users.org.read"]),
    "teacher": ("教师", ["users.person.read", "users.org.read"]),
    "counselor": ("辅导员", ["users.person.read", "users.org.read"]),
    "student": ("学生", []),
}


async def seed(ctx: SeedContext) -> None:
    async with ctx.runtime.db.transaction() as session:
        for code, (name, permissions) in BUILTIN_ROLES.items():
            await actions.do_ensure_role(session, code, name, permissions)
        for login in ctx.logins:
            if login.role not in BUILTIN_ROLES:
                continue
            person = await users.find_person_by_login(session, login.login)
            if person is not None:
                await actions.do_grant(session, ctx.runtime.cache, person.id, login.role)
