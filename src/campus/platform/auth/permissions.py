"""Permission codes of the authentication center. Signing in, one's own devices, password and
second factor need no code; acting on somebody else's account does."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

ACCOUNT_READ = "auth.account.read"
PASSWORD_RESET = "auth.password.reset"  # noqa: S105 (a permission code)
ACCOUNT_UNLOCK = "auth.account.unlock"
SESSION_REVOKE = "auth.session.revoke"
MFA_RESET = "auth.mfa.reset"
CAS_READ = "auth.cas.read"
CAS_MANAGE = "auth.cas.manage"
CLIENT_READ = "auth.client.read"
CLIENT_MANAGE = "auth.client.manage"

PERMISSIONS: tuple[Permission, ...] = (
    Permission(ACCOUNT_READ, _("查看账号安全状态与登录设备")),
    Permission(PASSWORD_RESET, _("重置他人密码（设置临时密码）")),
    Permission(ACCOUNT_UNLOCK, _("解除账号锁定")),
    Permission(SESSION_REVOKE, _("强制他人在所有设备上退出")),
    Permission(MFA_RESET, _("重置他人的两步验证")),
    Permission(CAS_READ, _("查看 CAS 应用")),
    Permission(CAS_MANAGE, _("管理 CAS 应用（注册、修改、删除）")),
    Permission(CLIENT_READ, _("查看 OpenID Connect 应用与签名密钥")),
    Permission(CLIENT_MANAGE, _("管理 OpenID Connect 应用与签名密钥")),
)
