"""Permission codes of the monitoring center."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

DEAD_LETTER_READ = "monitor.deadletter.read"
DEAD_LETTER_REPLAY = "monitor.deadletter.replay"
AUDIT_READ = "monitor.audit.read"
OVERVIEW_READ = "monitor.overview.read"

PERMISSIONS = (
    Permission(DEAD_LETTER_READ, _("查看死信事件")),
    Permission(DEAD_LETTER_REPLAY, _("重放死信事件")),
    Permission(AUDIT_READ, _("查看审计日志")),
    Permission(OVERVIEW_READ, _("查看运行概览（健康、流量、近期错误）")),
)
