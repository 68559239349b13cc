from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.platform.appcenter import pages, routes, seed
from campus.platform.appcenter.permissions import APP_MANAGE, PERMISSIONS

MODULE = Module(
    name="appcenter",
    title=_("统一应用中心"),
    package="campus.platform.appcenter",
    depends=("users", "access", "auth"),
    routers=(routes.router,),
    pages=(pages.router,),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(_("应用中心"), "/apps", icon="apps", order=5),
        MenuEntry(
            _("应用管理"), "/appcenter/manage", permission=APP_MANAGE, icon="settings", order=890
        ),
    ),
    seed=seed.seed,
    seed_order=900,
)
