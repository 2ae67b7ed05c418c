"""Read-only views of the database for people: counts, recent batches, quarantined rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from sentiment.store.annotation_store import pending_count
from sentiment.store.engine import plain_row, table_counts
from sentiment.store.pulls import list_cursors
from sentiment.store.schema import ingest_batches, labels, model_versions, quarantine


def database_status(engine: Engine, last: int = 5) -> dict[str, Any]:
    """Counts per table, labels per origin and class, quarantine per kind, the last batches."""
    with engine.connect() as conn:
        counts = table_counts(conn)
        by_label = conn.execute(
            select(labels.c.origin, labels.c.label, func.count()).group_by(labels.c.origin, labels.c.label).order_by(labels.c.origin, labels.c.label)
        ).all()
        by_kind = dict(conn.execute(select(quarantine.c.kind, func.count()).group_by(quarantine.c.kind)).tuples().all())
        batches = conn.execute(select(ingest_batches).order_by(ingest_batches.c.id.desc()).limit(last)).mappings().all()
        versions = conn.execute(
            select(model_versions.c.id, model_versions.c.status, model_versions.c.data_snapshot).order_by(model_versions.c.id.desc()).limit(last)
        ).all()
    return {
        "tables": counts,
        "labels": [{"origin": o, "label": lab, "count": n} for o, lab, n in by_label],
        "quarantine": {"invalid": by_kind.get("invalid", 0), "conflict": by_kind.get("conflict", 0)},
        "last_batches": [plain_row(b) for b in batches],
        "pulls": list_cursors(engine),
        # what each recent model version was trained on (train + validation), by label origin
        "model_versions": [
            {"id": vid, "status": status, "trained_on": (snap or {}).get("n_train", 0) + (snap or {}).get("n_val", 0),
             "human_labels": (snap or {}).get("human_labels", 0), "origins": (snap or {}).get("origins")}
            for vid, status, snap in versions
        ],
        "annotation_pending": pending_count(engine),
    }


def list_quarantine(
    engine: Engine, kind: str | None = None, batch_id: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Quarantined rows, newest first, with their reasons and where they came from."""
    query = select(quarantine).order_by(quarantine.c.id.desc()).limit(limit)
    if kind:
        query = query.where(quarantine.c.kind == kind)
    if batch_id is not None:
        query = query.where(quarantine.c.batch_id == batch_id)
    with engine.connect() as conn:
        return [plain_row(r) for r in conn.execute(query).mappings()]
