"""The Alembic history builds exactly the schema the models declare: a column added to a model
without its migration (or the other way round) fails here, not at a site's upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from campus.kernel.db import Base
from campus.kernel.runtime import Runtime
from campus.migrations.tables import import_all_models


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_database_matches_the_models(runtime: Runtime) -> None:
    import_all_models()
    async with runtime.db.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []
