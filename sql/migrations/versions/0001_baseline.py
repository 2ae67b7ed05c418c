"""Baseline: the schema of the issue 2 and 3 code (ingest, then the model path).

Databases made before migrations existed already hold some or all of these tables (the code
created them with ``metadata.create_all``): this revision creates only the tables that are
missing, keeps every existing row, and widens on PostgreSQL the three columns that the first
issue 2 code made VARCHAR. A new database gets all of it.

Written out table by table on purpose: later edits of sentiment/db.py must not change history.

Revision ID: 0001
Revises:
Create Date: 2026-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: (table, column) that early issue 2 code created as VARCHAR(n); TEXT since.
_WIDENED = (("tweets", "topic"), ("quarantine", "location"), ("ingest_batches", "origin"))


def _create_ingest_batches() -> None:
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(160), nullable=False, unique=True),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("rows_inserted", sa.Integer, nullable=False),
        sa.Column("rows_duplicate", sa.Integer, nullable=False),
        sa.Column("rows_quarantined", sa.Integer, nullable=False),
        sa.Column("label_conflicts", sa.Integer, nullable=False),
        sa.Column("labels_inserted", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
    )


def _create_tweets() -> None:
    op.create_table(
        "tweets",
        sa.Column("id", sa.String(96), primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(80), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("clean_text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=True),
        sa.Column("author", sa.String(128), nullable=True),
        sa.Column("lang", sa.String(16), nullable=True),
        sa.Column("topic", sa.Text, nullable=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingest_batches.id"), nullable=False),
        sa.Column("ingested_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_tweets_created_at", "tweets", ["created_at"])
    op.create_index("ix_tweets_batch_id", "tweets", ["batch_id"])


def _create_labels() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tweet_id", sa.String(96), sa.ForeignKey("tweets.id"), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingest_batches.id"), nullable=True),
        sa.Column("labeled_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("tweet_id", "origin", name="uq_labels_tweet_origin"),
    )
    op.create_index("ix_labels_origin", "labels", ["origin"])


def _create_quarantine() -> None:
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("ingest_batches.id"), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tweet_id", sa.String(96), nullable=True),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("quarantined_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_quarantine_batch", "quarantine", ["batch_id"])


def _create_test_tweets() -> None:
    op.create_table(
        "test_tweets",
        sa.Column("label_set", sa.String(256), primary_key=True),
        sa.Column("tweet_id", sa.String(96), sa.ForeignKey("tweets.id"), primary_key=True),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("frozen_at", sa.DateTime, nullable=False),
    )


def _create_model_versions() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("base_checkpoint", sa.Text, nullable=False),
        sa.Column("artifact_path", sa.Text, nullable=False),
        sa.Column("label_set", sa.String(256), nullable=False),
        sa.Column("hyperparameters", sa.JSON, nullable=False),
        sa.Column("data_snapshot", sa.JSON, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=True),
        sa.Column("test_macro_f1", sa.Float, nullable=True),
        sa.Column("test_accuracy", sa.Float, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("promotion", sa.JSON, nullable=True),
        sa.Column("train_seconds", sa.Float, nullable=True),
    )
    op.create_index("ix_model_versions_status", "model_versions", ["status"])


def _create_scores() -> None:
    op.create_table(
        "scores",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tweet_id", sa.String(96), sa.ForeignKey("tweets.id"), nullable=False),
        sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("p_negative", sa.Float, nullable=True),
        sa.Column("p_neutral", sa.Float, nullable=True),
        sa.Column("p_positive", sa.Float, nullable=True),
        sa.Column("probabilities", sa.JSON, nullable=False),
        sa.Column("scored_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("tweet_id", "model_version_id", name="uq_scores_tweet_model"),
    )
    op.create_index("ix_scores_model_version", "scores", ["model_version_id"])


def _create_evaluation_reports() -> None:
    op.create_table(
        "evaluation_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("dataset", sa.Text, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("accuracy", sa.Float, nullable=False),
        sa.Column("macro_f1", sa.Float, nullable=False),
        sa.Column("weighted_f1", sa.Float, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("report_path", sa.Text, nullable=False),
        sa.Column("plots", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def _create_daily_reports() -> None:
    op.create_table(
        "daily_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=True),
        sa.Column("tweets_scored", sa.Integer, nullable=False),
        sa.Column("mean_confidence", sa.Float, nullable=True),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("report_path", sa.Text, nullable=False),
    )


#: In foreign-key order.
_TABLES = {
    "ingest_batches": _create_ingest_batches,
    "tweets": _create_tweets,
    "labels": _create_labels,
    "quarantine": _create_quarantine,
    "test_tweets": _create_test_tweets,
    "model_versions": _create_model_versions,
    "scores": _create_scores,
    "evaluation_reports": _create_evaluation_reports,
    "daily_reports": _create_daily_reports,
}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, create in _TABLES.items():
        if name not in existing:
            create()
    if op.get_bind().dialect.name == "postgresql":
        for table, column in _WIDENED:
            if table in existing:
                current = {c["name"]: c["type"] for c in inspector.get_columns(table)}[column]
                if not isinstance(current, sa.Text):
                    op.alter_column(table, column, type_=sa.Text, existing_nullable=column == "topic")


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)
