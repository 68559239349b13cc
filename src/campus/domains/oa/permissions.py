"""Permission codes of the collaborative office. Reading notices addressed to oneself, one's own
schedule and one's 收文 inbox needs no code: every signed-in person may."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

NOTICE_PUBLISH = "oa.notice.publish"
NOTICE_MANAGE = "oa.notice.manage"
MEETING_INVITE_ORG = "oa.meeting.invite_org"
DOCUMENT_DRAFT = "oa.document.draft"
DOCUMENT_SEAL = "oa.document.seal"
DOCUMENT_MANAGE = "oa.document.manage"

PERMISSIONS = (
    Permission(NOTICE_PUBLISH, _("起草、发布和撤回通知公告（发往权限范围内的单位）")),
    Permission(NOTICE_MANAGE, _("查看和撤回范围内单位的全部通知公告及阅读情况")),
    Permission(MEETING_INVITE_ORG, _("按单位整体邀请参会人员")),
    Permission(DOCUMENT_DRAFT, _("以范围内单位的名义拟稿发文")),
    Permission(DOCUMENT_SEAL, _("公文用印与分发")),
    Permission(DOCUMENT_MANAGE, _("查看范围内单位的全部公文与分发进度，维护发文字号")),
)
