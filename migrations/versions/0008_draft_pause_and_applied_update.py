"""speaking-slot drafts: paused while the person is elsewhere; the last update applied;
the draft a request was submitted from

Revision ID: 0008
Revises: 0007
Created: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): on SQLite a copied table would lose AUTOINCREMENT,
    # and a draft id could then be given again (an old summary button would match a new draft).
    op.add_column(
        "proposal_drafts",
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("proposal_drafts", sa.Column("last_update_id", sa.BigInteger(), nullable=True))
    op.add_column("proposals", sa.Column("draft_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "proposals", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("draft_id")
    with op.batch_alter_table(
        "proposal_drafts", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("last_update_id")
        batch_op.drop_column("paused")
