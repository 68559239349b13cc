from campus.domains.oa import pages
from campus.domains.oa.documents import pages as document_pages
from campus.domains.oa.documents import routes as document_routes
from campus.domains.oa.handlers import HANDLERS
from campus.domains.oa.jobs import JOBS
from campus.domains.oa.notices import pages as notice_pages
from campus.domains.oa.notices import routes as notice_routes
from campus.domains.oa.permissions import PERMISSIONS
from campus.domains.oa.schedules import pages as schedule_pages
from campus.domains.oa.schedules import routes as schedule_routes
from campus.domains.oa.seed import seed
from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module

MODULE = Module(
    name="oa",
    title=_("协同办公"),
    package="campus.domains.oa",
    depends=("users", "access", "files", "workflow"),
    routers=(notice_routes.router, schedule_routes.router, document_routes.router),
    pages=(
        pages.router,
        notice_pages.router,
        schedule_pages.router,
        document_pages.router,
    ),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(_("通知公告"), "/oa/notices", None, icon="speakerphone", order=30),
        MenuEntry(_("我的日程"), "/oa/schedule", None, icon="calendar-event", order=31),
        # Documents are drafted, approved and distributed among staff (a unit's distribution
        # reaches its staff only); a student addressed by name is told by a notice linking
        # to the document.
        MenuEntry(
            _("公文"), "/oa/documents", None, icon="file-certificate", order=32, audience="staff"
        ),
        MenuEntry(_("收文"), "/oa/inbox", None, icon="inbox", order=33, audience="staff"),
    ),
    handlers=HANDLERS,
    jobs=JOBS,
    seed=seed,
    seed_order=60,
    data_objects=("oa_notice", "oa_notice_read", "oa_event", "oa_invitation", "oa_document"),
)
