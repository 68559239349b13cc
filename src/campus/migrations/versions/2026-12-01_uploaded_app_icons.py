"""uploaded app icons

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 01:31:55.723256
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appcenter_app", schema=None) as batch_op:
        batch_op.add_column(sa.Column("icon_file_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appcenter_app", schema=None) as batch_op:
        batch_op.drop_column("icon_file_id")
