"""decisions with a reason and an undo, organizers' pending prompts, held questions

Revision ID: 0003
Revises: 0002
Created: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("proposal_drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held", sa.String(length=300), nullable=True))
    with op.batch_alter_table("proposal_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("told_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "decision_prompts",
        sa.Column("actor_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_decision_prompts_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_decision_prompts")),
    )


def downgrade() -> None:
    op.drop_table("decision_prompts")
    with op.batch_alter_table("proposal_events", schema=None) as batch_op:
        batch_op.drop_column("told_at")
        batch_op.drop_column("note")
    with op.batch_alter_table("proposal_drafts", schema=None) as batch_op:
        batch_op.drop_column("held")
