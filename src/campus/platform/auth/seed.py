"""Passwords of the demo university.

Every seeded person gets the same initial password, hashed once (hashing 20,000 passwords with
argon2id would take many minutes) and marked must-change; the printed demo logins get their own.
"""

from __future__ import annotations

from sqlalchemy import insert

from campus.kernel import clock
from campus.kernel.seeding import SeedContext
from campus.platform.auth import service
from campus.platform.auth.cas import seed as cas_seed
from campus.platform.auth.models import Credential
from campus.platform.auth.oidc import seed as oidc_seed
from campus.platform.auth.passwords import hash_password
from campus.platform.users import service as users

INITIAL_PASSWORD = "Campus@2026"  # noqa: S105 (the demo's published password)


async def seed(ctx: SeedContext) -> None:
    initial = hash_password(INITIAL_PASSWORD)
    now = clock.now()
    async with ctx.runtime.db.transaction() as session:
        ids = await users.all_person_ids(session)
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            await session.execute(
                insert(Credential),
                [
                    {
                        "person_id": pid,
                        "password_hash": initial,
                        "must_change": True,
                        "updated_at": now,
                    }
                    for pid in chunk
                ],
            )
        for login in ctx.logins:
            person = await users.find_person_by_login(session, login.login)
            if person is not None:
                await service.set_password(session, person.id, login.password)
    await cas_seed.seed(ctx)
    await oidc_seed.seed(ctx)
