"""The ``pull_cursors`` table and the ``ingest_batches`` rows of pulls from live sources.

Storing a page (rows plus the cursor) is :func:`sentiment.usecases.pulling.store_page`; this module
holds the reads and the small writes around it: create a query's cursor, open and close a pull's
batch row, and mark as ``interrupted`` the pulls whose process died.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from sentiment.clock import utcnow
from sentiment.store.engine import plain_row, write_transaction
from sentiment.store.registry import owner_gone, run_owner
from sentiment.store.schema import ingest_batches, pull_cursors

#: A pull still "running" after this long is counted as interrupted, whoever owns it.
STALE_AFTER = timedelta(hours=6)


def get_cursor(conn: Connection, kind: str, query: str) -> dict[str, Any] | None:
    row = conn.execute(select(pull_cursors).where(pull_cursors.c.source == kind, pull_cursors.c.query == query)).mappings().first()
    return dict(row) if row else None


def load_cursor(engine: Engine, kind: str, query: str) -> dict[str, Any]:
    """The query's cursor, created (empty position, version 0) on its first pull."""
    with engine.connect() as conn:
        found = get_cursor(conn, kind, query)
    if found is not None:
        return found
    try:
        with write_transaction(engine) as conn:
            conn.execute(pull_cursors.insert().values(source=kind, query=query, position={}, version=0, status="new", pulls=0, posts_stored=0))
    except IntegrityError:  # another run created it first
        pass
    with engine.connect() as conn:
        return get_cursor(conn, kind, query)  # type: ignore[return-value]


def mark_interrupted(engine: Engine, source: str, query: str, now: datetime | None = None) -> list[int]:
    """Close the batch rows of earlier pulls of this query whose process is gone (killed, crashed)
    as ``interrupted``: what they stored stays, counted, and the cursor already covers it."""
    now = now or utcnow()
    with write_transaction(engine) as conn:
        rows = conn.execute(
            select(ingest_batches.c.id, ingest_batches.c.owner, ingest_batches.c.started_at).where(
                ingest_batches.c.source == source, ingest_batches.c.query == query, ingest_batches.c.status == "running"
            )
        ).all()
        stale = [bid for bid, owner, started in rows if owner_gone(owner) or started < now - STALE_AFTER]
        if stale:
            conn.execute(
                ingest_batches.update()
                .where(ingest_batches.c.id.in_(stale))
                .values(status="interrupted", finished_at=now, error="the pull's process ended before it finished (killed or crashed); its stored pages are kept")
            )
    return stale


def open_batch(engine: Engine, *, source: str, kind: str, query: str, position: dict[str, Any], fmt: str) -> tuple[int, str, datetime]:
    """The ``ingest_batches`` row of a new pull: (id, fingerprint, started_at)."""
    started = utcnow()
    digest = hashlib.sha256(f"{kind}:{query}".encode()).hexdigest()[:16]
    fingerprint = f"pull:{kind}:{digest}:{started:%Y%m%dT%H%M%S}:{uuid.uuid4().hex[:12]}"
    with write_transaction(engine) as conn:
        batch_id = conn.execute(
            ingest_batches.insert().values(
                source=source, origin=f"{kind}:{query}", fingerprint=fingerprint, format=fmt, started_at=started, query=query,
                pages=0, rate_limited=False, cursor_before=position, status="running", owner=run_owner(),
            )
        ).inserted_primary_key[0]
    return int(batch_id), fingerprint, started


def close_pull(
    engine: Engine,
    *,
    batch_id: int,
    kind: str,
    query: str,
    status: str,
    position: dict[str, Any],
    error: str | None = None,
    rate_limited: bool = False,
    reset_at: datetime | None = None,
) -> None:
    """Finish a pull: its batch row says how it ended; the cursor says when it last ran (a pull
    that another one superseded leaves the cursor's status to that one)."""
    now = utcnow()
    with write_transaction(engine) as conn:
        conn.execute(
            ingest_batches.update()
            .where(ingest_batches.c.id == batch_id)
            .values(status=status, finished_at=now, cursor_after=position, rate_limited=rate_limited, error=error)
        )
        values: dict[str, Any] = {"last_pull_at": now, "last_batch_id": batch_id, "pulls": pull_cursors.c.pulls + 1, "last_error": error}
        if status != "superseded":
            values |= {"status": status, "rate_limit_reset_at": reset_at if rate_limited else None}
        conn.execute(pull_cursors.update().where(pull_cursors.c.source == kind, pull_cursors.c.query == query).values(**values))


def list_cursors(engine: Engine) -> list[dict[str, Any]]:
    """Every query's cursor with its last pull, for ``tweetsent status``."""
    with engine.connect() as conn:
        rows = conn.execute(select(pull_cursors).order_by(pull_cursors.c.source, pull_cursors.c.query)).mappings().all()
        last = {
            r["id"]: dict(r)
            for r in conn.execute(
                select(ingest_batches).where(ingest_batches.c.id.in_([r["last_batch_id"] for r in rows if r["last_batch_id"]]))
            ).mappings()
        }
    out = []
    for row in rows:
        batch = last.get(row["last_batch_id"]) or {}
        item = plain_row(row)
        item.pop("position", None)
        item["waiting_page"] = bool((row["position"] or {}).get("next_token") or (row["position"] or {}).get("until") or (row["position"] or {}).get("cursor"))
        item["last_pull"] = {k: batch.get(k) for k in ("rows_read", "rows_inserted", "rows_duplicate", "rows_quarantined", "pages", "status", "rate_limited")} if batch else None
        out.append(item)
    return out
