"""The demo university's apps: the library, mail, VPN, finance and a few third-party links,
marked as demo; the finance system only for staff, the teaching-affairs portal only for the
office of teaching affairs (教务处, code 803)."""

from __future__ import annotations

from campus.kernel.seeding import SeedContext
from campus.platform.appcenter import actions
from campus.platform.appcenter.schemas import AppIn
from campus.platform.auth import service as auth

STAFF_ROLES = ["admin", "staff", "teacher", "counselor", "finance", "school_leader"]

DEMO_APPS = (
    AppIn(
        code="library",
        name="图书馆",
        kind="external",
        category="学习",
        icon="books",
        url="https://lib.demo.edu.cn/",
        description="馆藏检索、借阅与续借",
        order=10,
    ),
    AppIn(
        code="mail",
        name="邮箱",
        kind="external",
        category="办公",
        icon="mail",
        url="https://mail.demo.edu.cn/",
        description="学校电子邮箱",
        order=20,
    ),
    AppIn(
        code="vpn",
        name="VPN",
        kind="external",
        category="网络",
        icon="shield-lock",
        url="https://vpn.demo.edu.cn/",
        description="校外访问校园网资源",
        order=30,
    ),
    AppIn(
        code="finance",
        name="财务系统",
        kind="external",
        category="办公",
        icon="coin-yuan",
        url="https://cw.demo.edu.cn/",
        description="报销、酬金与工资查询（教职工）",
        roles=STAFF_ROLES,
        order=40,
    ),
    AppIn(
        code="jwc-portal",
        name="教务处工作台",
        kind="link",
        category="办公",
        icon="briefcase",
        url="https://jwc.demo.edu.cn/work",
        description="教务处内部工作平台",
        org_units=["803"],
        order=50,
    ),
    AppIn(
        code="cnki",
        name="中国知网",
        kind="link",
        category="学习",
        icon="file-search",
        url="https://www.cnki.net/",
        description="学术期刊与学位论文（校园网内免登录）",
        order=60,
    ),
    AppIn(
        code="campus-net",
        name="校园网自助",
        kind="link",
        category="网络",
        icon="wifi",
        url="https://net.demo.edu.cn/",
        description="上网账号、流量与缴费",
        order=70,
    ),
)
CAS_NAMES = {"library": "图书馆", "vpn": "VPN"}  # signed in through the demo CAS services


async def seed(ctx: SeedContext) -> None:
    async with ctx.runtime.db.transaction() as session:
        clients = {name: key for key, name in (await auth.sso_clients(session)).items()}
        for app in DEMO_APPS:
            client = clients.get(CAS_NAMES.get(app.code, ""))
            body = app.model_copy(update={"sso_client": client})
            await actions.do_create_app(session, body, demo=True)
