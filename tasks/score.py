"""Prefect tasks of nightly scoring and the daily report."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from sentiment import usecases
from sentiment.model.scoring import ScoreSummary, cached_classifier, combine_summaries, score_range, scoring_threads, unscored_ranges
from sentiment.settings import Settings
from sentiment.store import open_db
from tasks.retry import retry_unless_user_error


@task(cache_policy=NO_CACHE)
def find_champion(settings: Settings) -> dict[str, Any] | None:
    champion = usecases.find_champion(settings)
    if champion is None:
        get_run_logger().warning("no champion model for labels %s yet: run `tweetsent train` (the retrain flow) first", settings.label_set)
    return champion


@task(cache_policy=NO_CACHE)
def require_champion(settings: Settings) -> dict[str, Any]:
    """The champion, or the run fails with a one-line error saying how to get one."""
    return usecases.require_champion(settings)


@task(retries=2, retry_delay_seconds=10, retry_condition_fn=retry_unless_user_error, cache_policy=NO_CACHE)
def score_new_tweets(champion: dict[str, Any], settings: Settings) -> ScoreSummary:
    """Score every tweet the champion has not scored; a retry continues where the last try stopped."""
    artifact_id = create_progress_artifact(progress=0.0, description=f"Scoring with model v{champion['id']}")

    def progress(done: int, total: int, rate: float) -> None:
        update_progress_artifact(artifact_id, progress=min(100.0, 100.0 * done / max(total, 1)))

    summary = usecases.score_new_tweets(settings, champion, progress=progress, logger=get_run_logger())
    update_progress_artifact(artifact_id, progress=100.0)
    return summary


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=retry_unless_user_error, cache_policy=NO_CACHE)
def plan_score_ranges(champion: dict[str, Any], settings: Settings) -> list[tuple[str, str | None]]:
    """Keyset ranges of ``score_chunk`` unscored tweets each, one task per range on the task runner."""
    ranges = unscored_ranges(open_db(settings), champion["id"], settings.score_chunk)
    get_run_logger().info("champion v%d: unscored tweets cut into %d ranges of up to %d", champion["id"], len(ranges), settings.score_chunk)
    return ranges


@task(retries=2, retry_delay_seconds=10, retry_condition_fn=retry_unless_user_error, cache_policy=NO_CACHE)
def score_tweet_range(champion: dict[str, Any], bounds: tuple[str, str | None], settings: Settings) -> ScoreSummary:
    """Score one range; the model is loaded once per worker process, a retry skips what is stored."""
    threads = scoring_threads(settings.score_threads, 0 if settings.dask_address else settings.dask_workers)
    classifier = cached_classifier(champion["artifact_path"], settings.device, settings.quantize, threads, settings.precision)
    after, upto = bounds
    return score_range(open_db(settings), classifier, champion["id"], after, upto, chunk=settings.score_chunk, batch_size=settings.score_batch_size)


@task(cache_policy=NO_CACHE)
def merge_score_summaries(champion: dict[str, Any], parts: list[ScoreSummary], seconds: float) -> ScoreSummary:
    summary = combine_summaries(champion["id"], parts, seconds)
    get_run_logger().info("scored %d tweets in %d ranges in %.1f s (%.1f tweets/s)", summary.scored, len(parts), seconds, summary.tweets_per_s)
    return summary


@task(cache_policy=NO_CACHE)
def report_daily(champion: dict[str, Any], summary: ScoreSummary, settings: Settings) -> dict[str, Any]:
    report = usecases.write_daily(settings, champion["id"], summary.scored)
    markdown = report["markdown"]
    if report.get("html_path"):
        from pathlib import Path

        markdown = f"HTML report: [{report['html_path']}]({Path(report['html_path']).as_uri()})\n\n{markdown}"
    create_markdown_artifact(key="daily-report", markdown=markdown, description="Tweets scored, sentiment per topic, movers, examples; link to the HTML report")
    get_run_logger().info("daily report: %s", report["report_path"])
    return report
