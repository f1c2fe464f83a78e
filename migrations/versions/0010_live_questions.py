"""live questions to a panel: rooms, questions, votes, moderators, invites, inputs, boards,
feedback

Revision ID: 0010
Revises: 0009
Created: 2026-12-05 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_WHERE = sa.text("status IN ('pending', 'approved')")


def upgrade() -> None:
    op.create_table(
        "live_rooms",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("moderated", sa.Boolean(), nullable=True),
        sa.Column("screen_key", sa.String(length=64), nullable=True),
        sa.Column("pinned_id", sa.Integer(), nullable=True),
        sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_live_rooms")),
    )
    op.create_table(
        "live_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("author_name", sa.String(length=64), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_questions")),
    )
    op.create_index(
        op.f("ix_live_questions_session_id"), "live_questions", ["session_id"], unique=False
    )
    op.create_index(op.f("ix_live_questions_user_id"), "live_questions", ["user_id"], unique=False)
    op.create_index(
        "uq_live_questions_open",
        "live_questions",
        ["session_id", "user_id"],
        unique=True,
        sqlite_where=OPEN_WHERE,
        postgresql_where=OPEN_WHERE,
    )
    op.create_table(
        "live_votes",
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["live_questions.id"],
            name=op.f("fk_live_votes_question_id_live_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("question_id", "user_id", name=op.f("pk_live_votes")),
    )
    op.create_table(
        "live_moderators",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "user_id", name=op.f("pk_live_moderators")),
    )
    op.create_table(
        "live_invites",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_live_invites")),
    )
    op.create_table(
        "live_inputs",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_live_inputs")),
    )
    op.create_table(
        "live_boards",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "chat_id", name=op.f("pk_live_boards")),
    )
    op.create_table(
        "live_feedback",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "user_id", name=op.f("pk_live_feedback")),
    )


def downgrade() -> None:
    op.drop_table("live_feedback")
    op.drop_table("live_boards")
    op.drop_table("live_inputs")
    op.drop_table("live_invites")
    op.drop_table("live_moderators")
    op.drop_table("live_votes")
    op.drop_index("uq_live_questions_open", table_name="live_questions")
    op.drop_index(op.f("ix_live_questions_user_id"), table_name="live_questions")
    op.drop_index(op.f("ix_live_questions_session_id"), table_name="live_questions")
    op.drop_table("live_questions")
    op.drop_table("live_rooms")
