"""The Jetstream stream: ``tweets.deleted_at`` (a post its author deleted: kept, with its scores,
for the record, and left out of the live views) and ``ingest_batches.stream_stats`` (what a
stream run saw, matched, stored, scored and deleted, its reconnects and its latency).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tweets", sa.Column("deleted_at", sa.DateTime, nullable=True))
    op.add_column("ingest_batches", sa.Column("stream_stats", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingest_batches") as batch:
        batch.drop_column("stream_stats")
    with op.batch_alter_table("tweets") as batch:
        batch.drop_column("deleted_at")
