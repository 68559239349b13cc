"""The user center's part of the demo university (minimal: the university and its administrator)."""

from __future__ import annotations

from campus.kernel import clock
from campus.kernel.seeding import DemoLogin, SeedContext
from campus.platform.users.models import Identity, OrgUnit, Person


async def seed(ctx: SeedContext) -> None:
    now = clock.now()
    async with ctx.runtime.db.transaction() as session:
        university = OrgUnit(
            code="10000", name="演示大学", kind="university", path="/", sort_order=0
        )
        session.add(university)
        await session.flush()
        university.path = f"/{university.id}/"
        admin = Person(
            name="王管理",
            gender="1",
            person_type="staff",
            org_unit_id=university.id,
            status="active",
            created_at=now,
            updated_at=now,
        )
        session.add(admin)
        await session.flush()
        session.add(Identity(person_id=admin.id, kind="staff_no", value="A0001"))
    ctx.logins.append(DemoLogin("admin", "A0001", "Admin@2026", "王管理"))
