"""Permission codes of the campus community. Reading, posting on open boards, commenting,
liking, following and reporting need no code: every signed-in person may. Per-board moderators
are kept by this module (``cmty_moderator``), not as grants."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

BOARD_MANAGE = "community.board.manage"
MODERATE = "community.moderate"
EDITOR = "community.editor"

PERMISSIONS = (
    Permission(BOARD_MANAGE, _("管理社区板块：新建、修改、排序，指定版主")),
    Permission(MODERATE, _("管理全部社区板块的内容：处理举报、隐藏与恢复、禁言")),
    Permission(EDITOR, _("在仅限编辑发布的板块（如校园头条）发帖")),
)
