"""Scoring fanned out over a Dask cluster (prefect-dask): one task per keyset range of tweets.

The single-process ``score`` flow stays the default. With ``TWEETSENT_DASK_ADDRESS`` (a running
cluster) or ``TWEETSENT_DASK_WORKERS`` (a local cluster of that many processes) the score flow
runs :func:`score_on_dask` instead: same ranges, same model, same insert-or-ignore writes, so the
scores are the single-process ones; only the wall-clock time changes. Every worker needs the
project installed and the database reachable at ``TWEETSENT_DB_URL`` (PostgreSQL across machines).
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, unmapped
from prefect_dask import DaskTaskRunner

from sentiment.model.scoring import ScoreSummary
from sentiment.settings import Settings
from tasks import merge_score_summaries, plan_score_ranges, score_tweet_range


def dask_task_runner(settings: Settings) -> DaskTaskRunner:
    """A runner for the configured cluster: an existing one by address, or a local one."""
    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    # One thread per worker process: PyTorch threads inside each process use the cores, and
    # two tasks sharing a process would only fight over them.
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": settings.dask_workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None},
    )


@flow(name="score-on-dask", log_prints=True)
def score_ranges(champion: dict[str, Any], settings: Settings) -> ScoreSummary:
    """Plan keyset ranges of unscored tweets and score them in parallel on the flow's task runner."""
    started = time.perf_counter()
    ranges = plan_score_ranges(champion, settings)
    parts = score_tweet_range.map(unmapped(champion), ranges, unmapped(settings)).result()
    return merge_score_summaries(champion, parts, time.perf_counter() - started)


def score_on_dask(champion: dict[str, Any], settings: Settings) -> ScoreSummary:
    """:func:`score_ranges` as a subflow on the Dask cluster the settings name."""
    return score_ranges.with_options(task_runner=dask_task_runner(settings))(champion, settings)
