from campus.kernel.i18n import _
from campus.kernel.manifest import Module
from campus.platform.users.permissions import PERMISSIONS
from campus.platform.users.seed import seed

MODULE = Module(
    name="users",
    title=_("统一用户中心"),
    package="campus.platform.users",
    depends=("access",),
    permissions=PERMISSIONS,
    seed=seed,
    seed_order=10,
    data_objects=("users_person", "users_org_unit", "users_class"),
)
