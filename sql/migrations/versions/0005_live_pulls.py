"""Live sources: ``pull_cursors`` (where each x:/bluesky: query stands) and the pull columns of
``ingest_batches`` (query, pages, rate limited, cursor before and after, API errors, status).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH_COLUMNS = (
    ("query", sa.Text),
    ("pages", sa.Integer),
    ("rate_limited", sa.Boolean),
    ("cursor_before", sa.JSON),
    ("cursor_after", sa.JSON),
    ("api_errors", sa.JSON),
    ("status", sa.String(16)),
    ("error", sa.Text),
    ("owner", sa.String(160)),
)


def upgrade() -> None:
    for name, kind in _BATCH_COLUMNS:
        op.add_column("ingest_batches", sa.Column(name, kind, nullable=True))
    op.create_index("ix_ingest_batches_source_query", "ingest_batches", ["source", "query"])
    op.create_table(
        "pull_cursors",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("query", sa.String(512), primary_key=True),
        sa.Column("position", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("newest_id", sa.String(96), nullable=True),
        sa.Column("newest_at", sa.DateTime, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_pull_at", sa.DateTime, nullable=True),
        sa.Column("last_batch_id", sa.Integer, sa.ForeignKey("ingest_batches.id"), nullable=True),
        sa.Column("rate_limit_reset_at", sa.DateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("pulls", sa.Integer, nullable=False),
        sa.Column("posts_stored", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pull_cursors")
    op.drop_index("ix_ingest_batches_source_query", table_name="ingest_batches")
    with op.batch_alter_table("ingest_batches") as batch:
        for name, _ in reversed(_BATCH_COLUMNS):
            batch.drop_column(name)
