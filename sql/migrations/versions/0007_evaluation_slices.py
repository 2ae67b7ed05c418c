"""``evaluation_slices``: a version's macro-F1 per slice of the frozen test set; ``html_path`` of
the evaluation and daily reports (the self-contained HTML beside the Markdown).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_slices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("test_set_id", sa.Integer, nullable=True),
        sa.Column("grp", sa.String(32), nullable=False),
        sa.Column("slice", sa.String(96), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("macro_f1", sa.Float, nullable=False),
        sa.Column("low", sa.Float, nullable=True),
        sa.Column("high", sa.Float, nullable=True),
        sa.Column("worst", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_evaluation_slices_version", "evaluation_slices", ["model_version_id"])
    op.add_column("evaluation_reports", sa.Column("html_path", sa.Text, nullable=True))
    op.add_column("daily_reports", sa.Column("html_path", sa.Text, nullable=True))


def downgrade() -> None:
    for table in ("daily_reports", "evaluation_reports"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("html_path")
    op.drop_index("ix_evaluation_slices_version", table_name="evaluation_slices")
    op.drop_table("evaluation_slices")
