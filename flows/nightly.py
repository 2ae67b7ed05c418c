"""The ``nightly`` flow: ingest, score every tweet the champion has not scored, daily report."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.ingest import ingest
from sentiment.clock import utcnow
from sentiment.errors import UserError
from sentiment.settings import Settings
from tasks import find_champion, report_daily, require_champion, score_new_tweets
from tasks.triggers import decide_retrain


@flow(name="score", log_prints=True)
def score() -> dict[str, Any]:
    """Score new tweets with the champion and write the daily report (Failed when there is no champion)."""
    settings = Settings()
    champion = require_champion(settings)
    if settings.uses_dask:  # TWEETSENT_DASK_ADDRESS or TWEETSENT_DASK_WORKERS: fan the chunks out
        from flows.scale_out import score_on_dask

        summary = score_on_dask(champion, settings)
    else:
        summary = score_new_tweets(champion, settings)
    report = report_daily(champion, summary, settings)
    return {"model_version_id": champion["id"], **summary.to_dict(), "report": report["report_path"]}


@flow(name="nightly", log_prints=True)
def nightly(source: list[str] | str | None = None, paths: list[str] | None = None, check_retrain: bool = True) -> dict[str, Any]:
    """Ingest new tweets, score every tweet the champion has not scored, write the daily report,
    then decide (and record why) whether to start retraining.

    Args:
        source: Where new tweets come from instead of the inbox folder and TWEETSENT_PULL_SOURCES: `x:QUERY`, `bluesky:QUERY`, `replay:PATH` (the next day of a file), `file:PATH` or `synthetic` (one or several).
        paths: Files or folders to ingest instead of the inbox folder.
        check_retrain: Decide whether to start the retrain deployment (enough new labels, or drift), and record why.
    """
    pull_failure: UserError | None = None
    try:
        summaries = ingest(paths=paths, source=source)
    except UserError as exc:  # a live source down: still score what is stored, then fail the run
        print(f"ingest failed, scoring what is stored: {exc}")
        pull_failure, summaries = exc, []
    started = utcnow()
    # Before the first model is trained there is nothing to score: the nightly run still ingests
    # and decides whether to start the first training.
    settings = Settings()
    if find_champion(settings) is not None:
        result = score()
    else:
        result = {"scored": 0, "reason": f"no champion model for labels {settings.label_set}"}
    if settings.label_export_count and result.get("model_version_id"):
        from flows.labelling import label_export

        try:  # annotators not reachable is no reason to fail a night's scoring
            result["label_export"] = label_export(count=settings.label_export_count)
        except Exception as exc:
            print(f"label export failed: {exc}")
            result["label_export"] = {"error": str(exc)}
    if check_retrain:
        result["retrain_decision"] = decide_retrain(result.get("model_version_id"), started if result.get("scored") else None, settings)
    if pull_failure is not None:
        raise pull_failure
    return {"ingested": [s.to_dict() for s in summaries], **result}
