"""The labelling loop: send the tweets the champion is least sure of to annotators, take their
labels back (``tweetsent label export|import``; the ``label-export`` and ``label-import`` flows).

An export writes three files next to each other: ``NAME.json`` (Label Studio's task import
format, with the champion's prediction as a pre-annotation), ``NAME.xml`` (the labelling config
to create the project with) and ``NAME.csv`` (for people without Label Studio: fill in ``label``).
With ``TWEETSENT_LABEL_STUDIO_URL`` set it also creates or updates the project and imports the
tasks through the official SDK. Each export is an ``annotation_batches`` row with its tweets
(``annotation_tasks``, pending until their label comes back; a pending tweet is not sent again).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.annotation import formats, selection
from sentiment.annotation.importing import store_answers
from sentiment.clock import utcnow
from sentiment.data.ingest import BatchSummary
from sentiment.errors import UserError
from sentiment.settings import Settings
from sentiment.store import annotation_store as store
from sentiment.store import open_db
from sentiment.usecases.scoring import require_champion

log = logging.getLogger(__name__)
API_KEY_BLOCK, API_KEY_ENV = "tweetsent-label-studio-api-key", "TWEETSENT_LABEL_STUDIO_API_KEY"
#: uncertainty looks at this many times N of the least confident tweets to find the smallest margins
UNCERTAIN_POOL = 20


def _probabilities(rows: list[dict[str, Any]], label_names: tuple[str, ...]) -> np.ndarray:
    return np.array([[float((r["probabilities"] or {}).get(name, 0.0)) for name in label_names] for r in rows]).reshape(len(rows), len(label_names))


def pick_tweets(settings: Settings, champion: dict[str, Any], count: int, strategy: str, logger=log) -> list[dict[str, Any]]:
    """The tweets to send, by ``strategy`` (see :mod:`sentiment.annotation.selection`)."""
    engine = open_db(settings)
    if strategy == "random":
        rows = store.random_candidates(engine, champion["id"], count, settings.seed + int(utcnow().timestamp()) // 86400)
    else:
        pool = store.least_confident(engine, champion["id"], max(count * UNCERTAIN_POOL, 1000))
        order = selection.most_uncertain(_probabilities(pool, settings.labels), count * (selection.DIVERSE_POOL if strategy == "diverse" else 1))
        rows = [pool[i] for i in order]
        if strategy == "diverse" and len(rows) > count:
            from sentiment.data.cleaning import clean_texts
            from sentiment.model.scoring import load_classifier

            classifier = load_classifier(champion["artifact_path"])
            embeddings = selection.embed(classifier, clean_texts([r["text"] for r in rows]), settings.score_batch_size)
            rows = [rows[i] for i in selection.farthest_first(embeddings, count)]
        rows = rows[:count]
    probs = _probabilities(rows, settings.labels)
    for row, margin in zip(rows, selection.margins(probs) if rows else []):
        row["margin"] = float(margin)
    logger.info("picked %d of the %d asked for by %s", len(rows), count, strategy)
    return rows


def api_key() -> str:
    from sentiment.data.sources.live.credentials import secret, where_to_set

    value, _ = secret(API_KEY_BLOCK, API_KEY_ENV)
    if not value:
        raise UserError("Label Studio", "no API key", where_to_set(API_KEY_BLOCK, API_KEY_ENV))
    return value


def export_for_annotation(
    settings: Settings, count: int, strategy: str | None = None, out: Path | None = None, to_label_studio: bool | None = None, logger=log
) -> dict[str, Any]:
    """Pick ``count`` tweets, write the files, send them to Label Studio when configured, record the batch."""
    strategy = strategy or settings.label_strategy
    if strategy not in selection.STRATEGIES:
        raise UserError(f"--strategy {strategy!r}", f"unknown strategy; use one of {', '.join(selection.STRATEGIES)}")
    if count < 1:
        raise UserError(f"--count {count}", "must be at least 1")
    champion = require_champion(settings)
    rows = pick_tweets(settings, champion, count, strategy, logger)
    return send_to_annotators(settings, rows, strategy, count, out, to_label_studio, champion["id"], logger)


def send_to_annotators(
    settings: Settings, rows: list[dict[str, Any]], strategy: str, requested: int, out: Path | None, to_label_studio: bool | None,
    model_version_id: int | None, logger=log,
) -> dict[str, Any]:
    """Write the task JSON, labelling config and CSV for ``rows``; import them into Label Studio
    when configured; record the annotation batch. A row's ``label`` becomes the pre-annotation."""
    now = utcnow()
    out = Path(out) if out else settings.home / "annotation" / f"export-{now:%Y%m%d-%H%M%S}-{strategy}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    version = f"tweetsent-v{model_version_id}" if model_version_id else "tweetsent"
    tasks = [formats.task_for(r["tweet_id"], r["text"], r.get("label"), r.get("confidence"), version) for r in rows]
    out.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    out.with_suffix(".xml").write_text(formats.labelling_config(settings.labels), encoding="utf-8")
    out.with_suffix(".csv").write_text(
        formats.csv_text([{"tweet_id": r["tweet_id"], "text": r["text"], "predicted": r.get("label"), "confidence": round(r["confidence"], 4) if r.get("confidence") is not None else None} for r in rows]),
        encoding="utf-8",
    )
    project = None
    sent_to_ls = 0
    if (to_label_studio is None and settings.label_studio_url) or to_label_studio:
        if not settings.label_studio_url:
            raise UserError("--label-studio", "TWEETSENT_LABEL_STUDIO_URL is not set")
        from sentiment.annotation import label_studio

        client = label_studio.connect(settings.label_studio_url, api_key())
        project_id = label_studio.ensure_project(client, settings.label_studio_project, formats.labelling_config(settings.labels))
        sent_to_ls = label_studio.import_tasks(client, project_id, tasks)
        project = f"{settings.label_studio_url}/projects/{project_id}"
        logger.info("Label Studio project %s: %d new tasks", project, sent_to_ls)
    batch_id = store.record_export(
        open_db(settings), strategy=strategy, label_set=settings.label_set, model_version_id=model_version_id, requested=requested, rows=rows,
        out_path=str(out), project=project, now=now,
    )
    margins = [r["margin"] for r in rows if r.get("margin") is not None]
    return {
        "annotation_batch": batch_id, "strategy": strategy, "requested": requested, "sent": len(rows), "model_version_id": model_version_id,
        "tasks": str(out), "config": str(out.with_suffix(".xml")), "csv": str(out.with_suffix(".csv")), "label_studio_project": project,
        "label_studio_new_tasks": sent_to_ls, "mean_margin": round(float(np.mean(margins)), 4) if margins else None,
    }


def review_gold_labels(settings: Settings, count: int, out: Path | None = None, to_label_studio: bool | None = None, logger=log) -> dict[str, Any]:
    """Find gold labels that are likely wrong (:mod:`sentiment.annotation.review`) and send the
    ``count`` most suspect to annotators for re-labelling, without a pre-annotation (blind)."""
    from sentiment.annotation.review import find_suspect_labels
    from sentiment.data.datasets import load_labelled

    rows = [r for r in load_labelled(open_db(settings), settings.labels, ("gold", "human", "weak")) if r["origin"] == "gold"]
    suspects = find_suspect_labels(rows, settings.labels, settings.seed)
    logger.info("%d of %d gold labels look wrong (out-of-fold confident learning)", len(suspects), len(rows))
    chosen = [{"tweet_id": r["tweet_id"], "text": r["text"], "label": None, "confidence": None} for r in suspects[:count]]
    result = send_to_annotators(settings, chosen, "review", count, out, to_label_studio, None, logger) if chosen else {"sent": 0}
    result["suspects"] = len(suspects)
    result["gold_labels"] = len(rows)
    result["sample"] = [{k: r[k] for k in ("tweet_id", "text", "label", "suggested", "given_probability")} for r in suspects[:10]]
    return result


def weak_labels(settings: Settings, logger=log) -> dict[str, int]:
    """Weak labels for unlabelled tweets with unambiguous emoticons or emoji (never neutral)."""
    from sentiment.annotation.weak import label_weak

    counts = label_weak(open_db(settings), settings.labels)
    logger.info("weak labels: %s", dict(counts))
    return dict(counts)


def import_annotations(settings: Settings, path: Path | None = None, from_label_studio: bool = False, logger=log) -> BatchSummary:
    """Store the answers of an export file, or of the Label Studio project (see
    :mod:`sentiment.annotation.importing`)."""
    if from_label_studio:
        if not settings.label_studio_url:
            raise UserError("--from-label-studio", "TWEETSENT_LABEL_STUDIO_URL is not set")
        from sentiment.annotation import label_studio

        client = label_studio.connect(settings.label_studio_url, api_key())
        project_id = label_studio.ensure_project(client, settings.label_studio_project, formats.labelling_config(settings.labels))
        tasks = label_studio.export_annotations(client, project_id)
        text = json.dumps(tasks, ensure_ascii=False, sort_keys=True, default=str)
        origin = f"{settings.label_studio_url}/projects/{project_id}"
    else:
        if path is None:
            raise UserError("label import", "give an export file (Label Studio JSON, JSON-MIN or CSV) or --from-label-studio")
        path = Path(path)
        if not path.is_file():
            raise UserError(str(path), "no such file")
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        origin = str(path)
    try:
        answers, fmt = formats.read_answers(text, origin, settings.labels)
    except (json.JSONDecodeError, ValueError) as exc:
        raise UserError(origin, f"not a Label Studio export (JSON, JSON-MIN or CSV): {exc}") from None
    fingerprint = "annotations:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    summary = store_answers(open_db(settings), answers, origin=origin, fingerprint=fingerprint, fmt=fmt)
    if summary.skipped:
        logger.info("%s: %s", origin, summary.skip_reason)
    else:
        logger.info(
            "%s (%s): %d answers = %d stored + %d duplicate + %d quarantined; %d human labels set, %d conflicts",
            origin, fmt, summary.rows_read, summary.rows_inserted, summary.rows_duplicate, summary.rows_quarantined, summary.labels_inserted, summary.label_conflicts,
        )
    return summary
