"""The demo university's OpenID Connect applications: the library (the university's own
system, no consent asked) and a vendor's learning platform (a third party, consent asked).

Their secrets are published demo values, like the demo passwords; change them (or reset them
on the client page) before anything real depends on them.
"""

from __future__ import annotations

from campus.kernel.seeding import SeedContext
from campus.platform.auth.oidc import actions, keys
from campus.platform.auth.oidc.schemas import ClientCreate

LIBRARY_SECRET = "library-demo-secret-change-me"  # noqa: S105 (published demo value)
LMS_SECRET = "lms-demo-secret-change-me"  # noqa: S105 (published demo value)

DEMO_CLIENTS: tuple[tuple[ClientCreate, str], ...] = (
    (
        ClientCreate(
            client_id="library",
            name="图书馆系统",
            description="图书馆借阅、座位预约与电子资源（校内自建）",
            first_party=True,
            redirect_uris=["https://lib.example.edu.cn/oidc/callback"],
            post_logout_redirect_uris=["https://lib.example.edu.cn/"],
            allowed_scopes=["openid", "profile", "email", "phone", "campus"],
            backchannel_logout_uri="https://lib.example.edu.cn/oidc/backchannel-logout",
        ),
        LIBRARY_SECRET,
    ),
    (
        ClientCreate(
            client_id="vendor-lms",
            name="学在云教学平台",
            description="第三方厂商提供的在线教学平台（LMS）",
            first_party=False,
            redirect_uris=["https://lms.vendor.example.com/auth/campus/callback"],
            post_logout_redirect_uris=["https://lms.vendor.example.com/"],
            allowed_scopes=["openid", "profile", "email"],
        ),
        LMS_SECRET,
    ),
)


async def seed(ctx: SeedContext) -> None:
    settings = ctx.runtime.settings
    async with ctx.runtime.db.transaction() as session:
        await keys.signing_key(session, settings.secret_key)
        for data, secret in DEMO_CLIENTS:
            await actions.do_create_client(session, data, secret=secret)
