from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.platform.monitor import pages, routes
from campus.platform.monitor.permissions import (
    AUDIT_READ,
    DEAD_LETTER_READ,
    OVERVIEW_READ,
    PERMISSIONS,
)
from campus.platform.monitor.traffic import TRAFFIC

MODULE = Module(
    name="monitor",
    title=_("运行监控"),
    package="campus.platform.monitor",
    depends=("users", "access", "registry"),
    routers=(routes.router,),
    pages=(pages.router,),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(
            _("运行概览"),
            "/monitor/overview",
            permission=OVERVIEW_READ,
            icon="activity-heartbeat",
            order=890,
        ),
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
    # The kernel's metrics middleware hands every answered request to this process's ring.
    extra={"request_observers": (TRAFFIC.observe,)},
)
