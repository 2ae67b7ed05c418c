"""A loopback stand-in for Bluesky's Jetstream (v1 ``/subscribe``), built to its documented messages.

What it does as Jetstream does (github.com/bluesky-social/jetstream README, "Consuming Jetstream"):

- every message is one JSON object with ``did``, ``time_us`` (the server's clock when it took the
  event in, microseconds, increasing) and ``kind`` (``commit`` with ``commit.operation`` create /
  update / delete, ``collection``, ``rkey``, ``record``, ``cid``; ``identity``; ``account``);
- ``wantedCollections`` filters commits by collection; identity and account events reach every
  subscriber whatever it wants;
- ``cursor`` (unix microseconds) replays from that time on (``time_us >= cursor``), then goes on
  live; without a cursor a subscriber starts at the live tip.

Scripted: ``JetstreamServer(events, rate=...)`` plays ``events`` (dicts without ``time_us``, or
``Raw`` strings sent as they are) at ``rate`` messages per second from the first connection on,
stamping ``time_us`` at play time; ``drop_after`` closes a connection abruptly after that many
messages (once each); ``honour_filter=False`` sends every collection. ``requests`` lists the paths
clients asked for. Standard library plus ``websockets``.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

POST = "app.bsky.feed.post"


@dataclass(frozen=True)
class Raw:
    """A message sent exactly as written (malformed input)."""

    text: str


class JetstreamServer:
    def __init__(self, events: list, rate: float = 200.0, *, drop_after: tuple[int, ...] = (), honour_filter: bool = True, start_at_first_connect: bool = True):
        self.script = list(events)
        self.rate = rate
        self.drop_after = list(drop_after)
        self.honour_filter = honour_filter
        self.start_at_first_connect = start_at_first_connect
        self.history: list[tuple[int | None, str, str | None]] = []  # (time_us, message, collection)
        self.requests: list[str] = []
        self.sent = 0
        self.played = threading.Event()  # every scripted event is in the history
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._started = False

    # --- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> JetstreamServer:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if not self.start_at_first_connect:
            self.start_playing()
        return self

    def __exit__(self, *exc) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/subscribe"

    def start_playing(self) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._begin)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._news = asyncio.Condition()
        async with serve(self._handler, "127.0.0.1", 0, max_size=2**22) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def _begin(self) -> None:
        if not self._started:
            self._started = True
            asyncio.ensure_future(self._play())

    # --- playing the script ------------------------------------------------------------------
    async def _play(self) -> None:
        start = time.monotonic()
        last = 0
        for n, event in enumerate(self.script):
            delay = start + n / self.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if isinstance(event, Raw):
                self.history.append((None, event.text, None))
            else:
                now_us = max(int(time.time() * 1e6), last + 1)
                last = now_us
                message = {"did": event.get("did"), "time_us": now_us, **{k: v for k, v in event.items() if k != "did"}}
                if event.get("time_us", 0) is None:  # scripted "no time_us"
                    message.pop("time_us")
                collection = (event.get("commit") or {}).get("collection") if event.get("kind") == "commit" else None
                self.history.append((now_us, json.dumps(message), collection))
            async with self._news:
                self._news.notify_all()
        self.played.set()

    # --- one subscriber --------------------------------------------------------------------
    async def _handler(self, ws) -> None:
        path = ws.request.path
        self.requests.append(path)
        query = parse_qs(urlsplit(path).query)
        wanted = set(query.get("wantedCollections", []))
        cursor = int(query["cursor"][0]) if query.get("cursor") else None
        if self.start_at_first_connect:
            self._begin()
        index = len(self.history)
        if cursor is not None:
            index = next((i for i, (t, _, _) in enumerate(self.history) if t is not None and t >= cursor), len(self.history))
        drop = self.drop_after.pop(0) if self.drop_after else None
        sent_here = 0
        try:
            while True:
                while index < len(self.history):
                    time_us, message, collection = self.history[index]
                    index += 1
                    if self.honour_filter and wanted and collection is not None and collection not in wanted:
                        continue
                    await ws.send(message)
                    self.sent += 1
                    sent_here += 1
                    if drop is not None and sent_here >= drop:
                        ws.transport.abort()  # no close frame: a network failure, not a goodbye
                        return
                async with self._news:
                    await self._news.wait_for(lambda i=index: i < len(self.history))
        except Exception:  # the client went away
            return


# --- scripted events, as Jetstream sends them ---------------------------------------------------

WORDS = "flight crew seat gate bag delay service plane trip airport lounge upgrade".split()
POSITIVE = ["thanks {kw} for a great {w}", "love the {w} on {kw}, awesome", "{kw} crew was so kind, best {w} ever"]
NEGATIVE = ["{kw} lost my {w} again, terrible", "worst {w} ever {kw}, so angry", "{kw} cancelled my {w}, awful service"]
NEUTRAL = ["is the {kw} {w} at gate 5?", "{kw} {w} leaves at 6pm", "does {kw} have a {w} policy"]


def _rkey(n: int) -> str:
    return f"3l{n:011d}"


def _did(n: int) -> str:
    return f"did:plc:{n % 997:024d}"


def post_event(n: int, text: str, langs: list[str] | None = None, facets: list | None = None, tags: list | None = None, did: str | None = None) -> dict:
    record = {"$type": POST, "text": text, "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "langs": langs if langs is not None else ["en"]}
    if facets is not None:
        record["facets"] = facets
    if tags is not None:
        record["tags"] = tags
    return {"did": did or _did(n), "kind": "commit", "commit": {"rev": f"3m{n:011d}", "operation": "create", "collection": POST, "rkey": _rkey(n), "record": record, "cid": f"bafyrei{n:020d}"}}


def delete_event(n: int, did: str | None = None) -> dict:
    return {"did": did or _did(n), "kind": "commit", "commit": {"rev": f"3z{n:011d}", "operation": "delete", "collection": POST, "rkey": _rkey(n)}}


def uri(n: int, did: str | None = None) -> str:
    return f"bsky:at://{did or _did(n)}/{POST}/{_rkey(n)}"


def replay_script(posts: int, keyword: str = "delta", match_share: float = 0.5, seed: int = 7, extras: bool = True) -> tuple[list, set[str], set[str]]:
    """``posts`` post creations (a ``match_share`` of them mention ``keyword``), and with ``extras``
    what a real stream mixes in: likes, identity and account events, a post in another language,
    an edit, deletions of matching posts, malformed messages. Returns (events, ids of matching
    posts, ids of matching posts later deleted)."""
    rng = random.Random(seed)
    events: list = []
    matching: set[str] = set()
    deleted: set[str] = set()
    for n in range(posts):
        if rng.random() < match_share:
            template = rng.choice(POSITIVE + NEGATIVE + NEUTRAL)
            text = template.format(kw=rng.choice([keyword, keyword.capitalize(), "#" + keyword]), w=rng.choice(WORDS)) + f" ({n})"
            events.append(post_event(n, text))
            matching.add(uri(n))
        else:
            events.append(post_event(n, f"just a {rng.choice(WORDS)} day, nothing else ({n})"))
        if extras and n % 10 == 3:
            events.append({"did": _did(n), "kind": "commit", "commit": {"rev": "x", "operation": "create", "collection": "app.bsky.feed.like",
                                                                        "rkey": _rkey(n), "record": {"subject": {"uri": "at://x"}}}})
        if extras and n % 25 == 7:
            events.append({"did": _did(n), "kind": "identity", "identity": {"did": _did(n), "handle": f"user{n}.bsky.social", "seq": n, "time": "2026-12-04T00:00:00Z"}})
            events.append({"did": _did(n), "kind": "account", "account": {"active": True, "did": _did(n), "seq": n, "time": "2026-12-04T00:00:00Z"}})
        if extras and n % 40 == 11 and uri(n - 5) in matching and uri(n - 5) not in deleted:
            events.append(delete_event(n - 5))
            deleted.add(uri(n - 5))
    if extras:
        events += [Raw("{not json"), Raw('{"kind": "commit"}'), {"did": "did:plc:x", "kind": "commit", "commit": {"operation": "create", "collection": POST}},
                   post_event(posts + 1, f"{keyword} but in German", langs=["de"]),
                   {**post_event(posts + 2, f"{keyword} edited"), "commit": {**post_event(posts + 2, f"{keyword} edited")["commit"], "operation": "update"}}]
    return events, matching, deleted
