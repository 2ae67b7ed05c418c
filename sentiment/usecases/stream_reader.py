"""The reading half of the stream (see :mod:`sentiment.usecases.streaming`): a thread that keeps
the Jetstream WebSocket open, sorts every message, and queues what the writer must store; and the
run's counters.

The reader puts an item on the queue *before* it moves its mark ``handled_us`` past that message's
``time_us``: the writer relies on that order to know how far its cursor may go.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sentiment.data.sources.live.jetstream import GONE_STATUSES, Event, Keywords, check_url, event_record, parse_message, post_text, subscribe_url, wants_lang
from sentiment.errors import UserError
from sentiment.settings import Settings
from sentiment.store.engine import mask_secrets

#: Post ids remembered by the reader, to drop what a reconnect shows again.
RECENT_IDS = 100_000
#: Latencies kept for the percentiles (the most recent ones).
LATENCIES = 200_000
#: Malformed messages written to quarantine per run; later ones are only counted.
MAX_QUARANTINED_MALFORMED = 1000


@dataclass
class StreamStats:
    """What a stream run saw and did; ``to_dict`` adds latency percentiles (ms, message arrival
    to its micro-batch committed) and the lag (now - the cursor's ``time_us``)."""

    keywords: list[str] = field(default_factory=list)
    lang: str | None = None
    status: str = "starting"
    seen: int = 0  # messages read
    posts: int = 0  # post creations among them
    matched: int = 0  # matching the keywords and the language
    replayed: int = 0  # matched again after a reconnect, dropped by id
    stored: int = 0
    duplicates: int = 0  # already in the database (a restart's overlap, or another source)
    quarantined: int = 0
    scored: int = 0
    deletes_seen: int = 0  # post deletions in the stream
    deleted: int = 0  # ... of posts stored here: marked deleted
    accounts_gone: int = 0  # accounts deleted or taken down (their stored posts are marked deleted)
    updates: int = 0  # post edits (Bluesky posts are immutable in the app; ignored)
    other: int = 0  # other collections, identity and account events
    malformed: int = 0
    batches: int = 0
    reconnects: int = 0
    paused_s: float = 0.0  # reading paused because stream_max_queue posts were waiting
    queue_peak: int = 0
    cursor_us: int | None = None
    model_version_id: int | None = None
    started: float = field(default_factory=time.monotonic)
    latencies: deque = field(default_factory=lambda: deque(maxlen=LATENCIES))

    def latency_ms(self) -> dict[str, float | None]:
        values = sorted(self.latencies)
        if not values:
            return {"p50": None, "p95": None, "p99": None, "max": None}

        def at(q: float) -> float:
            return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)

        return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(1000 * values[-1], 1)}

    def lag_s(self) -> float | None:
        return None if self.cursor_us is None else round(max(0.0, time.time() - self.cursor_us / 1e6), 1)

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("latencies", "started")}
        data["paused_s"] = round(self.paused_s, 1)
        data["seconds"] = round(time.monotonic() - self.started, 1)
        data["latency_ms"] = self.latency_ms()
        data["lag_s"] = self.lag_s()
        data["cursor_at"] = None if self.cursor_us is None else datetime.fromtimestamp(self.cursor_us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        return data


@dataclass
class Item:
    kind: str  # post, delete, gone, malformed
    time_us: int
    arrived: float  # time.monotonic() when the message was read
    payload: Any


def connect(url: str):
    from websockets.sync.client import connect

    # Jetstream messages are small; 4 MiB leaves room for the largest records. Pings (every 20 s)
    # notice a dead connection that TCP alone would not.
    return connect(url, open_timeout=15, close_timeout=2, max_size=4 * 2**20, user_agent_header="tweetsent (jetstream consumer)")


class Reader(threading.Thread):
    """Reads the stream into the queue (see the module docstring); reconnects with backoff."""

    def __init__(self, settings: Settings, matcher: Keywords, lang: str | None, start_us: int | None, items: queue.Queue, stats: StreamStats,
                 log: Callable[[str], None], connect: Callable[[str], Any]) -> None:
        super().__init__(name="jetstream-reader", daemon=True)
        self.settings, self.matcher, self.lang, self.items, self.stats, self.log, self.connect = settings, matcher, lang, items, stats, log, connect
        self.base = check_url(settings.jetstream_url)
        self.start_us = start_us
        self.handled_us: int | None = None
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.connected_once = False
        self.recent: OrderedDict[str, None] = OrderedDict()

    # --- the connection -----------------------------------------------------------------
    def resume_point(self) -> int | None:
        mark = self.handled_us if self.handled_us is not None else self.start_us
        return None if mark is None else max(1, mark - int(self.settings.stream_rewind_s * 1e6))

    def run(self) -> None:
        backoff, failures = self.settings.stream_backoff_s, 0
        while not self.stop_event.is_set():
            resume = self.resume_point()
            try:
                with self.connect(subscribe_url(self.base, resume)) as ws:
                    failures, backoff = 0, self.settings.stream_backoff_s
                    if self.connected_once:
                        self.stats.reconnects += 1
                    self.connected_once = True
                    where = f"from {_when(resume)} (the cursor less {self.settings.stream_rewind_s:g} s)" if resume else "at the live tip"
                    self.log(f"jetstream: connected to {self.base}, reading {where}")
                    self._read(ws)
                if self.stop_event.is_set():
                    return
                reason = "the server closed the connection"
            except Exception as exc:  # any network or protocol failure: reconnect
                if self.stop_event.is_set():
                    return
                reason = mask_secrets(f"{type(exc).__name__}: {exc}")[:300]
            failures += 1
            if not self.connected_once and failures >= self.settings.stream_connect_attempts:
                self.error = UserError(f"TWEETSENT_JETSTREAM_URL={self.base}", f"no Jetstream answers after {failures} attempts ({reason})")
                return
            self.log(f"jetstream: {reason}; reconnecting in {backoff:g} s")
            self.stop_event.wait(backoff)
            backoff = min(backoff * 2, self.settings.stream_max_backoff_s)

    def _read(self, ws) -> None:
        while not self.stop_event.is_set():
            try:
                message = ws.recv(timeout=0.25)
            except TimeoutError:
                continue
            if not self.handle(message, time.monotonic()):
                return

    # --- one message --------------------------------------------------------------------
    def handle(self, message: str | bytes, arrived: float) -> bool:
        """Deal with one message; False when the stream is stopping and it was not queued."""
        stats = self.stats
        stats.seen += 1
        event = parse_message(message)
        item = self._item(event, arrived)
        if item is not None and not self._put(item):
            return False
        if event.time_us is not None and (self.handled_us is None or event.time_us > self.handled_us):
            self.handled_us = event.time_us  # after the put: the writer relies on this order
        return True

    def _item(self, event: Event, arrived: float) -> Item | None:
        stats = self.stats
        if event.kind == "malformed":
            stats.malformed += 1
            if stats.malformed > MAX_QUARANTINED_MALFORMED:
                return None
            # A message without a time_us of its own sits at the reader's mark (safe for the cursor).
            return Item("malformed", event.time_us or self.handled_us or 0, arrived, (event.raw, event.problem))
        if event.kind == "delete":
            stats.deletes_seen += 1
            return Item("delete", event.time_us, arrived, event.tweet_id)
        if event.kind == "account" and event.status in GONE_STATUSES and event.did:
            return Item("gone", event.time_us, arrived, event.did)
        if event.kind == "update":
            stats.updates += 1
            return None
        if event.kind != "post":
            stats.other += 1
            return None
        stats.posts += 1
        record = event.record or {}
        if not wants_lang(record, self.lang):
            return None
        text, tags = post_text(record)
        keyword = self.matcher.match(text, tags)
        if keyword is None:
            return None
        if event.tweet_id in self.recent:
            stats.replayed += 1
            return None
        self.recent[event.tweet_id] = None
        if len(self.recent) > RECENT_IDS:
            self.recent.popitem(last=False)
        stats.matched += 1
        return Item("post", event.time_us, arrived, event_record(event, keyword))

    def _put(self, item: Item) -> bool:
        try:
            self.items.put_nowait(item)
        except queue.Full:
            paused = time.monotonic()
            while True:
                if self.stop_event.is_set():
                    return False
                try:
                    self.items.put(item, timeout=0.25)
                    break
                except queue.Full:
                    continue
            self.stats.paused_s += time.monotonic() - paused
        self.stats.queue_peak = max(self.stats.queue_peak, self.items.qsize())
        return True


def _when(time_us: int) -> str:
    return datetime.fromtimestamp(time_us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def stats_markdown(stats: dict[str, Any]) -> str:
    """A stream run's counters as Markdown (the UI artifact)."""
    latency = stats.get("latency_ms") or {}
    rows = [
        ("status", stats.get("status")), ("keywords", ", ".join(stats.get("keywords") or [])), ("language", stats.get("lang") or "any"),
        ("messages seen", stats.get("seen")), ("posts", stats.get("posts")), ("matched", stats.get("matched")),
        ("stored", stats.get("stored")), ("scored", stats.get("scored")), ("duplicates", stats.get("duplicates")),
        ("quarantined", stats.get("quarantined")), ("deleted", stats.get("deleted")), ("reconnects", stats.get("reconnects")),
        ("paused reading (s)", stats.get("paused_s")), ("latency p50 / p95 / p99 (ms)", f"{latency.get('p50')} / {latency.get('p95')} / {latency.get('p99')}"),
        ("lag behind the stream (s)", stats.get("lag_s")), ("cursor", stats.get("cursor_at")), ("model version", stats.get("model_version_id")),
    ]
    return "# Stream\n\n| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows) + "\n"
