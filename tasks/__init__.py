"""Prefect tasks, one module per pipeline stage, re-exported here."""

from tasks.ingest import (
    archive_inbox_input,
    clean_batch,
    dedupe_batch,
    find_previous_batch,
    plan_ingest,
    publish_ingest_summary,
    pull_live_source,
    read_input,
    store_batch,
    validate_batch,
)
from tasks.model import check_quality_gates, evaluate_model, promote_model, rebalance_data, report_evaluation, split_data, train_model
from tasks.score import find_champion, merge_score_summaries, plan_score_ranges, report_daily, require_champion, score_new_tweets, score_tweet_range

__all__ = [
    "archive_inbox_input",
    "check_quality_gates",
    "clean_batch",
    "dedupe_batch",
    "evaluate_model",
    "find_champion",
    "find_previous_batch",
    "merge_score_summaries",
    "plan_score_ranges",
    "plan_ingest",
    "promote_model",
    "publish_ingest_summary",
    "pull_live_source",
    "read_input",
    "rebalance_data",
    "report_daily",
    "report_evaluation",
    "require_champion",
    "score_new_tweets",
    "score_tweet_range",
    "split_data",
    "store_batch",
    "train_model",
    "validate_batch",
]
