"""Prefect task of the nightly run's retraining decision: decide, record, start ``retrain``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from sentiment.reporting import drift as triggers
from sentiment.settings import Settings
from sentiment.store import open_db, registry


def retrain_deployment_name(settings: Settings) -> str:
    return f"retrain/{settings.deployment_name}"


@task(cache_policy=NO_CACHE)
def decide_retrain(champion_id: int | None, scored_since: datetime | None, settings: Settings, start: bool = True) -> dict[str, Any]:
    """Record whether to retrain and why; when yes (and ``start``), start the retrain deployment.

    Started with ``timeout=0``: the nightly run does not wait for training, which runs wherever
    the retrain deployment runs (the ``gpu`` work pool when one exists).
    """
    logger = get_run_logger()
    engine = open_db(settings)
    # A candidate whose training died is not "the newest model version" the label count runs from.
    for version_id in registry.fail_stale_candidates(engine, settings.label_set):
        logger.warning("model v%d: marked failed, its training run ended without finishing", version_id)
    decision = triggers.decide(
        engine,
        label_names=settings.labels,
        champion_id=champion_id,
        scored_since=scored_since,
        min_new_labels=settings.retrain_min_new_labels,
        psi_threshold=settings.drift_psi_threshold,
        min_tweets=settings.drift_min_tweets,
        cooldown_hours=settings.retrain_cooldown_hours,
    )
    flow_run_id = runtime.flow_run.id
    triggers.record(engine, decision, str(flow_run_id) if flow_run_id else None)
    if decision.retrain and start:
        from prefect.deployments import run_deployment
        from prefect.exceptions import ObjectNotFound

        name = retrain_deployment_name(settings)
        try:
            run = run_deployment(name=name, timeout=0, as_subflow=False, tags=["triggered-by-nightly"])
        except ObjectNotFound:
            note = f"no deployment {name!r} on this Prefect server: serve it (`tweetsent serve` or `tweetsent deploy`) or run `tweetsent train`"
            logger.warning("retrain wanted but not started: %s", note)
            triggers.set_triggered(engine, decision.id, None, note)
            decision.reasons.append(note)
        else:
            decision.triggered_flow_run_id = str(run.id)
            triggers.set_triggered(engine, decision.id, decision.triggered_flow_run_id)
            logger.info("started %s as flow run %s", name, run.id)
    elif decision.retrain:
        decision.reasons.append("not started: start=False")
    logger.info("retrain: %s (%s)", "yes" if decision.retrain else "no", "; ".join(decision.reasons))
    create_markdown_artifact(key="retrain-decision", markdown=decision.markdown(), description="Why the nightly run did or did not start retraining")
    return decision.to_dict()
