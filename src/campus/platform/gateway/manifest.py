from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.platform.gateway import handlers, hosts, pages, proxy, routes, upstream
from campus.platform.gateway.apis import pages as api_pages
from campus.platform.gateway.apis import routes as api_routes
from campus.platform.gateway.developer import pages as developer_pages
from campus.platform.gateway.developer import routes as developer_routes
from campus.platform.gateway.permissions import PERMISSIONS, READ

MODULE = Module(
    name="gateway",
    title=_("统一API中心"),
    package="campus.platform.gateway",
    depends=("users", "access", "registry", "workflow"),
    routers=(routes.router, developer_routes.router, api_routes.router, proxy.router),
    pages=(pages.router, developer_pages.router, api_pages.router),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(_("API网关"), "/gateway", permission=READ, icon="route", order=890),
        # Every signed-in person may build on the campus's APIs (staff, students, vendors).
        MenuEntry(_("开发平台"), "/developer", icon="code", order=895),
    ),
    jobs=(handlers.PURGE, handlers.REFRESH_CATALOG),
    # Consumers call with credentials, never with a browser's cookies: no CSRF check.
    extra={
        "csrf_exempt": (proxy.PREFIX,),
        "cookieless": (proxy.PREFIX,),
        "asgi_middleware": (hosts.HostRouting,),
        "on_shutdown": (proxy.close_client, upstream.close),
    },
)
