"""Pull one live query (``x:QUERY`` or ``bluesky:QUERY``) into the database, exactly once.

Each page the API returns is validated, deduplicated and cleaned like a file batch, then stored
**in one transaction together with the query's new cursor** (and the pull's running counts):

- a pull killed at any point leaves whole pages, each covered by the cursor; the next pull goes on
  from there, so every post is stored once, with no gap;
- two pulls of one query at once cannot both store a page: the cursor's ``version`` must be the
  one the page was fetched from, else the later one stops (``superseded``);
- a rate limit that resets within ``pull_max_wait_s`` is waited out, a later one ends the pull
  cleanly (``rate_limited``: the next run resumes); 5xx and timeouts are retried, then the pull
  fails with what it stored kept; refused credentials fail with the setting to fix.

Each pull is one ``ingest_batches`` row (source, query, pages, rows read = inserted + duplicate +
quarantined, rate limited or not, cursor before and after, errors the API sent next to its data).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, case, or_

from sentiment.clock import utcnow
from sentiment.data.ingest import BatchSummary, PreparedBatch, prepare_batch, write_prepared
from sentiment.data.records import SourceBatch
from sentiment.data.sources.live.bluesky import DEFAULT_PDS, PUBLIC_APPVIEW, BlueskySearch
from sentiment.data.sources.live.http import ApiClient, RateLimited
from sentiment.data.sources.live.names import LiveQuery
from sentiment.data.sources.live.pages import Page
from sentiment.data.sources.live.x_api import XSearch
from sentiment.errors import UserError
from sentiment.settings import Settings
from sentiment.store import ingest_batches, pull_cursors, write_transaction
from sentiment.store.engine import mask_secrets
from sentiment.store.pulls import close_pull, load_cursor, mark_interrupted, open_batch

FORMATS = {"x": "x_api_v2_recent_search", "bluesky": "bluesky_search_posts"}
#: Rate-limit waits within one pull before it ends instead.
MAX_WAITS = 3
#: Pages in a row without a post before a pull stops (status ``more``: the next run goes on).
MAX_EMPTY_PAGES = 10
MAX_KEPT_ERRORS = 200


class _Superseded(Exception):
    """Another pull of the same query moved the cursor since this page was fetched."""


def make_pager(live: LiveQuery, settings: Settings, sleep: Callable[[float], None], log: Callable[[str], None]):
    """The API client and pager of a live query, as the settings configure them."""
    if live.kind == "x":
        client = ApiClient(settings.x_api_url, "X API", timeout_s=settings.pull_timeout_s, retries=settings.pull_retries, backoff_s=settings.pull_backoff_s, sleep=sleep, log=log)
        return client, XSearch(client, live.query)
    base = settings.bluesky_api_url
    if settings.bluesky_handle:  # logged in, requests go to the PDS, which proxies them to the AppView
        base = settings.bluesky_auth_url or (DEFAULT_PDS if base == PUBLIC_APPVIEW else base)
    client = ApiClient(base, "Bluesky", timeout_s=settings.pull_timeout_s, retries=settings.pull_retries, backoff_s=settings.pull_backoff_s, sleep=sleep, log=log)
    return client, BlueskySearch(client, live.query, handle=settings.bluesky_handle, overlap_s=settings.pull_overlap_s, log=log)


def _prepare(page: Page, live: LiveQuery, summary: BatchSummary, settings: Settings) -> PreparedBatch:
    batch = SourceBatch(source=live.record_source, origin=live.name, fingerprint=summary.fingerprint, format=summary.format, records=page.records)
    if not page.records:
        return PreparedBatch(batch=batch, unique=[], duplicates=[], rejected=[])
    return prepare_batch(batch, settings.labels, settings.max_text_chars)


def store_page(engine: Engine, live: LiveQuery, summary: BatchSummary, version: int, page: Page, prepared: PreparedBatch, errors: list[dict[str, Any]], write_rows: int) -> BatchSummary:
    """Store one page and move the cursor to ``page.position`` in one transaction; return the
    page's counts. Raises :class:`_Superseded` (nothing stored) when the cursor is no longer at
    ``version``."""
    counts = BatchSummary(source=summary.source, origin=summary.origin, fingerprint=summary.fingerprint, format=summary.format)
    counts.rows_read = len(prepared.unique) + len(prepared.duplicates) + len(prepared.rejected)
    counts.failures = dict(prepared.failures)
    newest_at = max((r["created_at"] for r in prepared.unique if r.get("created_at") is not None), default=None)
    with write_transaction(engine) as conn:
        claimed = conn.execute(
            pull_cursors.update()
            .where(pull_cursors.c.source == live.kind, pull_cursors.c.query == live.query, pull_cursors.c.version == version)
            .values(version=version + 1, position=page.position, status="caught_up" if page.done else "paging")
        ).rowcount
        if claimed != 1:
            raise _Superseded()
        write_prepared(conn, summary.batch_id, prepared, counts, write_rows)
        values: dict[str, Any] = {"posts_stored": pull_cursors.c.posts_stored + counts.rows_inserted}
        if page.done and page.position.get("since_id"):
            values["newest_id"] = page.position["since_id"]
        if newest_at is not None:  # only ever forward, in the same statement (no read first)
            c = pull_cursors.c
            values["newest_at"] = case((or_(c.newest_at.is_(None), c.newest_at < newest_at), newest_at), else_=c.newest_at)
        conn.execute(pull_cursors.update().where(pull_cursors.c.source == live.kind, pull_cursors.c.query == live.query).values(**values))
        b = ingest_batches.c
        conn.execute(
            ingest_batches.update()
            .where(b.id == summary.batch_id)
            .values(
                rows_read=b.rows_read + counts.rows_read,
                rows_inserted=b.rows_inserted + counts.rows_inserted,
                rows_duplicate=b.rows_duplicate + counts.rows_duplicate,
                rows_quarantined=b.rows_quarantined + counts.rows_quarantined,
                label_conflicts=b.label_conflicts + counts.label_conflicts,
                labels_inserted=b.labels_inserted + counts.labels_inserted,
                pages=b.pages + 1,
                cursor_after=page.position,
                api_errors=errors or None,
            )
        )
    return counts


def _add(total: BatchSummary, page: BatchSummary) -> None:
    for name in ("rows_read", "rows_inserted", "rows_duplicate", "rows_quarantined", "label_conflicts", "text_conflicts", "labels_inserted"):
        setattr(total, name, getattr(total, name) + getattr(page, name))
    for reason, n in page.failures.items():
        total.failures[reason] = total.failures.get(reason, 0) + n


def pull_live(
    engine: Engine,
    settings: Settings,
    live: LiveQuery,
    *,
    log: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    pager=None,
) -> BatchSummary:
    """Pull ``live`` until caught up, out of budget (``pull_max_posts``) or rate limited; see the
    module docstring. A pull that fails raises after its batch row and cursor say so."""
    client = None
    if pager is None:
        client, pager = make_pager(live, settings, sleep, log)
    source = live.record_source
    for stale in mark_interrupted(engine, source, live.query):
        log(f"{live.name}: batch {stale} was interrupted (its process is gone); its stored pages are kept and the cursor covers them")
    cursor = load_cursor(engine, live.kind, live.query)
    position, version = dict(cursor["position"] or {}), int(cursor["version"])
    batch_id, fingerprint, started = open_batch(engine, source=source, kind=live.kind, query=live.query, position=position, fmt=FORMATS[live.kind])
    summary = BatchSummary(
        source=source, origin=live.name, fingerprint=fingerprint, format=FORMATS[live.kind], batch_id=batch_id, started_at=started,
        query=live.query, pages=0, cursor_before=position,
    )
    if cursor["status"] == "rate_limited" and cursor["rate_limit_reset_at"]:
        log(f"{live.name}: the last pull was rate limited until {cursor['rate_limit_reset_at']:%Y-%m-%d %H:%M:%S} UTC; resuming from its cursor")
    status, error, reset_at = "caught_up", None, None
    errors: list[dict[str, Any]] = []
    waits = empty = 0
    try:
        while True:
            remaining = settings.pull_max_posts - summary.rows_read
            if remaining <= 0:
                status = "more"
                log(f"{live.name}: read {summary.rows_read} posts, the most one pull takes (TWEETSENT_PULL_MAX_POSTS); the next run goes on from the cursor")
                break
            try:
                page = pager.fetch(position, min(settings.pull_page_size, remaining))
            except RateLimited as limited:
                wait = limited.wait_s()
                if wait is not None and wait <= settings.pull_max_wait_s and waits < MAX_WAITS:
                    waits += 1
                    log(f"{limited}; waiting {wait:.0f} s (within TWEETSENT_PULL_MAX_WAIT_S)")
                    sleep(wait + 1)
                    continue
                status, reset_at, summary.rate_limited = "rate_limited", limited.reset_at, True
                log(f"{live.name}: {limited}; stored {summary.rows_inserted} new posts in {summary.pages} pages, the next run resumes from the cursor")
                break
            if page.note:
                log(f"{live.name}: {page.note}")
            errors = (errors + page.errors)[:MAX_KEPT_ERRORS]
            summary.api_errors += len(page.errors)
            if page.errors:
                log(f"{live.name}: the API returned {len(page.errors)} errors next to its data (kept on batch {batch_id}): {page.errors[0].get('detail') or page.errors[0].get('title') or page.errors[0]}")
            prepared = _prepare(page, live, summary, settings)
            try:
                counts = store_page(engine, live, summary, version, page, prepared, errors, settings.chunk_rows)
            except _Superseded:
                status = "superseded"
                log(f"{live.name}: another pull of this query stored this page first; this one stops")
                break
            _add(summary, counts)
            summary.pages = (summary.pages or 0) + 1
            version += 1
            position = page.position
            if page.done:
                break
            empty = empty + 1 if not page.read else 0
            if empty >= MAX_EMPTY_PAGES:
                status = "more"
                log(f"{live.name}: {empty} pages in a row without a post; stopping here, the next run goes on from the cursor")
                break
    except UserError as exc:
        status, error = "failed", exc.line()
        raise
    except BaseException as exc:  # an outage or a bug: the pull is closed as failed either way
        status, error = "failed", mask_secrets(f"{type(exc).__name__}: {exc}")[:500]
        raise
    finally:
        summary.status, summary.error, summary.cursor_after = status, error, position
        summary.finished_at = utcnow()
        close_pull(engine, batch_id=batch_id, kind=live.kind, query=live.query, status=status, position=position, error=error, rate_limited=summary.rate_limited, reset_at=reset_at)
        if client is not None:
            client.close()
    if not summary.reconciles:  # a bug, not bad input
        raise AssertionError(f"pull batch {batch_id} does not reconcile: {summary.to_dict()}")
    return summary
