from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.kernel.seeding import SeedContext
from campus.platform.messaging import pages, routes
from campus.platform.messaging.accounts import handlers as accounts_handlers  # PUSH
from campus.platform.messaging.accounts import jobs as accounts_jobs  # PUSH
from campus.platform.messaging.accounts import pages as accounts_pages  # PUSH
from campus.platform.messaging.accounts import routes as accounts_routes  # PUSH
from campus.platform.messaging.accounts import seed as accounts_seed  # PUSH
from campus.platform.messaging.handlers import HANDLERS
from campus.platform.messaging.im import handlers as im_handlers  # IM
from campus.platform.messaging.im import jobs as im_jobs  # IM
from campus.platform.messaging.im import pages as im_pages  # IM
from campus.platform.messaging.im import routes as im_routes  # IM
from campus.platform.messaging.im import seed as im_seed  # IM
from campus.platform.messaging.im import socket as im_socket  # IM
from campus.platform.messaging.jobs import JOBS
from campus.platform.messaging.moderation import pages as moderation_pages  # IM
from campus.platform.messaging.moderation import routes as moderation_routes  # IM
from campus.platform.messaging.permissions import (
    MODERATION_MANAGE,
    NOTIFY_SEND,
    PERMISSIONS,
    TEMPLATE_MANAGE,
)
from campus.platform.messaging.seed import seed


async def seed_all_parts(ctx: SeedContext) -> None:
    """The module's seed, then each sub-package's (one line each)."""
    await seed(ctx)
    await im_seed.seed(ctx)  # IM
    await accounts_seed.seed(ctx)  # PUSH


MODULE = Module(
    name="messaging",
    title=_("消息中心"),
    package="campus.platform.messaging",
    depends=("users", "access", "files"),
    routers=(
        routes.router,
        accounts_routes.router,  # PUSH
        im_routes.router,  # IM
        im_socket.router,  # IM
        moderation_routes.router,  # IM
    ),
    pages=(
        pages.router,
        accounts_pages.router,  # PUSH
        im_pages.router,  # IM
        moderation_pages.router,  # IM
    ),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(_("我的消息"), "/messaging/inbox", None, icon="bell", order=38),
        MenuEntry(_("发送通知"), "/messaging/send", NOTIFY_SEND, icon="send", order=39),
        MenuEntry(
            _("通知模板"), "/messaging/templates", TEMPLATE_MANAGE, icon="template", order=91
        ),
        MenuEntry(_("服务号"), "/messaging/accounts", None, icon="speakerphone", order=41),  # PUSH
        MenuEntry(_("我的订阅"), "/messaging/feed", None, icon="rss", order=42),  # PUSH
        MenuEntry(_("即时通讯"), "/messaging/im", None, icon="messages", order=40),  # IM
        MenuEntry(  # IM
            _("内容审核"),
            "/messaging/moderation/reports",
            MODERATION_MANAGE,
            icon="shield-check",
            order=92,
        ),
    ),
    handlers=(*HANDLERS, *im_handlers.HANDLERS, *accounts_handlers.HANDLERS),  # PUSH
    jobs=(*JOBS, *im_jobs.JOBS, *accounts_jobs.JOBS),  # PUSH
    seed=seed_all_parts,
    seed_order=70,
    data_objects=(
        "msg_notification",
        "msg_recipient",
        "msg_broadcast_read",
        "msg_delivery",
        "msg_template",
        "msg_im_conversation",
        "msg_im_message",
        "msg_report",  # IM
        "msg_account",  # PUSH
        "msg_account_subscription",  # PUSH
        "msg_account_post",  # PUSH
        "msg_account_post_read",  # PUSH
    ),
)
