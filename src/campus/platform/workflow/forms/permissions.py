"""Permission codes of the form designer (the workflow module's manifest declares them)."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

FORM_READ = "workflow.form.read"
FORM_MANAGE = "workflow.form.manage"

PERMISSIONS = (
    Permission(FORM_READ, _("查看表单及其版本")),
    Permission(FORM_MANAGE, _("设计、发布表单")),
)
