"""The demo university's CAS services: the library and the VPN, as a school would register them."""

from __future__ import annotations

from campus.kernel.seeding import SeedContext
from campus.platform.auth.cas import actions
from campus.platform.auth.cas.schemas import Attribute, CasServiceIn
from campus.platform.auth.cas.urls import MatchKind

DEMO_SERVICES = (
    CasServiceIn(
        name="图书馆",
        description="图书馆门户与借阅系统（汇文 OPAC）",
        match_kind=MatchKind.PREFIX,
        url_pattern="https://lib.demo.edu.cn/",
        released_attributes=[
            Attribute.NAME,
            Attribute.NUMBER,
            Attribute.PERSON_TYPE,
            Attribute.ORG_UNIT,
            Attribute.EMAIL,
        ],
        slo_enabled=True,
    ),
    CasServiceIn(
        name="VPN",
        description="校外访问校园网资源的 SSL VPN",
        match_kind=MatchKind.REGEX,
        url_pattern=r"https://vpn\.demo\.edu\.cn/.*",
        released_attributes=[Attribute.NAME, Attribute.NUMBER, Attribute.ROLES],
        slo_enabled=False,
    ),
)


async def seed(ctx: SeedContext) -> None:
    async with ctx.runtime.db.transaction() as session:
        for service in DEMO_SERVICES:
            await actions.do_create_service(session, service)
