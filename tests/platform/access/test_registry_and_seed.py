"""Registered codes come from the manifests; the demo university's built-in roles use only
registered codes and reach who they should."""

from __future__ import annotations

from campus.entrypoints.http import MODULE_PACKAGES
from campus.kernel.i18n import _
from campus.kernel.manifest import Module, Permission, discover
from campus.kernel.pagination import PageParams
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.access import queries, service
from campus.platform.access.registry import build_registry, problems
from campus.platform.access.seed import BUILTIN_ROLES
from campus.platform.users import service as users


def test_every_module_declares_its_codes_once_and_in_its_own_name_space() -> None:
    assert problems(discover(MODULE_PACKAGES)) == []


def test_problems_are_found() -> None:
    a = Module(
        "alpha",
        _("甲"),
        "campus.platform.access",
        permissions=(Permission("alpha.x.read", _("读")),),
    )
    b = Module(
        "beta",
        _("乙"),
        "campus.platform.access",
        permissions=(Permission("alpha.x.read", _("读")), Permission("gamma.y", _("写"))),
    )
    found = problems([a, b])
    assert "alpha.x.read: declared by alpha and beta" in found
    assert "gamma.y: declared by beta, outside its name" in found
    registry = build_registry([a, b])
    assert registry.by_code["alpha.x.read"].module == "alpha"  # the first declaration wins
    assert [m.name for m, _codes in registry.modules] == ["alpha", "beta"]


def test_registry_holds_the_running_modules_codes(runtime: Runtime) -> None:
    registry = build_registry(runtime.modules)
    declared = {p.code for m in runtime.modules for p in m.permissions}
    assert set(registry.by_code) == declared
    assert registry.title_of("users.person.read") == "查看人员"
    assert registry.title_of("no.such.code") == "no.such.code"


def test_builtin_roles_name_registered_codes(runtime: Runtime) -> None:
    registry = build_registry(runtime.modules)
    for code, role in BUILTIN_ROLES.items():
        unknown = [c for c in role.codes if c != "*" and c not in registry]
        assert not unknown, (code, unknown)
    wanted = {
        "student",
        "teacher",
        "counselor",
        "academic_secretary",
        "registrar",
        "finance",
        "dormitory_manager",
        "admin",
        "school_leader",
    }
    assert wanted <= BUILTIN_ROLES.keys()


async def test_demo_logins_hold_their_roles(db: Runtime, demo: SeedContext) -> None:
    expected = {
        "admin": ["admin", "workflow_admin"],
        "user_admin": ["user_admin"],
        "staff": ["registrar", "staff"],
        "teacher": ["teacher"],
        "counselor": ["counselor"],
        "student": ["student"],
    }
    async with db.db.read() as session:
        for login in demo.logins:
            person = await users.find_person_by_login(session, login.login)
            assert person is not None
            assert await service.roles_of(session, person.id) == expected[login.role], login.role
        admin = await users.find_person_by_login(session, "A0001")
        assert admin is not None
        assert "*" in await service.permissions_of(session, db.cache, admin.id)


async def test_the_other_builtin_roles_are_held_by_people_of_the_demo(db: Runtime) -> None:
    async with db.db.read() as session:
        for code in ("academic_secretary", "finance", "dormitory_manager", "registrar"):
            page = await queries.grants_page(session, queries.GrantFilter(role=code), PageParams())
            assert page.total >= 1, code
        secretary = (
            await queries.grants_page(
                session, queries.GrantFilter(role="academic_secretary"), PageParams()
            )
        ).items[0]
        college = await users.find_org_unit_by_code(session, "12")
        assert college is not None
        assert (secretary.scope.value, secretary.org_unit.id if secretary.org_unit else None) == (
            "subtree",
            college.id,
        )
        leaders = await queries.grants_page(
            session, queries.GrantFilter(role="school_leader"), PageParams()
        )
        assert {g.position_kind for g in leaders.items} >= {"president", "party_secretary"}
