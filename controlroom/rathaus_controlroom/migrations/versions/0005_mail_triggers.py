"""mail triggers: a city robot started by new mail in its mailbox; runs say which trigger started them

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.String(length=32), sa.ForeignKey("cities.id"), nullable=False),
        sa.Column("robot_id", sa.Integer(), sa.ForeignKey("robots.id"), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("poll_s", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("fired", sa.Integer(), nullable=False),
        sa.Column("watermark", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("robot_id"),
    )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("trigger_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_runs_trigger_id", "mail_triggers", ["trigger_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("fk_runs_trigger_id", type_="foreignkey")
        batch.drop_column("trigger_id")
    op.drop_table("mail_triggers")
