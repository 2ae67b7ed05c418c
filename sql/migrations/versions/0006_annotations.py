"""The labelling loop: ``annotation_batches`` and ``annotation_tasks`` (what went to annotators),
``annotations`` (every imported answer) and ``labels.annotator``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("labels", sa.Column("annotator", sa.String(256), nullable=True))
    op.create_table(
        "annotation_batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("strategy", sa.String(16), nullable=False),
        sa.Column("label_set", sa.String(256), nullable=False),
        sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=True),
        sa.Column("requested", sa.Integer, nullable=False),
        sa.Column("sent", sa.Integer, nullable=False),
        sa.Column("out_path", sa.Text, nullable=True),
        sa.Column("label_studio_project", sa.Text, nullable=True),
    )
    op.create_table(
        "annotation_tasks",
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("annotation_batches.id"), primary_key=True),
        sa.Column("tweet_id", sa.String(96), sa.ForeignKey("tweets.id"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("predicted", sa.String(32), nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("margin", sa.Float, nullable=True),
        sa.Column("sent_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_annotation_tasks_tweet_status", "annotation_tasks", ["tweet_id", "status"])
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(160), nullable=False, unique=True),
        sa.Column("tweet_id", sa.String(96), sa.ForeignKey("tweets.id"), nullable=False),
        sa.Column("annotator", sa.String(256), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("annotated_at", sa.DateTime, nullable=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingest_batches.id"), nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_annotations_tweet", "annotations", ["tweet_id"])


def downgrade() -> None:
    op.drop_index("ix_annotations_tweet", table_name="annotations")
    op.drop_table("annotations")
    op.drop_index("ix_annotation_tasks_tweet_status", table_name="annotation_tasks")
    op.drop_table("annotation_tasks")
    op.drop_table("annotation_batches")
    with op.batch_alter_table("labels") as batch:
        batch.drop_column("annotator")
