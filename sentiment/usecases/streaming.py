"""Follow Jetstream: posts matching keywords stored and scored within seconds, exactly once.

Two threads. The **reader** keeps the WebSocket open and reads every message: it parses it, keeps
post creations that match the keywords (and the language), post deletions, and accounts that are
gone, and puts them on a bounded queue; everything else only moves its mark ``handled_us`` (the
``time_us`` of the last message it has fully dealt with). The **writer** (the caller's thread)
takes a micro-batch off the queue every ``stream_batch_posts`` posts or ``stream_batch_seconds``,
whichever comes first, and in **one transaction** stores the posts (the same validation,
quarantine and cleaning as every source), their scores by the champion, the deletions, and the
cursor: ``time_us`` up to which every message is stored or was of no interest. So:

- a crash or kill -9 loses nothing: the next run resumes ``stream_rewind_s`` before the stored
  cursor and posts it sees again are dropped by id (counted as duplicates), never stored twice;
- a lost connection is retried with doubling waits, from the reader's own mark (rewound), and the
  posts it sees again are dropped by id before they reach the queue (counted as ``replayed``);
- a slow writer never grows memory: when ``stream_max_queue`` posts wait, reading pauses
  (``paused_s`` counts the time) and the rest waits in the socket and on the server; a server
  that drops us for it is reconnected to from the mark. Nothing is dropped, only delayed;
- two streams with the same keywords cannot both store a batch: the cursor's ``version`` decides
  (the later one stops, ``superseded``); different keyword lists have their own cursors and share
  posts by id.

The champion is loaded once and reloaded when another version is promoted (checked every
``CHAMPION_CHECK_S``). Without a champion posts are stored unscored (``tweetsent score`` scores them).
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, case, or_, select

from sentiment.clock import utcnow
from sentiment.data.ingest import BatchSummary, prepare_batch, write_prepared
from sentiment.data.records import SourceBatch, fix_surrogates, safe_dumps
from sentiment.data.sources.live.jetstream import Keywords, check_url
from sentiment.errors import UserError
from sentiment.model.scoring import insert_scores, score_rows
from sentiment.settings import Settings
from sentiment.store import ingest_batches, pull_cursors, quarantine, registry, tweets, write_transaction
from sentiment.store.database import open_db
from sentiment.store.engine import mask_secrets
from sentiment.store.pulls import close_pull, load_cursor, mark_interrupted, open_batch
from sentiment.usecases.stream_reader import Item, Reader, StreamStats, stats_markdown
from sentiment.usecases.stream_reader import connect as connect_jetstream

__all__ = ["SOURCE", "Stream", "StreamStats", "follow_stream", "stats_markdown", "stream_key", "stream_language"]

SOURCE = "jetstream"
FORMAT = "jetstream_v1"
CHAMPION_CHECK_S = 5.0
#: With no post to store, the cursor still moves (so a restart does not replay the quiet time), at most this often.
IDLE_CURSOR_S = 5.0
ANY_LANGUAGE = ("", "*", "any", "all")


class _Superseded(Exception):
    """Another stream with the same keywords moved the cursor since this one read it."""


def stream_key(keywords: Keywords, lang: str | None) -> str:
    """The cursor's query: the keyword list (sorted, lower case) and the language."""
    key = f"lang={lang or '*'} {keywords.key}"
    return key if len(key) <= 512 else key[:480] + " #" + hashlib.sha256(key.encode()).hexdigest()[:24]


class _Champion:
    """The champion's classifier, loaded once and reloaded after a promotion."""

    def __init__(self, settings: Settings, engine: Engine, log: Callable[[str], None]) -> None:
        self.settings, self.engine, self.log = settings, engine, log
        self.version_id: int | None = None
        self.classifier = None
        self.checked = 0.0
        self.warned = False

    def current(self):
        now = time.monotonic()
        if now - self.checked < CHAMPION_CHECK_S and (self.classifier is not None or self.warned):
            return self.version_id, self.classifier
        self.checked = now
        row = registry.champion(self.engine, self.settings.label_set)
        if row is None:
            if not self.warned:
                self.log(f"no champion for labels {self.settings.label_set} yet: posts are stored unscored (`tweetsent score` scores them)")
                self.warned = True
            return None, None
        if row["id"] != self.version_id:
            from sentiment.usecases.scoring import champion_classifier

            self.classifier = champion_classifier(self.settings, row)
            self.log(f"scoring with the champion v{row['id']}" + (" (newly promoted)" if self.version_id is not None else ""))
            self.version_id = row["id"]
        return self.version_id, self.classifier


class Stream:
    """One run of the stream: :meth:`run` until the window ends, :meth:`stop` or a failure."""

    def __init__(self, settings: Settings, keywords: list[str] | tuple[str, ...], lang: str | None = None, *, engine: Engine | None = None,
                 log: Callable[[str], None] = print, connect: Callable[[str], Any] | None = None) -> None:
        self.settings = settings
        self.matcher = Keywords(keywords)
        self.lang = lang
        self.engine = engine or open_db(settings)
        self.log = log
        self.key = stream_key(self.matcher, lang)
        self.stats = StreamStats(keywords=list(self.matcher.words), lang=lang)
        self.items: queue.Queue[Item] = queue.Queue(maxsize=settings.stream_max_queue)
        self.champion = _Champion(settings, self.engine, log)
        self.stopping = threading.Event()
        self._connect = connect or connect_jetstream
        self.last_commit = 0.0

    def stop(self) -> None:
        """Finish the batch under way and end the run (from another thread or a signal)."""
        self.stopping.set()

    def run(self, seconds: float | None = None, progress: Callable[[dict[str, Any]], None] | None = None, progress_every_s: float = 1.0) -> StreamStats:
        check_url(self.settings.jetstream_url)
        for stale in mark_interrupted(self.engine, SOURCE, self.key):
            self.log(f"jetstream: stream batch {stale} was interrupted (its process is gone); what it stored is kept and the cursor covers it")
        cursor = load_cursor(self.engine, SOURCE, self.key)
        position, self.version = dict(cursor["position"] or {}), int(cursor["version"])
        self.stats.cursor_us = position.get("time_us")
        self.batch_id, fingerprint, _ = open_batch(self.engine, source=SOURCE, kind=SOURCE, query=self.key, position=position, fmt=FORMAT)
        self.summary = BatchSummary(source=SOURCE, origin=f"{SOURCE}:{self.key}", fingerprint=fingerprint, format=FORMAT, batch_id=self.batch_id)
        self._warm_up()
        reader = Reader(self.settings, self.matcher, self.lang, self.stats.cursor_us, self.items, self.stats, self.log, self._connect)
        deadline = None if seconds is None else time.monotonic() + seconds
        status, error = "done", None
        self.stats.status = "streaming"
        reader.start()
        last_progress = 0.0
        try:
            while not self.stopping.is_set() and (deadline is None or time.monotonic() < deadline):
                if reader.error is not None:
                    raise reader.error
                if not reader.is_alive():
                    raise RuntimeError("the Jetstream reader stopped unexpectedly")
                self._take_batch(reader, deadline)
                if progress is not None and time.monotonic() - last_progress >= progress_every_s:
                    last_progress = time.monotonic()
                    progress(self.stats.to_dict())
            status = "stopped" if self.stopping.is_set() else "done"
        except _Superseded:
            status = "superseded"
            self.log("jetstream: another stream with these keywords stored this batch's place first; this one stops")
        except UserError as exc:
            status, error = "failed", exc.line()
            raise
        except BaseException as exc:
            status, error = "failed", mask_secrets(f"{type(exc).__name__}: {exc}")[:500]
            raise
        finally:
            reader.stop_event.set()
            reader.join(timeout=10)
            if status in ("done", "stopped"):
                try:  # what the reader queued before it stopped is stored too
                    while not self.items.empty():
                        self._take_batch(reader, None, final=True)
                except _Superseded:
                    status = "superseded"
            self.stats.status = status
            close_pull(self.engine, batch_id=self.batch_id, kind=SOURCE, query=self.key, status=status,
                       position={"time_us": self.stats.cursor_us} if self.stats.cursor_us else {}, error=error)
            self._save_stats()
            if progress is not None:
                progress(self.stats.to_dict())
        return self.stats

    def _warm_up(self) -> None:
        """Load the champion and run validation once before reading: the first micro-batch would
        otherwise wait for both (a few seconds), and so would every post in it."""
        from sentiment.data.records import make_record

        _, classifier = self.champion.current()
        record = make_record(source="bluesky", location="warm-up", raw={}, source_id="at://did:plc:warmup/app.bsky.feed.post/1", text="warm up")
        prepare_batch(SourceBatch(source="bluesky", origin="warm-up", fingerprint="warm-up", format=FORMAT, records=[record]), self.settings.labels, self.settings.max_text_chars)
        if classifier is not None:
            classifier.predict_proba(["warm up"], batch_size=1)

    # --- micro-batches ------------------------------------------------------------------------
    def _take_batch(self, reader: Reader, deadline: float | None, final: bool = False) -> None:
        """Collect one micro-batch (or wait up to stream_batch_seconds for none) and store it."""
        batch: list[Item] = []
        posts = 0
        limit_s = self.settings.stream_batch_seconds
        until = time.monotonic() + limit_s
        if deadline is not None:
            until = min(until, deadline)
        full = False
        while True:
            if posts >= self.settings.stream_batch_posts:
                full = True
                break
            wait = until - time.monotonic()
            try:  # once the time is up, what is already waiting still joins (a backlog makes full batches)
                item = self.items.get(timeout=min(wait, 0.05)) if wait > 0 and not final else self.items.get_nowait()
            except queue.Empty:
                if wait <= 0 or final or self.stopping.is_set():
                    break
                continue
            if not batch:  # the batch's clock starts when its first post arrived
                until = min(until, item.arrived + limit_s)
            batch.append(item)
            posts += item.kind == "post"
        # The cursor: everything up to it is in this batch or was of no interest (module docstring).
        cursor = batch[-1].time_us if batch else None
        if not full:
            handled = reader.handled_us
            if self.items.empty() and handled is not None:
                cursor = max(cursor or 0, handled)
        if cursor is not None and self.stats.cursor_us is not None:
            cursor = max(cursor, self.stats.cursor_us)
        if not batch and (cursor is None or cursor == self.stats.cursor_us or time.monotonic() - self.last_commit < IDLE_CURSOR_S):
            return  # nothing new; an idle stream moves its cursor every IDLE_CURSOR_S
        self._store(batch, cursor)

    def _store(self, batch: list[Item], cursor_us: int | None) -> None:
        posts = [i for i in batch if i.kind == "post"]
        deletes = [i.payload for i in batch if i.kind == "delete"]
        gone = sorted({i.payload for i in batch if i.kind == "gone"})
        malformed = [i for i in batch if i.kind == "malformed"]
        settings, engine = self.settings, self.engine
        source = SourceBatch(source="bluesky", origin=self.summary.origin, fingerprint=self.summary.fingerprint, format=FORMAT, records=[i.payload for i in posts])
        prepared = prepare_batch(source, settings.labels, settings.max_text_chars)
        version_id, classifier = self.champion.current()
        probabilities: dict[str, Any] = {}
        if classifier is not None and prepared.unique:
            with engine.connect() as conn:  # score only what is new; a duplicate keeps its scores
                known = set(conn.execute(select(tweets.c.id).where(tweets.c.id.in_([r["id"] for r in prepared.unique]))).scalars())
            new = [r for r in prepared.unique if r["id"] not in known]
            if new:
                probs = classifier.predict_proba([r["clean_text"] for r in new], batch_size=settings.score_batch_size)
                probabilities = dict(zip([r["id"] for r in new], probs))
        counts = BatchSummary(source=SOURCE, origin=self.summary.origin, fingerprint=self.summary.fingerprint, format=FORMAT)
        counts.rows_read = len(prepared.unique) + len(prepared.duplicates) + len(prepared.rejected)
        now = utcnow()
        with write_transaction(engine) as conn:
            claimed = conn.execute(
                pull_cursors.update()
                .where(pull_cursors.c.source == SOURCE, pull_cursors.c.query == self.key, pull_cursors.c.version == self.version)
                .values(version=self.version + 1, position={"time_us": cursor_us} if cursor_us else {}, status="streaming")
            ).rowcount
            if claimed != 1:
                raise _Superseded()
            inserted = write_prepared(conn, self.batch_id, prepared, counts, settings.chunk_rows)
            scored = 0
            if version_id is not None:
                ids = [tid for tid in inserted if tid in probabilities]
                scored = insert_scores(conn, score_rows(ids, [probabilities[t] for t in ids], classifier.labels, version_id))
            deleted = 0
            if deletes:
                deleted = conn.execute(tweets.update().where(tweets.c.id.in_(deletes), tweets.c.deleted_at.is_(None)).values(deleted_at=now)).rowcount
            if gone:
                deleted += conn.execute(
                    tweets.update().where(tweets.c.author.in_(gone), tweets.c.source == "bluesky", tweets.c.deleted_at.is_(None)).values(deleted_at=now)
                ).rowcount
            if malformed:
                conn.execute(quarantine.insert(), [
                    {"batch_id": self.batch_id, "source": SOURCE, "location": f"jetstream time_us {i.time_us}", "kind": "invalid", "tweet_id": None,
                     "raw": _raw(i.payload[0]), "reasons": [f"malformed Jetstream message: {i.payload[1]}"], "quarantined_at": now}
                    for i in malformed
                ])
                counts.rows_read += len(malformed)
                counts.rows_quarantined += len(malformed)
            newest = max((r["created_at"] for r in prepared.unique if r["id"] in set(inserted) and r.get("created_at") is not None), default=None)
            values: dict[str, Any] = {"posts_stored": pull_cursors.c.posts_stored + counts.rows_inserted, "last_batch_id": self.batch_id}
            if newest is not None:
                c = pull_cursors.c
                values["newest_at"] = case((or_(c.newest_at.is_(None), c.newest_at < newest), newest), else_=c.newest_at)
            conn.execute(pull_cursors.update().where(pull_cursors.c.source == SOURCE, pull_cursors.c.query == self.key).values(**values))
            b = ingest_batches.c
            conn.execute(
                ingest_batches.update().where(b.id == self.batch_id).values(
                    rows_read=b.rows_read + counts.rows_read,
                    rows_inserted=b.rows_inserted + counts.rows_inserted,
                    rows_duplicate=b.rows_duplicate + counts.rows_duplicate,
                    rows_quarantined=b.rows_quarantined + counts.rows_quarantined,
                    pages=b.pages + 1,
                    cursor_after={"time_us": cursor_us} if cursor_us else None,
                )
            )
        committed = self.last_commit = time.monotonic()
        self.version += 1
        stats = self.stats
        stats.batches += 1
        stats.stored += counts.rows_inserted
        stats.duplicates += counts.rows_duplicate
        stats.quarantined += counts.rows_quarantined
        stats.scored += scored
        stats.deleted += deleted
        stats.accounts_gone += len(gone)
        stats.cursor_us = cursor_us if cursor_us is not None else stats.cursor_us
        stats.model_version_id = version_id
        new_ids = set(inserted)
        stats.latencies.extend(committed - i.arrived for i in posts if i.payload["id"] in new_ids)
        for name in ("rows_read", "rows_inserted", "rows_duplicate", "rows_quarantined"):
            setattr(self.summary, name, getattr(self.summary, name) + getattr(counts, name))

    def _save_stats(self) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(ingest_batches.update().where(ingest_batches.c.id == self.batch_id).values(stream_stats=self.stats.to_dict()))


def _raw(value: Any) -> str:
    """A quarantined message as stored text (``quarantine.raw``), as records store theirs."""
    text = value if isinstance(value, str) else safe_dumps(value)
    text, _ = fix_surrogates(text)
    return text.replace("\x00", "\\x00")


def stream_language(settings: Settings, lang: str | None) -> str | None:
    """The language a stream keeps: ``lang`` ('any' for all), else ``stream_lang``."""
    if lang is None:
        return settings.stream_lang
    code = lang.strip().lower()
    if code in ANY_LANGUAGE:
        return None
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", code):
        raise UserError(f"--lang {lang!r}", "not a language code; use e.g. en, pt-br, or 'any'")
    return code


def follow_stream(settings: Settings, keywords: list[str] | tuple[str, ...] | None = None, lang: str | None = None, seconds: float | None = None, *,
                  log: Callable[[str], None] = print, progress: Callable[[dict[str, Any]], None] | None = None, progress_every_s: float = 1.0,
                  connect: Callable[[str], Any] | None = None) -> StreamStats:
    """Follow Jetstream for ``seconds`` (None: until stopped); keywords and language default to
    ``stream_keywords`` / ``stream_lang``."""
    words = list(keywords) if keywords else list(settings.stream_keywords)
    if not words:
        raise UserError("--keywords", "no keywords: give the words a post must contain (--keywords delta), or set TWEETSENT_STREAM_KEYWORDS")
    stream = Stream(settings, words, stream_language(settings, lang), log=log, connect=connect)
    return stream.run(seconds, progress=progress, progress_every_s=progress_every_s)
