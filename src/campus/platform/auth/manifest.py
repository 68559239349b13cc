from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.platform.auth import handlers, pages, routes
from campus.platform.auth.cas import handlers as cas_handlers
from campus.platform.auth.cas import pages as cas_pages
from campus.platform.auth.cas import routes as cas_routes
from campus.platform.auth.oidc import service as oidc
from campus.platform.auth.permissions import ACCOUNT_READ, CAS_READ, CLIENT_READ, PERMISSIONS
from campus.platform.auth.qr import pages as qr_pages
from campus.platform.auth.qr import routes as qr_routes
from campus.platform.auth.seed import seed
from campus.platform.auth.service import load_principal

MODULE = Module(
    name="auth",
    title=_("统一认证"),
    package="campus.platform.auth",
    depends=("users", "access"),
    routers=(
        routes.router,
        qr_routes.router,
        cas_routes.router,
        oidc.ROUTER,
    ),
    pages=(
        pages.router,
        qr_pages.router,
        cas_pages.router,
        oidc.PAGES,
    ),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(_("账号安全管理"), "/auth/accounts", ACCOUNT_READ, icon="user-shield", order=39),
        MenuEntry(_("CAS 应用"), "/auth/cas/services", CAS_READ, icon="plug-connected", order=40),
        MenuEntry(_("OIDC 应用"), "/auth/oidc/clients", CLIENT_READ, icon="id-badge-2", order=41),
    ),
    handlers=(
        handlers.SIGN_OUT_LEAVERS,
        cas_handlers.REVOKE_TICKETS,
        cas_handlers.SINGLE_LOGOUT,
        *oidc.HANDLERS,
    ),
    jobs=(handlers.EXPIRE_SESSIONS, cas_handlers.PURGE, *oidc.JOBS),
    seed=seed,
    seed_order=30,
    extra={
        "principal_loader": load_principal,
        "csrf_exempt": (*oidc.CSRF_EXEMPT, *cas_routes.CSRF_EXEMPT),
    },
)
