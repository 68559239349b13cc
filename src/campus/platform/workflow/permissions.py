"""Permission codes of the workflow engine and the service hall. Applying for a service and
acting on one's own tasks need only a signed-in person; these codes are for those who design,
publish and oversee."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

PROCESS_MANAGE = "workflow.process.manage"
SERVICE_MANAGE = "workflow.service.manage"
INSTANCE_READ_ALL = "workflow.instance.read_all"
STATS_READ = "workflow.stats.read"

PERMISSIONS = (
    Permission(PROCESS_MANAGE, _("设计、导入和发布审批流程")),
    Permission(SERVICE_MANAGE, _("管理办事大厅的服务")),
    Permission(INSTANCE_READ_ALL, _("查看范围内所有人的申请")),
    Permission(STATS_READ, _("查看办事统计")),
)
