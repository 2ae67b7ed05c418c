"""Indexes for the hot paths, checked with EXPLAIN on SQLite and PostgreSQL (tests/sentiment/test_migrations.py).

- tweets a model version has not scored yet: ``count_unscored`` reads every tweet_id a version
  scored (``scores(model_version_id, tweet_id)``, index only, replaces the one-column index);
  ``unscored_chunks`` probes ``scores(tweet_id, model_version_id)`` per tweet (the unique
  constraint ``uq_scores_tweet_model`` already is that index);
- scores by tweet: ``uq_scores_tweet_model`` (tweet_id first);
- tweets by created_at: ``ix_tweets_created_at`` (baseline);
- labels by origin: ``labels(origin, label)`` answers "gold labels per class" from the index alone
  (replaces the one-column index); labels by tweet use ``uq_labels_tweet_origin``;
- evaluation reports of a model version: PostgreSQL does not index foreign keys by itself.

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-01
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_scores_model_version_tweet", "scores", ["model_version_id", "tweet_id"])
    op.drop_index("ix_scores_model_version", table_name="scores")
    op.create_index("ix_labels_origin_label", "labels", ["origin", "label"])
    op.drop_index("ix_labels_origin", table_name="labels")
    op.create_index("ix_evaluation_reports_model_version", "evaluation_reports", ["model_version_id"])


def downgrade() -> None:
    op.drop_index("ix_evaluation_reports_model_version", table_name="evaluation_reports")
    op.create_index("ix_labels_origin", "labels", ["origin"])
    op.drop_index("ix_labels_origin_label", table_name="labels")
    op.create_index("ix_scores_model_version", "scores", ["model_version_id"])
    op.drop_index("ix_scores_model_version_tweet", table_name="scores")
