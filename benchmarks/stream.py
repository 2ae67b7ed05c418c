"""Stream latency: posts replayed through a local Jetstream at increasing rates, each stored and
scored by the champion; for each rate the latency from a message's arrival to its micro-batch's
commit (p50, p95, p99), and whether the stream kept up.

    .venv/bin/python benchmarks/stream.py [--rates 50,100,200,400,800] [--seconds 20] [--model FOLDER]

The Jetstream server (tests/jetstream_server.py, Jetstream's documented messages) runs in its own
process, as a real one is on another machine, and plays real airline tweets (their leading airline
handle made @delta, so every post matches ``--keywords delta``: the worst case, every post stored
and scored) for ``--seconds`` at each rate, mixed with what a real stream carries (likes,
identity and account events, deletions). The stream runs with the default settings (micro-batches
of 100 posts or 1 s, the champion in its default scoring precision) against a fresh SQLite
database per rate. The champion is ``--model`` (a fine-tuned version's folder), or else the
packaged all-MiniLM-L6-v2 with a new classification head: the same 22M-parameter network as the
default model, so the same cost per post (the weights do not change the speed).

"Held" means no growing backlog: once the replay ends, the last post is committed within
2 × ``stream_batch_seconds`` + 1 s, and the reader never had to pause. Prints a table and one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import DEFAULT_AIRLINE, LABELS, REPO, cpu_line, print_table  # noqa: E402

KEYWORD = "delta"


def replay_events(texts: list[str], count: int) -> list:
    """``count`` post events from ``texts`` (cycled), with likes, identity/account events and
    deletions mixed in as a real stream has them."""
    from tests.jetstream_server import delete_event, post_event

    events: list = []
    for n in range(count):
        text = texts[n % len(texts)]
        words = text.split(" ", 1)
        text = f"@{KEYWORD} {words[1] if len(words) > 1 and words[0].startswith('@') else text}"
        events.append(post_event(n, text))
        if n % 10 == 3:
            events.append({"did": "did:plc:like", "kind": "commit", "commit": {"operation": "create", "collection": "app.bsky.feed.like", "rkey": f"l{n}", "record": {}}})
        if n % 50 == 7:
            events.append({"did": f"did:plc:{n}", "kind": "identity", "identity": {"did": f"did:plc:{n}", "handle": f"u{n}.bsky.social"}})
        if n % 40 == 11:
            events.append(delete_event(n - 5))
    return events


def serve(events: list, rate: float, ready, stop) -> None:  # pragma: no cover - child process
    from tests.jetstream_server import JetstreamServer

    with JetstreamServer(events, rate=rate) as server:
        ready.send((server.url, len(events)))
        while not stop.is_set():
            if server.played.is_set():
                ready.send(("played", time.time()))
                stop.wait()
                break
            time.sleep(0.01)


def champion_folder(model: str | None, work: Path, texts: list[str]) -> Path:
    if model:
        return Path(model)
    from sentiment.model.classifier import SentimentClassifier, choose_max_length
    from sentiment.settings import PACKAGED_MODEL, Settings

    folder = work / "packaged-minilm"
    probe = SentimentClassifier.from_checkpoint(PACKAGED_MODEL, LABELS, max_length=128)
    # the token length a training run on these texts would choose (99th percentile, capped)
    lengths = [len(ids) for ids in probe.tokenizer(texts[:2000])["input_ids"]]
    SentimentClassifier.from_checkpoint(PACKAGED_MODEL, LABELS, max_length=choose_max_length(lengths, Settings().max_length_cap)).save(folder)
    return folder


def register(folder: Path) -> None:
    """Make ``folder`` the champion of the (fresh) database the environment points at."""
    import shutil

    from sentiment.settings import Settings
    from sentiment.store import open_db, registry

    engine = open_db(Settings())
    version_id, target = registry.create_version(engine, base_checkpoint=str(folder), label_set=",".join(LABELS), hyperparameters={}, data_snapshot={},
                                                 models_dir=Settings().models_dir)
    shutil.copytree(folder, target, dirs_exist_ok=True)
    registry.record_results(engine, version_id, {"macro_f1": 0.8, "accuracy": 0.8}, 1.0, test_set_id=1)
    registry.promote_if_better(engine, version_id)


def run_rate(rate: float, seconds: float, texts: list[str], folder: Path, work: Path) -> dict:
    from sentiment.settings import Settings
    from sentiment.store.database import dispose_engines
    from sentiment.usecases.streaming import Stream

    home = work / f"rate-{rate:g}"
    os.environ["TWEETSENT_HOME"] = str(home)
    os.environ["TWEETSENT_DB_URL"] = f"sqlite:///{home / 'tweetsent.db'}"
    dispose_engines()
    Settings().ensure_home()
    register(folder)
    events = replay_events(texts, int(rate * seconds))
    posts = int(rate * seconds)
    spawn = multiprocessing.get_context("spawn")  # no fork of a process with torch's threads
    parent, child = spawn.Pipe()
    stop = spawn.Event()
    server = spawn.Process(target=serve, args=(events, rate, child, stop), daemon=True)
    server.start()
    url, _ = parent.recv()
    stream = Stream(Settings(jetstream_url=url), [KEYWORD], "en", log=lambda m: None)
    queue_sizes: list[int] = []
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    played_at = None
    deadline = time.monotonic() + seconds * 6 + 60
    while time.monotonic() < deadline:
        queue_sizes.append(stream.items.qsize())
        if played_at is None and parent.poll():
            _, played_at = parent.recv()
        if played_at is not None and stream.stats.stored + stream.stats.duplicates >= posts:
            break
        time.sleep(0.1)
    caught_up = time.time()
    stream.stop()
    thread.join(60)
    stop.set()
    server.join(10)
    stats = stream.stats.to_dict()
    drain = None if played_at is None else round(caught_up - played_at, 2)
    limit = 2 * Settings().stream_batch_seconds + 1
    held = bool(drain is not None and drain <= limit and stats["stored"] == posts and stats["paused_s"] == 0)
    return {
        "rate": rate, "posts": posts, "stored": stats["stored"], "scored": stats["scored"], "batches": stats["batches"],
        "p50_ms": stats["latency_ms"]["p50"], "p95_ms": stats["latency_ms"]["p95"], "p99_ms": stats["latency_ms"]["p99"], "max_ms": stats["latency_ms"]["max"],
        "queue_peak": stats["queue_peak"], "paused_s": stats["paused_s"], "drain_s": drain, "held": held,
        "posts_per_batch": round(stats["stored"] / max(1, stats["batches"]), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="50,100,200,400,800", help="Posts per second to replay, comma-separated.")
    parser.add_argument("--seconds", type=float, default=20.0, help="How long each rate is replayed.")
    parser.add_argument("--model", help="A fine-tuned model folder to score with (default: the packaged MiniLM, untrained head).")
    parser.add_argument("--airline", type=Path, default=DEFAULT_AIRLINE, help="Airline tweets whose texts are replayed.")
    args = parser.parse_args()
    os.chdir(REPO)
    if args.airline.is_file():
        import csv

        with open(args.airline, newline="", encoding="utf-8") as f:
            texts = [row["text"] for row in csv.DictReader(f)]
        source = f"{len(texts)} airline tweets"
    else:
        from tests.jetstream_server import NEGATIVE, NEUTRAL, POSITIVE

        texts = [t.format(kw=KEYWORD, w="flight") for t in POSITIVE + NEGATIVE + NEUTRAL]
        source = "template posts (airline file absent)"
    print(cpu_line())
    print(f"texts: {source}; {args.seconds:g} s per rate; keyword {KEYWORD!r} (every post matches)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = champion_folder(args.model, work, texts)
        for rate in [float(r) for r in args.rates.split(",") if r.strip()]:
            rows.append(run_rate(rate, args.seconds, texts, folder, work))
            print(f"rate {rate:g}/s: p95 {rows[-1]['p95_ms']} ms, held {rows[-1]['held']}", flush=True)
    print_table(rows, ["rate", "posts", "stored", "scored", "batches", "posts_per_batch", "p50_ms", "p95_ms", "p99_ms", "max_ms", "queue_peak", "paused_s", "drain_s", "held"])
    held = [r["rate"] for r in rows if r["held"]]
    print(json.dumps({"rows": rows, "highest_rate_held": max(held) if held else None}))


if __name__ == "__main__":
    main()
