"""Permission codes of the service center."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

SERVICE_READ = "registry.service.read"
CREDENTIAL_MANAGE = "registry.credential.manage"

PERMISSIONS = (
    Permission(SERVICE_READ, _("查看服务注册与实例")),
    Permission(CREDENTIAL_MANAGE, _("管理服务注册凭据")),
)
