"""Permission codes of the messaging center. Reading one's own inbox and setting one's own
preferences need only a signed-in person; these codes are for those who send and administer.
Sub-packages append their codes here (one line each) and to PERMISSIONS."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

NOTIFY_SEND = "messaging.notify.send"
NOTIFY_SEND_ALL = "messaging.notify.send_all"
TEMPLATE_MANAGE = "messaging.template.manage"
MODERATION_MANAGE = "messaging.moderation.manage"  # IM: word list, report queue, retention
ACCOUNT_MANAGE = "messaging.account.manage"  # PUSH: accounts, editors, mandatory audiences

PERMISSIONS: tuple[Permission, ...] = (
    Permission(NOTIFY_SEND, _("向指定人员、角色、部门或班级发送通知")),
    Permission(NOTIFY_SEND_ALL, _("向全校发送通知及紧急通知")),
    Permission(TEMPLATE_MANAGE, _("管理通知模板")),
    Permission(MODERATION_MANAGE, _("管理敏感词、处理举报、设置聊天记录保留期限")),
    Permission(ACCOUNT_MANAGE, _("创建和管理服务号，指定编辑与必选人群")),
)
