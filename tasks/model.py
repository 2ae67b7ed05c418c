"""Prefect tasks of the model path: split, rebalance, train, evaluate, promote, report.

Glue only (retries, logging, artifacts); the work is in :mod:`sentiment.usecases`. Tasks pass
references (version ids, folders), so evaluation can run in another process than training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from sentiment import usecases
from sentiment.data.datasets import LabelledSplit
from sentiment.data.rebalance import Rebalanced
from sentiment.model.training import eta
from sentiment.reporting.metrics import Metrics, metrics_table_rows
from sentiment.settings import Settings
from tasks.retry import retry_unless_user_error


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=retry_unless_user_error, cache_policy=NO_CACHE)
def split_data(settings: Settings) -> LabelledSplit:
    """Train / validation / frozen test split of the labelled tweets (freezes the test set once)."""
    return usecases.split_for_training(settings, get_run_logger())


@task(cache_policy=NO_CACHE)
def rebalance_data(split: LabelledSplit, settings: Settings) -> Rebalanced:
    return usecases.rebalance_training_set(split, settings, get_run_logger())


@task(cache_policy=NO_CACHE)
def train_model(split: LabelledSplit, data: Rebalanced, settings: Settings) -> usecases.Candidate:
    """Register a candidate, fine-tune it, save its folder; returns its id, folder and training record."""
    logger = get_run_logger()
    artifact_id = create_progress_artifact(progress=0.0, description="Fine-tuning a new model version")

    def progress(done: int, total: int, rate: float, mean_loss: float, epoch: int) -> None:
        line = f"epoch {epoch}: {done:,}/{total:,} samples, {rate:.1f} samples/s, mean loss {mean_loss:.4f} this epoch, {eta(total - done, rate)} left"
        logger.info("%s", line)  # the run's log, in the UI and on the terminal
        update_progress_artifact(artifact_id, progress=min(100.0, 100.0 * done / max(total, 1)), description=f"Fine-tuning: {line}")

    candidate = usecases.train_candidate(split, data, settings, progress=progress, logger=logger)
    update_progress_artifact(artifact_id, progress=100.0)
    return candidate


@task(cache_policy=NO_CACHE)
def evaluate_model(version_id: int, split: LabelledSplit, settings: Settings) -> Metrics:
    """Macro-F1 and friends on the frozen test set (frozen now if this run drew it), the quality
    gates' baselines, all recorded on the model version."""
    return usecases.evaluate_candidate(settings, version_id, split, logger=get_run_logger()).metrics


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def promote_model(version_id: int, settings: Settings) -> dict[str, Any]:
    return usecases.decide_promotion(settings, version_id, get_run_logger())


@task(cache_policy=NO_CACHE)
def check_quality_gates(version_id: int, decision: dict[str, Any]) -> None:
    """Fails the run, in one line naming the gate, when the quality gates refused the candidate."""
    usecases.enforce_gates(version_id, decision)


@task(cache_policy=NO_CACHE)
def report_evaluation(version_id: int, metrics: Metrics, history: list[dict], decision: dict | None, dataset: str, settings: Settings) -> dict[str, Any]:
    """Report files, the ``evaluation_reports`` row and Prefect artifacts with stable keys."""
    row = usecases.write_evaluation(settings, version_id, metrics, history, decision, dataset)
    markdown = Path(row["report_path"]).read_text(encoding="utf-8")
    if row.get("html_path"):  # the self-contained page a stakeholder opens
        markdown = f"HTML report: [{row['html_path']}]({Path(row['html_path']).as_uri()})\n\n{markdown}"
    create_markdown_artifact(key="model-evaluation", markdown=markdown, description=f"Model v{version_id} on {dataset}")
    create_table_artifact(key="model-metrics", table=metrics_table_rows(metrics), description=f"Per-class metrics of model v{version_id} on {dataset}")
    get_run_logger().info("report: %s", row["report_path"])
    return row

