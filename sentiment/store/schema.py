"""The tweet database's tables: one schema for SQLite and PostgreSQL (SQLAlchemy 2 Core).

Timestamps are stored as naive UTC everywhere, because SQLite has no time-zone type and the same
SQL must read the same on both databases. The schema is owned by the Alembic migrations in
``sql/migrations``; this ``metadata`` is kept in step with them (a test checks).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

tweets = Table(
    "tweets",
    metadata,
    # "<namespace>:<source id>": "x:<id>" for Twitter/X ids whatever file they came from, so the
    # same tweet seen in two exports is one row; content-derived for sources without ids.
    Column("id", String(96), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("source_id", String(80), nullable=False),
    Column("text", Text, nullable=False),
    Column("clean_text", Text, nullable=False),
    Column("created_at", DateTime, nullable=True),
    Column("author", String(128), nullable=True),
    Column("lang", String(16), nullable=True),
    Column("topic", Text, nullable=True),
    Column("batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=False),
    Column("ingested_at", DateTime, nullable=False),
    # When its author deleted the post (a Jetstream delete event): the row and its scores stay for
    # the record; the live views leave it out.
    Column("deleted_at", DateTime, nullable=True),
    Index("ix_tweets_created_at", "created_at"),
    Index("ix_tweets_batch_id", "batch_id"),
)

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tweet_id", String(96), ForeignKey("tweets.id"), nullable=False),
    Column("label", String(32), nullable=False),
    # gold: from a labelled dataset; human: annotation; weak: heuristics.
    Column("origin", String(16), nullable=False),
    Column("batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=True),
    Column("labeled_at", DateTime, nullable=False),
    # human labels: who gave it (the annotators of the majority, comma separated)
    Column("annotator", String(256), nullable=True),
    UniqueConstraint("tweet_id", "origin", name="uq_labels_tweet_origin"),
    # "gold labels per class" from the index alone.
    Index("ix_labels_origin_label", "origin", "label"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=False),
    Column("source", String(32), nullable=False),
    # "path:line" for files, "synthetic#n" for generated rows.
    Column("location", Text, nullable=False),
    # invalid: the row was rejected. conflict: the tweet was already stored (the row counts as a
    # duplicate) but this row disagrees with the stored label; kept here for review.
    Column("kind", String(16), nullable=False),
    Column("tweet_id", String(96), nullable=True),
    Column("raw", Text, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("quarantined_at", DateTime, nullable=False),
    Index("ix_quarantine_batch", "batch_id"),
)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("origin", Text, nullable=False),
    # sha256 of a file's bytes (plus the day for replay, the spec for synthetic). Unique: the same
    # input is never stored twice, even by two runs racing each other.
    Column("fingerprint", String(160), nullable=False, unique=True),
    Column("format", String(32), nullable=False),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("rows_inserted", Integer, nullable=False, default=0),
    Column("rows_duplicate", Integer, nullable=False, default=0),
    Column("rows_quarantined", Integer, nullable=False, default=0),
    Column("label_conflicts", Integer, nullable=False, default=0),
    Column("labels_inserted", Integer, nullable=False, default=0),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    # Pulls from a live source (x:QUERY, bluesky:QUERY) only: the query, pages fetched, whether
    # the API's rate limit ended the pull, the pull cursor before and after, errors the API
    # returned next to its data, and how the pull ended (running, caught_up, more, rate_limited,
    # failed, interrupted, superseded).
    Column("query", Text, nullable=True),
    Column("pages", Integer, nullable=True),
    Column("rate_limited", Boolean, nullable=True),
    Column("cursor_before", JSON, nullable=True),
    Column("cursor_after", JSON, nullable=True),
    Column("api_errors", JSON, nullable=True),
    Column("status", String(16), nullable=True),
    Column("error", Text, nullable=True),
    Column("owner", String(160), nullable=True),
    # Stream runs (Jetstream) only: events seen, posts matched, stored, scored, deletes applied,
    # reconnects, latency percentiles, lag (see sentiment.usecases.streaming.StreamStats).
    Column("stream_stats", JSON, nullable=True),
    Index("ix_ingest_batches_source_query", "source", "query"),
)

pull_cursors = Table(
    "pull_cursors",
    metadata,
    # Where each live query stands. ``position`` is what the next pull asks the API for (X: since_id
    # and a next_token; Bluesky: since, until or cursor, and the posts at the boundary); it advances
    # in the same transaction as the rows it covers, so a pull killed half-way resumes without a
    # gap or a duplicate. ``version`` grows by one per stored page: a second pull of the same query
    # running at once notices and stops instead of storing the same page twice.
    Column("source", String(16), primary_key=True),
    Column("query", String(512), primary_key=True),
    Column("position", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    # The newest post stored for this query (X: its id; both: its time).
    Column("newest_id", String(96), nullable=True),
    Column("newest_at", DateTime, nullable=True),
    # caught_up, more (out of budget: the next run goes on), rate_limited, failed
    Column("status", String(16), nullable=False),
    Column("last_pull_at", DateTime, nullable=True),
    Column("last_batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=True),
    Column("rate_limit_reset_at", DateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("pulls", Integer, nullable=False),
    Column("posts_stored", Integer, nullable=False),
)

test_tweets = Table(
    "test_tweets",
    metadata,
    # The frozen test set, one per label set ("negative,neutral,positive"): fixed by the first
    # training run so that every model version is evaluated on the same tweets.
    Column("label_set", String(256), primary_key=True),
    Column("tweet_id", String(96), ForeignKey("tweets.id"), primary_key=True),
    Column("label", String(32), nullable=False),
    Column("frozen_at", DateTime, nullable=False),
    # The test set version this tweet joined in; set k is every row with test_set_id <= k.
    Column("test_set_id", Integer, nullable=True),
)

test_sets = Table(
    "test_sets",
    metadata,
    # Versions of a label set's frozen test set. A set only grows (a renewal adds tweets no
    # champion has trained on), and model versions are compared only on the same set.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label_set", String(256), nullable=False),
    Column("size", Integer, nullable=False),
    Column("class_counts", JSON, nullable=False),
    Column("frozen_at", DateTime, nullable=False),
    Column("note", Text, nullable=True),
    Index("ix_test_sets_label_set", "label_set", "id"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("base_checkpoint", Text, nullable=False),
    Column("artifact_path", Text, nullable=False),
    Column("label_set", String(256), nullable=False),
    Column("hyperparameters", JSON, nullable=False),
    Column("data_snapshot", JSON, nullable=False),
    Column("metrics", JSON, nullable=True),
    # Frozen-test-set macro-F1 and accuracy as plain columns, so SQL can rank versions.
    Column("test_macro_f1", Float, nullable=True),
    Column("test_accuracy", Float, nullable=True),
    # candidate -> champion (at most one per label set) -> retired
    Column("status", String(16), nullable=False),
    Column("promotion", JSON, nullable=True),
    Column("train_seconds", Float, nullable=True),
    # The test set its test metrics are on, and "host:pid" of the run that trains it.
    Column("test_set_id", Integer, nullable=True),
    Column("owner", String(160), nullable=True),
    Index("ix_model_versions_status", "status"),
)

scores = Table(
    "scores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tweet_id", String(96), ForeignKey("tweets.id"), nullable=False),
    Column("model_version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("label", String(32), nullable=False),
    Column("confidence", Float, nullable=False),
    # One column per standard class so the same SQL works on SQLite and PostgreSQL; the JSON
    # column holds every class for any other label set.
    Column("p_negative", Float, nullable=True),
    Column("p_neutral", Float, nullable=True),
    Column("p_positive", Float, nullable=True),
    Column("probabilities", JSON, nullable=False),
    Column("scored_at", DateTime, nullable=False),
    # Scoring is idempotent and overlap-safe because of this constraint, not because of timing.
    UniqueConstraint("tweet_id", "model_version_id", name="uq_scores_tweet_model"),
    # Every tweet a version scored, from the index alone (tweets it has not scored yet).
    Index("ix_scores_model_version_tweet", "model_version_id", "tweet_id"),
)

evaluation_reports = Table(
    "evaluation_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("dataset", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("accuracy", Float, nullable=False),
    Column("macro_f1", Float, nullable=False),
    Column("weighted_f1", Float, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("report_path", Text, nullable=False),
    Column("plots", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # the self-contained HTML report beside the Markdown one
    Column("html_path", Text, nullable=True),
    Index("ix_evaluation_reports_model_version", "model_version_id"),
)

daily_reports = Table(
    "daily_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("model_version_id", Integer, ForeignKey("model_versions.id"), nullable=True),
    Column("tweets_scored", Integer, nullable=False),
    Column("mean_confidence", Float, nullable=True),
    Column("summary", JSON, nullable=False),
    Column("report_path", Text, nullable=False),
    Column("html_path", Text, nullable=True),
)

retrain_decisions = Table(
    "retrain_decisions",
    metadata,
    # One row per nightly decision whether to start the retrain deployment, yes or no, with why.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decided_at", DateTime, nullable=False),
    Column("label_set", String(256), nullable=False),
    Column("champion_id", Integer, ForeignKey("model_versions.id"), nullable=True),
    Column("retrain", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("new_labels", Integer, nullable=False),
    Column("label_psi", Float, nullable=True),
    Column("confidence_psi", Float, nullable=True),
    Column("details", JSON, nullable=False),
    Column("flow_run_id", String(64), nullable=True),
    # The retrain flow run it started; NULL when it decided no, or could not start one.
    Column("triggered_flow_run_id", String(64), nullable=True),
    Index("ix_retrain_decisions_label_set_decided", "label_set", "decided_at"),
)

evaluation_slices = Table(
    "evaluation_slices",
    metadata,
    # Macro-F1 of a version per slice of the frozen test set (topic, length, URL, mention, hashtag,
    # emoji, language), with a bootstrap 95% interval: "which slices got worse in v7?" in SQL.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_version_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("test_set_id", Integer, nullable=True),
    Column("grp", String(32), nullable=False),
    Column("slice", String(96), nullable=False),
    Column("n", Integer, nullable=False),
    Column("macro_f1", Float, nullable=False),
    Column("low", Float, nullable=True),
    Column("high", Float, nullable=True),
    Column("worst", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_evaluation_slices_version", "model_version_id"),
)

annotation_batches = Table(
    "annotation_batches",
    metadata,
    # One row per `tweetsent label export`: which tweets went to annotators, how they were picked.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("strategy", String(16), nullable=False),  # uncertainty, diverse, random, review
    Column("label_set", String(256), nullable=False),
    Column("model_version_id", Integer, ForeignKey("model_versions.id"), nullable=True),
    Column("requested", Integer, nullable=False),
    Column("sent", Integer, nullable=False),
    Column("out_path", Text, nullable=True),
    Column("label_studio_project", Text, nullable=True),
)

annotation_tasks = Table(
    "annotation_tasks",
    metadata,
    # The tweets of an export; "pending" until a human label for them is imported.
    Column("batch_id", Integer, ForeignKey("annotation_batches.id"), primary_key=True),
    Column("tweet_id", String(96), ForeignKey("tweets.id"), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("predicted", String(32), nullable=True),
    Column("confidence", Float, nullable=True),
    Column("margin", Float, nullable=True),
    Column("sent_at", DateTime, nullable=False),
    Index("ix_annotation_tasks_tweet_status", "tweet_id", "status"),
)

annotations = Table(
    "annotations",
    metadata,
    # Every imported annotation, one row per annotator's answer; the human label of a tweet is the
    # majority of its annotators. ``ref`` names the annotation in its source ("ls:<task>:<id>", or
    # a hash of a CSV row): importing it again changes nothing.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ref", String(160), nullable=False, unique=True),
    Column("tweet_id", String(96), ForeignKey("tweets.id"), nullable=False),
    Column("annotator", String(256), nullable=False),
    Column("label", String(32), nullable=False),
    Column("annotated_at", DateTime, nullable=True),
    Column("batch_id", Integer, ForeignKey("ingest_batches.id"), nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Index("ix_annotations_tweet", "tweet_id"),
)

TABLES: tuple[Table, ...] = (
    tweets, labels, quarantine, ingest_batches, test_tweets, test_sets, model_versions, scores, evaluation_reports, daily_reports,
    retrain_decisions, pull_cursors, annotation_batches, annotation_tasks, annotations, evaluation_slices,
)


def schema_ddl() -> str:
    """The schema as PostgreSQL DDL, for people to read (sql/schema.sql)."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = postgresql.dialect()
    parts = ["-- Generated from sentiment/store/schema.py; regenerate with: python -m sentiment.store.schema > sql/schema.sql\n"]
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";\n")
        for index in sorted(table.indexes, key=lambda i: i.name):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";\n")
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    print(schema_ddl(), end="")

