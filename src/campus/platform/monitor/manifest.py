from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.platform.monitor import pages, routes
from campus.platform.monitor.permissions import AUDIT_READ, DEAD_LETTER_READ, PERMISSIONS

MODULE = Module(
    name="monitor",
    title=_("运行监控"),
    package="campus.platform.monitor",
    depends=("users", "access"),
    routers=(routes.router,),
    pages=(pages.router,),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(
            _("死信事件"),
            "/monitor/dead-letters",
            permission=DEAD_LETTER_READ,
            icon="alert-triangle",
            order=900,
        ),
        MenuEntry(
            _("审计日志"), "/monitor/audit", permission=AUDIT_READ, icon="list-search", order=910
        ),
    ),
)
