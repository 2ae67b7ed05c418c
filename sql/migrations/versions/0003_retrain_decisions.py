"""retrain_decisions: every nightly decision whether to start retraining, with its reasons.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrain_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("decided_at", sa.DateTime, nullable=False),
        sa.Column("label_set", sa.String(256), nullable=False),
        sa.Column("champion_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=True),
        sa.Column("retrain", sa.Boolean, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("new_labels", sa.Integer, nullable=False),
        sa.Column("label_psi", sa.Float, nullable=True),
        sa.Column("confidence_psi", sa.Float, nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("flow_run_id", sa.String(64), nullable=True),
        sa.Column("triggered_flow_run_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_retrain_decisions_label_set_decided", "retrain_decisions", ["label_set", "decided_at"])


def downgrade() -> None:
    op.drop_index("ix_retrain_decisions_label_set_decided", table_name="retrain_decisions")
    op.drop_table("retrain_decisions")
