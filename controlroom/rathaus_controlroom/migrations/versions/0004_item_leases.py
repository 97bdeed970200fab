"""work items as the robots' queue: item leases held by a run attempt, producer parents, the history of attempts

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_items") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("holder", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
    op.create_index("ix_items_queue", "work_items", ["robot_id", "state", "next_attempt_at"])
    op.create_table(
        "work_item_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.String(length=32), sa.ForeignKey("cities.id"), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("work_items.id"), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_item_attempts_item", "work_item_attempts", ["item_id", "number"])


def downgrade() -> None:
    op.drop_index("ix_item_attempts_item", table_name="work_item_attempts")
    op.drop_table("work_item_attempts")
    op.drop_index("ix_items_queue", table_name="work_items")
    with op.batch_alter_table("work_items") as batch:
        batch.drop_column("parent_id")
        batch.drop_column("holder")
        batch.drop_column("lease_until")
