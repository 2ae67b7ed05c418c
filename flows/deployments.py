"""Deployments of the ingest, nightly and retrain flows: served from one process, or on work pools.

- ``tweetsent serve``: one long-lived process serves all three deployments against a Prefect
  server (``serve(..., pause_on_shutdown=False)``, so a restart does not switch the schedules off).
- ``tweetsent deploy``: process work pools ``cpu`` and ``gpu`` (concurrency 1) and deployments
  that send ``retrain`` to ``gpu`` and the others to ``cpu``; ``prefect worker start --pool ...``
  on each machine runs them.

Entrypoints are module paths (``flows.nightly.nightly``), so a worker runs the flows from the
installed tweetsent package wherever its checkout lives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sentiment.settings import Settings

#: Work pool for flows that need no GPU, and the one for training.
CPU_POOL = "cpu"
GPU_POOL = "gpu"


@dataclass(frozen=True)
class DeploymentSpec:
    flow_name: str
    entrypoint: str
    cron_setting: str | None  # None: no schedule, runs by hand (or from another flow)
    pool: str
    description: str


SPECS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec("ingest", "flows.ingest.ingest", "ingest_cron", CPU_POOL, "Pull new tweets from the inbox and sources: validate, quarantine bad rows, clean, store."),
    DeploymentSpec("nightly", "flows.nightly.nightly", "nightly_cron", CPU_POOL, "Ingest, score every new tweet with the champion, daily report, decide whether to retrain."),
    DeploymentSpec("retrain", "flows.retrain.retrain", "retrain_cron", GPU_POOL, "Rebalance, fine-tune, evaluate on the frozen test set, promote if it passes the quality gates and beats the champion."),
    DeploymentSpec("label-export", "flows.labelling.label_export", None, CPU_POOL, "Send the tweets the champion is least sure of to annotators (Label Studio or CSV)."),
    DeploymentSpec("label-import", "flows.labelling.label_import", None, CPU_POOL, "Store annotators' labels from a Label Studio export or the Label Studio project."),
    DeploymentSpec("tune", "flows.tune.tune", None, GPU_POOL, "Optuna study over the training hyperparameters (a fine-tune per trial, on validation), then a version from the best trial."),
    DeploymentSpec("stream", "flows.stream.stream", "stream_cron", CPU_POOL, "Follow Bluesky's Jetstream for a window: store and score posts matching the keywords within seconds."),
)


def _flow_object(spec: DeploymentSpec):
    from importlib import import_module

    module, name = spec.entrypoint.rsplit(".", 1)
    return getattr(import_module(module), name)


def default_parameters(flow_name: str, settings: Settings) -> dict[str, Any]:
    """The run form's starting values: the retrain flow's parameters as the settings fill them."""
    if flow_name == "label-export":
        return {"count": settings.label_export_count or 200, "strategy": settings.label_strategy}
    if flow_name == "stream":
        return {"keywords": list(settings.stream_keywords) or None, "lang": settings.stream_lang, "minutes": settings.stream_minutes}
    if flow_name != "retrain":
        return {}
    from flows.retrain import parameter_defaults

    return parameter_defaults(settings)


def build_deployments(settings: Settings, work_pools: bool = False) -> list[Any]:
    """RunnerDeployments of the flows, the scheduled ones with their cron schedules (in ``settings.timezone``)."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    deployments = []
    for spec in SPECS:
        cron = getattr(settings, spec.cron_setting) if spec.cron_setting else None
        deployment = _flow_object(spec).to_deployment(
            name=settings.deployment_name,
            schedules=[Cron(cron, timezone=settings.timezone)] if cron else [],
            description=spec.description,
            tags=["tweetsent"],
            # Two trainings at once on one machine only thrash, and stream windows scheduled back to
            # back must not overlap; scoring and ingest are overlap-safe.
            concurrency_limit=1 if spec.flow_name in ("retrain", "tune", "stream") else None,
            entrypoint_type=EntrypointType.MODULE_PATH,
            work_pool_name=spec.pool if work_pools else None,
            # The run form in the UI starts from the configured values instead of empty fields.
            parameters=default_parameters(spec.flow_name, settings),
        )
        deployments.append(deployment)
    return deployments


def api_problem(url: str, timeout: float = 5.0) -> str | None:
    """None when a Prefect API answers its health check at ``url``, else what went wrong."""
    import httpx

    try:
        response = httpx.get(url.rstrip("/") + "/health", timeout=timeout)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


def check_api(url: str, wait_s: float = 0.0) -> None:
    """Raise RuntimeError naming the URL when no Prefect API answers there (within ``wait_s``)."""
    deadline = time.monotonic() + wait_s
    while (problem := api_problem(url)) is not None:
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"no Prefect server answers at {url} ({problem}): start one with `tweetsent server` in another terminal, "
                "or point PREFECT_API_URL at yours"
            )
        time.sleep(0.5)


def serve_all(settings: Settings, limit: int | None = None) -> None:
    """Serve the three deployments until interrupted; schedules stay on after a restart."""
    from prefect import serve

    serve(*build_deployments(settings), pause_on_shutdown=False, limit=limit)


def ensure_work_pools(gpu_concurrency: int = 1) -> dict[str, str]:
    """Create the process work pools ``cpu`` and ``gpu`` if missing; return what was done."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectAlreadyExists

    done: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        for name, limit in ((CPU_POOL, None), (GPU_POOL, gpu_concurrency)):
            try:
                client.create_work_pool(WorkPoolCreate(name=name, type="process", concurrency_limit=limit, description=f"tweetsent {name} machines"))
                done[name] = "created"
            except ObjectAlreadyExists:
                client.update_work_pool(name, WorkPoolUpdate(concurrency_limit=limit))
                done[name] = "exists"
    return done


def deploy_to_pools(settings: Settings) -> list[dict[str, Any]]:
    """Work pools plus deployments on them; returns one summary per deployment."""
    ensure_work_pools()
    out = []
    for spec, deployment in zip(SPECS, build_deployments(settings, work_pools=True)):
        deployment_id = deployment.apply(work_pool_name=spec.pool)
        out.append({"deployment": f"{spec.flow_name}/{settings.deployment_name}", "id": str(deployment_id), "pool": spec.pool,
                    "cron": getattr(settings, spec.cron_setting) if spec.cron_setting else None, "timezone": settings.timezone})
    return out


def read_deployments(settings: Settings) -> list[dict[str, Any]]:
    """The deployments as the server has them: name, cron strings, time zone, work pool."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    out = []
    with get_client(sync_client=True) as client:
        for spec in SPECS:
            name = f"{spec.flow_name}/{settings.deployment_name}"
            try:
                deployment = client.read_deployment_by_name(name)
            except ObjectNotFound:
                continue
            crons = [getattr(s.schedule, "cron", None) for s in deployment.schedules]
            zones = [getattr(s.schedule, "timezone", None) for s in deployment.schedules]
            out.append({"deployment": name, "id": str(deployment.id), "cron": crons, "timezone": zones,
                        "active": [s.active for s in deployment.schedules], "pool": deployment.work_pool_name, "paused": deployment.paused})
    return out
