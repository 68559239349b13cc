from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.platform.workflow import designer_pages, pages, routes
from campus.platform.workflow.forms import pages as form_pages
from campus.platform.workflow.forms import routes as form_routes
from campus.platform.workflow.forms.permissions import FORM_READ
from campus.platform.workflow.forms.permissions import PERMISSIONS as FORM_PERMISSIONS
from campus.platform.workflow.handlers import JOBS
from campus.platform.workflow.permissions import (
    PERMISSIONS,
    PROCESS_MANAGE,
    SERVICE_MANAGE,
    STATS_READ,
)
from campus.platform.workflow.seed import seed

MODULE = Module(
    name="workflow",
    title=_("流程与办事大厅"),
    package="campus.platform.workflow",
    depends=("users", "access", "files"),
    routers=(routes.router, form_routes.router),
    pages=(pages.router, designer_pages.router, form_pages.router),
    permissions=(*PERMISSIONS, *FORM_PERMISSIONS),
    menu=(
        MenuEntry(_("办事大厅"), "/hall", None, icon="building-community", order=10),
        MenuEntry(_("我的待办"), "/hall/tasks", None, icon="checklist", order=11),
        MenuEntry(_("我的申请"), "/hall/mine", None, icon="file-text", order=12),
        MenuEntry(_("表单设计"), "/workflow/forms", FORM_READ, icon="forms", order=59),
        MenuEntry(
            _("流程设计"), "/workflow/processes", PROCESS_MANAGE, icon="git-branch", order=60
        ),
        MenuEntry(_("服务管理"), "/workflow/services", SERVICE_MANAGE, icon="apps", order=61),
        MenuEntry(_("办事统计"), "/workflow/stats", STATS_READ, icon="chart-bar", order=62),
    ),
    jobs=JOBS,
    seed=seed,
    seed_order=40,
    data_objects=("wf_instance", "wf_task"),
)
