from campus.domains.community import pages
from campus.domains.community.boards import pages as board_pages
from campus.domains.community.boards import routes as board_routes
from campus.domains.community.handlers import HANDLERS
from campus.domains.community.moderation import pages as moderation_pages
from campus.domains.community.moderation import routes as moderation_routes
from campus.domains.community.permissions import BOARD_MANAGE, MODERATE, PERMISSIONS
from campus.domains.community.posts import pages as post_pages
from campus.domains.community.posts import routes as post_routes
from campus.domains.community.seed import seed
from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module

MODULE = Module(
    name="community",
    title=_("校园社区"),
    package="campus.domains.community",
    depends=("users", "access", "files", "messaging"),
    routers=(board_routes.router, post_routes.router, moderation_routes.router),
    pages=(pages.router, board_pages.router, post_pages.router, moderation_pages.router),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(_("校园社区"), "/community", None, icon="messages", order=45),
        MenuEntry(_("社区版务"), "/community/moderation", MODERATE, icon="shield-check", order=46),
        MenuEntry(
            _("板块管理"), "/community/admin/boards", BOARD_MANAGE, icon="layout-list", order=47
        ),
    ),
    handlers=HANDLERS,
    seed=seed,
    seed_order=80,
    data_objects=(
        "cmty_board",
        "cmty_post",
        "cmty_comment",
        "cmty_post_like",
        "cmty_comment_like",
        "cmty_follow",
        "cmty_report",
        "cmty_ban",
    ),
)
