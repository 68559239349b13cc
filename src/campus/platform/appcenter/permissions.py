"""Permission codes of the app center."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

APP_MANAGE = "appcenter.app.manage"

PERMISSIONS = (Permission(APP_MANAGE, _("管理应用中心的应用")),)
