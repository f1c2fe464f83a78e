"""deliveries outlive their recipient: /forget empties user_id and keeps the row (the counts)

Revision ID: 0009
Revises: 0008
Created: 2026-12-05 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    # The old schema cannot hold a delivery without its recipient: the anonymized ones go
    # (the reports of the broadcasts they belonged to count fewer).
    op.execute("DELETE FROM deliveries WHERE user_id IS NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.BigInteger(), nullable=False)
