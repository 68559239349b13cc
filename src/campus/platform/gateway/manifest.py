from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.platform.gateway import handlers, pages, proxy, routes
from campus.platform.gateway.permissions import PERMISSIONS, READ

MODULE = Module(
    name="gateway",
    title=_("统一API中心"),
    package="campus.platform.gateway",
    depends=("users", "access", "registry"),
    routers=(routes.router, proxy.router),
    pages=(pages.router,),
    permissions=PERMISSIONS,
    menu=(MenuEntry(_("API网关"), "/gateway", permission=READ, icon="route", order=890),),
    jobs=(handlers.PURGE,),
    # Consumers call with credentials, never with a browser's cookies: no CSRF check.
    extra={"csrf_exempt": (proxy.PREFIX,)},
)
