"""my agenda: reminders and change notices through the delivery queue, programme snapshot

Revision ID: 0005
Revises: 0004
Created: 2026-12-02 15:00:00

The delivery queue learns three things, all nullable so announcements are unchanged: a
per-recipient text (their language), a due time (`not_before`: a reminder's fan-out start)
and a once-key (unique per person: a reminder per session and session time, a change notice
per programme revision). A broadcast gets a kind and a unique batch key. Each person gets a
reminder setting (minutes before; 0 = off). The programme snapshot is what /reload compares.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="announcement", nullable=False)
        )
        batch_op.add_column(sa.Column("key", sa.String(length=160), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_broadcasts_key"), ["key"])
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("once_key", sa.String(length=160), nullable=True))
        batch_op.create_unique_constraint(
            "uq_deliveries_user_id_once_key", ["user_id", "once_key"]
        )
        batch_op.create_index(
            "ix_deliveries_status_not_before", ["status", "not_before"], unique=False
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminder_minutes", sa.Integer(), server_default="10", nullable=False)
        )
    op.create_table(
        "programme_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("programme_snapshots")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("reminder_minutes")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_not_before")
        batch_op.drop_constraint("uq_deliveries_user_id_once_key", type_="unique")
        batch_op.drop_column("once_key")
        batch_op.drop_column("not_before")
        batch_op.drop_column("text")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_broadcasts_key"), type_="unique")
        batch_op.drop_column("key")
        batch_op.drop_column("kind")
