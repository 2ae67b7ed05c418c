"""See and renew the frozen test set: ``tweetsent test-set status`` and ``tweetsent test-set renew``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

from sentiment.data import test_sets
from sentiment.data.datasets import load_labelled
from sentiment.errors import UserError
from sentiment.settings import Settings
from sentiment.store import model_versions, open_db
from sentiment.store.schema import test_sets as test_sets_table


def test_set_status(settings: Settings) -> dict[str, Any]:
    """Every test set version of the configured labels, the versions evaluated on each, and how
    far a renewal would grow the current one."""
    engine = open_db(settings)
    with engine.connect() as conn:
        sets = [dict(r) for r in conn.execute(select(test_sets_table).where(test_sets_table.c.label_set == settings.label_set).order_by(test_sets_table.c.id)).mappings()]
        evaluated = dict(
            conn.execute(
                select(model_versions.c.test_set_id, func.count()).where(model_versions.c.label_set == settings.label_set).group_by(model_versions.c.test_set_id)
            ).all()
        )
    for row in sets:
        row["model_versions"] = int(evaluated.get(row["id"], 0))
    rows = [r for r in load_labelled(engine, settings.labels, settings.label_priority) if r["origin"] != "weak"]  # weak labels never test
    status: dict[str, Any] = {"label_set": settings.label_set, "labelled_tweets": len(rows), "test_sets": sets, "renewal": None}
    if sets and rows:
        grown, added = test_sets.renewal(engine, settings.labels, rows, settings.test_fraction, settings.seed)
        status["renewal"] = {"size": grown.size, "adds": len(added), "class_counts": grown.class_counts}
    return status


def renew_test_set(settings: Settings, min_growth: float = 0.25, force: bool = False) -> test_sets.TestSet:
    """Freeze the next, larger test set: the current one plus a stratified share of the labelled
    tweets no champion has trained on. Refused (one line) when it would grow by less than
    ``min_growth`` (a share of the current size) unless ``force``."""
    engine = open_db(settings)
    current = test_sets.latest(engine, settings.label_set)
    rows = [r for r in load_labelled(engine, settings.labels, settings.label_priority) if r["origin"] != "weak"]  # weak labels never test
    grown, added = test_sets.renewal(engine, settings.labels, rows, settings.test_fraction, settings.seed)
    if not added:
        raise UserError(f"test set {current.id if current else '?'}", "no labelled tweets that no champion has trained on: nothing to add")
    if current is not None and len(added) < min_growth * current.size and not force:
        raise UserError(
            f"test set {current.id}",
            f"a renewal would add only {len(added)} tweets to {current.size} (less than {min_growth:.0%})",
            hint="wait for more labels, or use --force",
        )
    test_sets.check_class_sizes(settings.label_set, grown.class_counts, settings.labels, settings.min_test_per_class, Counter(r["label"] for r in rows))
    return test_sets.freeze(engine, grown, note=f"renewed: {current.size if current else 0} + {len(added)} tweets", replaces=current.id if current else None)
