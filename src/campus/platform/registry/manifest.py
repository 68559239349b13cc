from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.platform.registry import etcd_store, handlers, pages, routes
from campus.platform.registry.permissions import CREDENTIAL_MANAGE, PERMISSIONS, SERVICE_READ

MODULE = Module(
    name="registry",
    title=_("统一服务中心"),
    package="campus.platform.registry",
    depends=("users", "access"),
    routers=(routes.router,),
    pages=(pages.router,),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(
            _("服务注册"), "/registry/services", permission=SERVICE_READ, icon="server", order=880
        ),
        MenuEntry(
            _("注册凭据"),
            "/registry/credentials",
            permission=CREDENTIAL_MANAGE,
            icon="key",
            order=885,
        ),
    ),
    jobs=(handlers.EVICT, handlers.HEALTH),
    extra={"csrf_exempt": routes.CSRF_EXEMPT, "on_shutdown": (etcd_store.close_clients,)},
)
