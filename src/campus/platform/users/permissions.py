"""Permission codes of the user center."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

PERSON_READ = "users.person.read"
PERSON_MANAGE = "users.person.manage"
PERSON_SENSITIVE = "users.person.sensitive"
ORG_READ = "users.org.read"
ORG_MANAGE = "users.org.manage"

PERMISSIONS = (
    Permission(PERSON_READ, _("查看人员")),
    Permission(PERSON_MANAGE, _("管理人员（新增、修改、导入）")),
    Permission(PERSON_SENSITIVE, _("查看完整身份证号与手机号")),
    Permission(ORG_READ, _("查看组织机构")),
    Permission(ORG_MANAGE, _("管理组织机构")),
)
