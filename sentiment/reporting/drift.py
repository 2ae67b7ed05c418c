"""Should the nightly run start a retrain? Enough new labels, or drift, decide; both are recorded.

Two signals, each against the champion:

- **new labels**: labels of the configured classes that arrived after the newest model version
  of this label set was created (the newest, not the champion: a version that was trained and
  not promoted has seen those labels already, so a refused candidate does not trigger a retrain
  every night).
- **drift**: the population stability index (PSI) of the predicted label shares and of the
  confidence histogram of the tweets scored in this run, against the champion's reference: its
  scores on the frozen test set (the tweets it was evaluated on). PSI = sum (a - e) ln(a / e)
  over the bins; the usual reading is < 0.1 stable, 0.1-0.25 moderate, > 0.25 large shift.

A cooldown stops a second trigger while a triggered retrain has not produced a model version.
Every decision, yes or no, becomes a ``retrain_decisions`` row with its reasons and numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from sentiment.clock import utcnow
from sentiment.store import labels, model_versions, retrain_decisions, scores, test_tweets, write_transaction

#: Confidence histogram bins: equal-width over [1/k, 1] for k classes.
CONFIDENCE_BINS = 10
_EPS = 1e-4


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of two distributions over the same bins (shares or counts)."""
    if len(expected) != len(actual):
        raise ValueError(f"psi: {len(expected)} expected bins but {len(actual)} actual bins")
    e_total, a_total = float(sum(expected)), float(sum(actual))
    if e_total <= 0 or a_total <= 0:
        raise ValueError("psi: a distribution with no observations")
    value = 0.0
    for e, a in zip(expected, actual):
        e_share = max(e / e_total, _EPS)
        a_share = max(a / a_total, _EPS)
        value += (a_share - e_share) * math.log(a_share / e_share)
    return value


def label_counts(predicted: Sequence[str], label_names: Sequence[str]) -> list[int]:
    return [sum(1 for p in predicted if p == name) for name in label_names]


def confidence_histogram(confidences: Sequence[float], n_classes: int, bins: int = CONFIDENCE_BINS) -> list[int]:
    low = 1.0 / n_classes
    width = (1.0 - low) / bins
    counts = [0] * bins
    for c in confidences:
        index = int((c - low) / width) if width > 0 else 0
        counts[min(max(index, 0), bins - 1)] += 1
    return counts


@dataclass
class RetrainDecision:
    retrain: bool
    reasons: list[str]
    label_set: str
    champion_id: int | None
    new_labels: int
    label_threshold: int
    scored_tweets: int = 0
    label_psi: float | None = None
    confidence_psi: float | None = None
    psi_threshold: float | None = None
    reference: dict[str, Any] = field(default_factory=dict)
    current: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    triggered_flow_run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def markdown(self) -> str:
        verdict = "**Retrain: yes**" if self.retrain else "**Retrain: no**"
        lines = [f"# Retraining decision ({self.label_set})", "", verdict, ""]
        lines += [f"- {reason}" for reason in self.reasons]
        lines += [
            "",
            "| signal | value | threshold |",
            "|---|---:|---:|",
            f"| new labels since the newest model version | {self.new_labels:,} | {self.label_threshold:,} |",
            f"| PSI of predicted labels | {_fmt(self.label_psi)} | {_fmt(self.psi_threshold)} |",
            f"| PSI of confidences | {_fmt(self.confidence_psi)} | {_fmt(self.psi_threshold)} |",
            f"| tweets scored in this run | {self.scored_tweets:,} | |",
        ]
        if self.triggered_flow_run_id:
            lines += ["", f"Started retrain flow run `{self.triggered_flow_run_id}`."]
        return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _newest_version(conn, label_set: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(model_versions.c.id, model_versions.c.created_at)
        .where(model_versions.c.label_set == label_set, model_versions.c.status != "failed")
        .order_by(model_versions.c.created_at.desc(), model_versions.c.id.desc())
        .limit(1)
    ).mappings().first()
    return dict(row) if row else None


def count_new_labels(conn, label_names: Sequence[str], since: datetime | None) -> int:
    """Tweets labelled (gold or human) since ``since``; weak labels do not count."""
    query = select(func.count(func.distinct(labels.c.tweet_id))).where(labels.c.label.in_(list(label_names)), labels.c.origin != "weak")
    if since is not None:
        query = query.where(labels.c.labeled_at > since)
    return conn.execute(query).scalar_one()


def _scores_of(conn, champion_id: int, where) -> tuple[list[str], list[float]]:
    rows = conn.execute(select(scores.c.label, scores.c.confidence).where(scores.c.model_version_id == champion_id, *where)).all()
    return [r[0] for r in rows], [float(r[1]) for r in rows]


def decide(
    engine: Engine,
    *,
    label_names: Sequence[str],
    champion_id: int | None,
    scored_since: datetime | None,
    min_new_labels: int,
    psi_threshold: float,
    min_tweets: int,
    cooldown_hours: float,
    now: datetime | None = None,
) -> RetrainDecision:
    """Decide (without recording) whether to retrain; ``scored_since``: start of this run's scoring."""
    now = now or utcnow()
    label_set = ",".join(label_names)
    with engine.connect() as conn:
        newest = _newest_version(conn, label_set)
        since = newest["created_at"] if newest else None
        new_labels = count_new_labels(conn, label_names, since)
        decision = RetrainDecision(
            retrain=False, reasons=[], label_set=label_set, champion_id=champion_id,
            new_labels=new_labels, label_threshold=min_new_labels, psi_threshold=psi_threshold,
        )
        yes: list[str] = []
        no: list[str] = []
        what = f"since model version {newest['id']} was trained" if newest else "and no model version exists yet"
        if new_labels >= min_new_labels:
            yes.append(f"{new_labels:,} new labels {what} (threshold {min_new_labels:,})")
        else:
            no.append(f"only {new_labels:,} new labels {what} (threshold {min_new_labels:,})")

        if champion_id is None:
            no.append("no champion to check for drift")
        elif scored_since is None:
            no.append("nothing was scored in this run: no drift check")
        else:
            cur_labels, cur_conf = _scores_of(conn, champion_id, [scores.c.scored_at >= scored_since])
            decision.scored_tweets = len(cur_labels)
            frozen = select(test_tweets.c.tweet_id).where(test_tweets.c.label_set == label_set)
            ref_labels, ref_conf = _scores_of(conn, champion_id, [scores.c.tweet_id.in_(frozen)])
            if len(cur_labels) < min_tweets:
                no.append(f"{len(cur_labels):,} tweets scored in this run, fewer than {min_tweets:,}: no drift check")
            elif len(ref_labels) < min_tweets:
                no.append(f"the champion has scored only {len(ref_labels):,} frozen test tweets (its drift reference): no drift check")
            else:
                k = len(label_names)
                ref_l, cur_l = label_counts(ref_labels, label_names), label_counts(cur_labels, label_names)
                ref_c, cur_c = confidence_histogram(ref_conf, k), confidence_histogram(cur_conf, k)
                decision.label_psi = round(psi(ref_l, cur_l), 6)
                decision.confidence_psi = round(psi(ref_c, cur_c), 6)
                decision.reference = {"labels": dict(zip(label_names, ref_l)), "confidence_histogram": ref_c, "n": len(ref_labels)}
                decision.current = {"labels": dict(zip(label_names, cur_l)), "confidence_histogram": cur_c, "n": len(cur_labels)}
                for name, value in (("predicted labels", decision.label_psi), ("confidences", decision.confidence_psi)):
                    if value > psi_threshold:
                        yes.append(f"drift of {name}: PSI {value:.3f} > {psi_threshold}")
                    else:
                        no.append(f"no drift of {name}: PSI {value:.3f} <= {psi_threshold}")

        if yes and cooldown_hours > 0:
            recent = conn.execute(
                select(retrain_decisions.c.decided_at, retrain_decisions.c.triggered_flow_run_id)
                .where(
                    retrain_decisions.c.label_set == label_set,
                    retrain_decisions.c.retrain.is_(True),
                    retrain_decisions.c.triggered_flow_run_id.is_not(None),
                    retrain_decisions.c.decided_at > now - timedelta(hours=cooldown_hours),
                )
                .order_by(retrain_decisions.c.decided_at.desc())
                .limit(1)
            ).first()
            if recent is not None and (since is None or recent[0] > since):
                decision.reasons = [
                    f"a retrain was already triggered at {recent[0]:%Y-%m-%d %H:%M} UTC (flow run {recent[1] or 'n/a'}) and no model "
                    f"version has been created since; cooldown {cooldown_hours:g} h",
                    *yes,
                ]
                return decision
    decision.retrain = bool(yes)
    decision.reasons = yes if yes else no
    return decision


def record(engine: Engine, decision: RetrainDecision, flow_run_id: str | None = None) -> int:
    """Store the decision; returns its id."""
    with write_transaction(engine) as conn:
        row = {
            "decided_at": utcnow(),
            "label_set": decision.label_set,
            "champion_id": decision.champion_id,
            "retrain": decision.retrain,
            "reasons": decision.reasons,
            "new_labels": decision.new_labels,
            "label_psi": decision.label_psi,
            "confidence_psi": decision.confidence_psi,
            "details": {k: v for k, v in decision.to_dict().items() if k not in ("reasons", "id")},
            "flow_run_id": flow_run_id,
            "triggered_flow_run_id": decision.triggered_flow_run_id,
        }
        decision.id = conn.execute(insert(retrain_decisions).values(**row).returning(retrain_decisions.c.id)).scalar_one()
    return decision.id


def set_triggered(engine: Engine, decision_id: int, flow_run_id: str | None, note: str | None = None) -> None:
    with write_transaction(engine) as conn:
        values: dict[str, Any] = {"triggered_flow_run_id": flow_run_id}
        if note:
            reasons = conn.execute(select(retrain_decisions.c.reasons).where(retrain_decisions.c.id == decision_id)).scalar_one()
            values["reasons"] = [*reasons, note]
        conn.execute(update(retrain_decisions).where(retrain_decisions.c.id == decision_id).values(**values))


def history(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(retrain_decisions).order_by(retrain_decisions.c.id.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


__all__ = [
    "RetrainDecision", "confidence_histogram", "count_new_labels", "decide", "history", "label_counts", "psi", "record", "set_triggered",
]
