from campus.kernel.i18n import _
from campus.kernel.manifest import Module
from campus.platform.auth import pages, routes
from campus.platform.auth.permissions import PERMISSIONS
from campus.platform.auth.seed import seed
from campus.platform.auth.service import load_principal

MODULE = Module(
    name="auth",
    title=_("统一认证"),
    package="campus.platform.auth",
    depends=("users", "access"),
    routers=(routes.router,),
    pages=(pages.router,),
    permissions=PERMISSIONS,
    seed=seed,
    seed_order=30,
    extra={"principal_loader": load_principal},
)
