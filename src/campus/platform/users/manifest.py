from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.platform.users import pages, routes
from campus.platform.users.permissions import ORG_READ, PERMISSIONS, PERSON_MANAGE, PERSON_READ
from campus.platform.users.seed import seed

MODULE = Module(
    name="users",
    title=_("统一用户中心"),
    package="campus.platform.users",
    depends=("access",),
    routers=(routes.router,),
    pages=(pages.router,),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(_("人员管理"), "/users/people", PERSON_READ, icon="users", order=20),
        MenuEntry(_("组织机构"), "/users/org", ORG_READ, icon="sitemap", order=21),
        MenuEntry(_("人员导入"), "/users/import", PERSON_MANAGE, icon="file-import", order=22),
    ),
    seed=seed,
    seed_order=10,
    data_objects=("users_person", "users_org_unit", "users_class"),
)
