"""Permission codes of the API center."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

READ = "gateway.config.read"
MANAGE = "gateway.config.manage"

PERMISSIONS = (
    Permission(READ, _("查看API网关的服务、路由、消费者与请求统计")),
    Permission(MANAGE, _("管理API网关的服务、路由、消费者与凭据")),
)
