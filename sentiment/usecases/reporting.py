"""Write reports: the evaluation report of a version, the daily report of the champion's scores."""

from __future__ import annotations

from typing import Any

from sentiment.reporting.metrics import Metrics
from sentiment.reporting.reports import write_daily_report, write_evaluation_report
from sentiment.settings import Settings
from sentiment.store import open_db, registry


def write_evaluation(
    settings: Settings, version_id: int, metrics: Metrics, history: list[dict[str, Any]], decision: dict[str, Any] | None, dataset: str
) -> dict[str, Any]:
    """The report files and ``evaluation_reports`` row of a version's evaluation on ``dataset``."""
    engine = open_db(settings)
    version = registry.get_version(engine, version_id)
    return write_evaluation_report(
        engine, version=version, metrics=metrics, dataset=dataset, reports_dir=settings.reports_dir, history=history, decision=decision,
        dataset_info=version.get("data_snapshot"),
    )


def write_daily(settings: Settings, model_version_id: int, tweets_scored: int) -> dict[str, Any]:
    """The daily report: tweets scored, label shares per day, mean confidence."""
    return write_daily_report(
        open_db(settings), model_version_id=model_version_id, labels=settings.labels, tweets_scored=tweets_scored, reports_dir=settings.reports_dir
    )
