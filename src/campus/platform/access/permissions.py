"""Permission codes defined by the permission center."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

ROLE_READ = "access.role.read"
ROLE_MANAGE = "access.role.manage"

PERMISSIONS = (
    Permission(ROLE_READ, _("查看角色与授权")),
    Permission(ROLE_MANAGE, _("管理角色与授权")),
)
