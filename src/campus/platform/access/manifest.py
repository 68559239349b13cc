from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.platform.access import pages, routes
from campus.platform.access.handlers import HANDLERS
from campus.platform.access.permissions import PERMISSIONS, ROLE_READ
from campus.platform.access.seed import seed

MODULE = Module(
    name="access",
    title=_("统一权限"),
    package="campus.platform.access",
    routers=(routes.router,),
    pages=(pages.router,),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(_("角色管理"), "/access/roles", ROLE_READ, icon="shield-lock", order=40),
        MenuEntry(_("授权管理"), "/access/grants", ROLE_READ, icon="key", order=41),
    ),
    handlers=HANDLERS,
    seed=seed,
    seed_order=20,
)
