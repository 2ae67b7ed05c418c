"""Evaluation and daily reports: files under ``<home>/reports`` plus their database rows."""

from __future__ import annotations

import os
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from sentiment.clock import utcnow
from sentiment.reporting.metrics import Metrics, render_report_markdown
from sentiment.reporting.plots import plot_confusion_matrix, plot_label_shares, plot_reliability, plot_training_curves
from sentiment.reporting.sections import audit_sections
from sentiment.store import daily_reports, evaluation_reports, scores, tweets, write_transaction


def write_text_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename: a reader never sees half a report."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "data"


def write_evaluation_report(
    engine: Engine,
    *,
    version: dict[str, Any],
    metrics: Metrics,
    dataset: str,
    reports_dir: Path,
    history: Sequence[dict] | None = None,
    decision: dict[str, Any] | None = None,
    dataset_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Render the report (Markdown + PNGs) and store its ``evaluation_reports`` row."""
    folder = reports_dir / f"model-v{version['id']:04d}-{_slug(dataset)}"
    folder.mkdir(parents=True, exist_ok=True)
    images = {"confusion matrix": "confusion_matrix.png"}
    plot_confusion_matrix(metrics, folder / "confusion_matrix.png", title=f"v{version['id']} on {dataset}")
    if history:
        plot_training_curves(history, folder / "training_curves.png", title=f"v{version['id']} training")
        images["training curves"] = "training_curves.png"
    calibration = (version.get("metrics") or {}).get("calibration")
    if calibration and calibration.get("reliability_after"):
        plot_reliability(calibration.get("reliability_before") or [], calibration["reliability_after"], folder / "reliability.png", title=f"v{version['id']} calibration")
        images["reliability diagram"] = "reliability.png"
    hyper = version.get("hyperparameters") or {}
    model_info = {
        "version": version["id"],
        "status": version.get("status"),
        "base checkpoint": version.get("base_checkpoint"),
        "folder": version.get("artifact_path"),
        **{k: hyper[k] for k in sorted(hyper)},
    }
    markdown = render_report_markdown(
        title=f"Model v{version['id']} on {dataset}",
        metrics=metrics,
        model=model_info,
        dataset={"dataset": dataset, "tweets": metrics.n, **(dataset_info or {})},
        history=history,
        images=images,
        decision=(decision or {}).get("reason"),
        quality=version.get("metrics") or {},
        audit=audit_sections(metrics, version.get("metrics") or {}),
    )
    report = folder / "report.md"
    write_text_atomic(report, markdown)
    from sentiment.reporting.html import write_html_beside

    html_report = write_html_beside(report, f"Model v{version['id']} on {dataset}")
    row = {
        "model_version_id": version["id"],
        "dataset": dataset,
        "n": metrics.n,
        "accuracy": metrics.accuracy,
        "macro_f1": metrics.macro_f1,
        "weighted_f1": metrics.weighted_f1,
        "metrics": metrics.to_dict(),
        "report_path": str(report.resolve()),
        "plots": {name: str((folder / file).resolve()) for name, file in images.items()},
        "created_at": utcnow(),
        "html_path": str(html_report.resolve()),
    }
    with write_transaction(engine) as conn:
        row["id"] = conn.execute(evaluation_reports.insert().values(**row)).inserted_primary_key[0]
    return row


def label_shares_by_day(engine: Engine, model_version_id: int, labels: Sequence[str], days: int = 30) -> list[dict[str, Any]]:
    """Predicted label counts per tweet day (created_at, else the day it was ingested), last ``days`` days present."""
    day = func.date(func.coalesce(tweets.c.created_at, tweets.c.ingested_at))
    query = (
        select(day.label("day"), scores.c.label, func.count())
        .join(scores, scores.c.tweet_id == tweets.c.id)
        .where(scores.c.model_version_id == model_version_id, scores.c.label.in_(list(labels)))
        .group_by(day, scores.c.label)
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {label: 0 for label in labels})
    with engine.connect() as conn:
        for d, label, n in conn.execute(query):
            counts[str(d)][label] = counts[str(d)].get(label, 0) + n
    return [{"day": d, "counts": counts[d]} for d in sorted(counts)[-days:]]


def write_daily_report(engine: Engine, *, model_version_id: int, labels: Sequence[str], tweets_scored: int, reports_dir: Path) -> dict[str, Any]:
    """The nightly report: tweets scored, predicted label shares per day (plot), mean confidence."""
    now = utcnow()
    with engine.connect() as conn:
        mean_conf, total = conn.execute(
            select(func.avg(scores.c.confidence), func.count()).where(scores.c.model_version_id == model_version_id)
        ).one()
    daily = label_shares_by_day(engine, model_version_id, labels)
    folder = reports_dir / "daily" / now.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    # Unique per run: two overlapping nightly runs must not write over each other's files.
    stamp = f"{now:%H%M%S}-{uuid.uuid4().hex[:8]}"
    lines = [
        f"# Daily report {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"- model version: v{model_version_id}",
        f"- tweets scored in this run: {tweets_scored:,}",
        f"- tweets scored by this model in all: {total:,}",
        f"- mean confidence: {mean_conf:.3f}" if mean_conf is not None else "- mean confidence: n/a",
        "",
    ]
    plot_path = None
    if daily:
        plot_path = plot_label_shares(daily, labels, folder / f"label_shares_{stamp}.png")
        lines += [f"![predicted label shares per day]({plot_path.name})", "", "| day | " + " | ".join(labels) + " | tweets |", "|---|" + "---:|" * (len(labels) + 1)]
        for entry in daily:
            n = sum(entry["counts"].values())
            lines.append(f"| {entry['day']} | " + " | ".join(f"{entry['counts'].get(label, 0) / n:.1%}" for label in labels) + f" | {n:,} |")
    from sentiment.reporting.daily_extras import daily_sections
    from sentiment.reporting.html import write_html_beside

    lines += ["", *daily_sections(engine, model_version_id, labels)]
    report = folder / f"daily_{stamp}.md"
    markdown = "\n".join(lines) + "\n"
    write_text_atomic(report, markdown)
    html_report = write_html_beside(report, f"Daily report {now:%Y-%m-%d}")
    summary = {"daily": daily, "total_scored": total, "plot": str(plot_path.resolve()) if plot_path else None}
    with write_transaction(engine) as conn:
        report_id = conn.execute(
            daily_reports.insert().values(
                created_at=now,
                model_version_id=model_version_id,
                tweets_scored=tweets_scored,
                mean_confidence=float(mean_conf) if mean_conf is not None else None,
                summary=summary,
                report_path=str(report.resolve()),
                html_path=str(html_report.resolve()),
            )
        ).inserted_primary_key[0]
    return {"id": report_id, "report_path": str(report.resolve()), "html_path": str(html_report.resolve()), "markdown": markdown, **summary}
