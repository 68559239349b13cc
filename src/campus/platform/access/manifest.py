from campus.kernel.i18n import _
from campus.kernel.manifest import Module
from campus.platform.access.permissions import PERMISSIONS
from campus.platform.access.seed import seed

MODULE = Module(
    name="access",
    title=_("统一权限"),
    package="campus.platform.access",
    permissions=PERMISSIONS,
    seed=seed,
    seed_order=20,
)
