"""Where a version fails and how it behaves: slices of the frozen test set and behavioural tests,
run on every evaluated candidate (see :mod:`sentiment.reporting.slices` and
:mod:`sentiment.reporting.behaviour`). Slices go to ``evaluation_slices`` (one row each, for SQL)
and, with the behavioural pass rates, into the version's metrics (for the report)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select

from sentiment.clock import utcnow
from sentiment.data.cleaning import clean_texts
from sentiment.data.datasets import LabelledSplit
from sentiment.reporting.behaviour import run_behaviour
from sentiment.reporting.slices import slice_table
from sentiment.settings import Settings
from sentiment.store import IN_CHUNK, bulk_insert, chunked, evaluation_slices, open_db, registry, tweets, write_transaction

log = logging.getLogger(__name__)


def audit_version(settings: Settings, version_id: int, split: LabelledSplit, predictions: dict[str, Any], classifier, logger=log) -> dict[str, Any]:
    """Slices and behavioural tests of ``version_id`` on ``split``'s test set; stored and returned."""
    engine = open_db(settings)
    ids = [r["tweet_id"] for r in split.test]
    info: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for part in chunked(ids, IN_CHUNK):
            for tid, text, topic, lang in conn.execute(select(tweets.c.id, tweets.c.text, tweets.c.topic, tweets.c.lang).where(tweets.c.id.in_(part))):
                info[tid] = {"text": text, "topic": topic, "lang": lang}
    rows = [info.get(tid, {"text": r["text"], "topic": None, "lang": None}) for tid, r in zip(ids, split.test)]
    table = slice_table(rows, predictions["gold"], predictions["predicted"], len(settings.labels), settings.seed)
    now = utcnow()
    with write_transaction(engine) as conn:
        conn.execute(delete(evaluation_slices).where(evaluation_slices.c.model_version_id == version_id))
        bulk_insert(conn, evaluation_slices, [
            {"model_version_id": version_id, "test_set_id": predictions.get("test_set_id"), "grp": r["group"], "slice": r["slice"][:96], "n": r["n"],
             "macro_f1": r["macro_f1"], "low": r["low"], "high": r["high"], "worst": r["worst"], "created_at": now}
            for r in table
        ])
    behaviour = run_behaviour(
        lambda texts: classifier.predict_proba(texts, batch_size=settings.score_batch_size), settings.labels, [r["text"] for r in rows], clean_texts,
    )
    errors = explain_errors(settings, version_id, split, predictions, classifier, logger)
    registry.record_quality(engine, version_id, {"slices": table, "behaviour": behaviour, "errors": errors})
    worst = [f"{r['group']}={r['slice']} {r['macro_f1']:.3f}" for r in table if r["worst"]]
    logger.info("model v%d worst slices: %s", version_id, "; ".join(worst) or "none")
    logger.info(
        "model v%d behavioural tests: %s", version_id, ", ".join(f"{t['test']} {t['pass_rate']:.0%}" for t in behaviour["tests"]) or "none applicable",
    )
    return {"slices": table, "behaviour": behaviour, "errors": errors}


def explain_errors(settings: Settings, version_id: int, split: LabelledSplit, predictions: dict[str, Any], classifier, logger=log) -> dict[str, Any]:
    """Confusion pairs, the most confident mistakes with their word attributions, and the global
    explanation over ``settings.audit_explain_tweets`` test tweets (attributions in fp32)."""
    from pathlib import Path

    from sentiment.model.scoring import load_classifier
    from sentiment.reporting.errors import confident_mistakes, confusion_pairs, global_explanation

    labels = list(settings.labels)
    gold, predicted = predictions["gold"], predictions["predicted"]
    texts = [r["clean_text"] for r in split.test]
    out: dict[str, Any] = {"confusion_pairs": confusion_pairs(gold, predicted, labels)}
    if settings.audit_explain_tweets <= 0 or not texts:
        return out
    explainer = load_classifier(Path(registry.get_version(open_db(settings), version_id)["artifact_path"]), device="cpu", quantize="off", precision="fp32")
    probs = classifier.predict_proba(texts, batch_size=settings.score_batch_size)
    out["confident_mistakes"] = confident_mistakes(explainer, texts, gold, probs, labels)
    out["global"] = global_explanation(explainer, texts, predicted, labels, settings.audit_explain_tweets, settings.seed)
    logger.info("model v%d: %d confident mistakes explained, global explanation over %d test tweets", version_id, len(out["confident_mistakes"]), out["global"]["tweets_explained"])
    return out
