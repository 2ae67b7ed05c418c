"""The ``nightly`` flow: ingest, score every tweet the champion has not scored, daily report."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.ingest import ingest
from sentiment.settings import Settings
from tasks import find_champion, report_daily, score_new_tweets


@flow(name="score", log_prints=True)
def score() -> dict[str, Any]:
    """Score new tweets with the champion and write the daily report."""
    settings = Settings()
    champion = find_champion(settings)
    if champion is None:
        return {"scored": 0, "reason": f"no champion model for labels {settings.label_set}"}
    summary = score_new_tweets(champion, settings)
    report = report_daily(champion, summary, settings)
    return {"model_version_id": champion["id"], **summary.to_dict(), "report": report["report_path"]}


@flow(name="nightly", log_prints=True)
def nightly(paths: list[str] | None = None, source: str | None = None) -> dict[str, Any]:
    """Ingest new tweets (inbox, paths or a source such as ``replay:PATH``), then score and report."""
    summaries = ingest(paths=paths, source=source)
    result = score()
    return {"ingested": [s.to_dict() for s in summaries], **result}
