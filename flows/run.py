"""The ``run`` flow: the whole chain once (the command line's main job)."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.ingest import ingest
from flows.nightly import score
from flows.retrain import retrain
from sentiment.settings import Rebalance


@flow(name="run", log_prints=True)
def run_all(source: str = "synthetic", epochs: int | None = None, rebalance: Rebalance | None = None) -> dict[str, Any]:
    """Ingest, validate, clean, rebalance, fine-tune, evaluate, promote, score, report."""
    summaries = ingest(source=source)
    trained = retrain(epochs=epochs, rebalance=rebalance)
    scored = score()
    return {"ingested": [s.to_dict() for s in summaries], "model": trained, "scoring": scored}
