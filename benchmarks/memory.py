"""Memory while scoring a million tweets from the database: peak RSS and rate over time.

    .venv/bin/python benchmarks/memory.py [--count 1000000] [--model packaged|tiny|FOLDER] [--db URL]

Fills a fresh database (default: a temporary SQLite file; ``--db`` for PostgreSQL) with ``count``
synthetic tweets (a pool of generated texts, each reused with its own id), then scores all of
them through the real path, ``score_unscored`` (keyset chunks of ``TWEETSENT_SCORE_CHUNK`` read,
scored and written per transaction), in a fresh process, sampling its resident memory as it
goes. ``--model``: ``packaged`` is all-MiniLM-L6-v2 with a new 3-class head (the compute of a
fine-tuned one; a million takes an hour or more on 2 cores), ``tiny`` a random 2-layer
BERT with the same vocabulary (same database and scoring path, minutes), or a model folder.
Prints RSS and rate over time, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import LABELS, REPO, cpu_line, current_rss_mb, peak_rss_mb, print_table, run_child  # noqa: E402

POOL = 5000  # distinct generated texts


def fill_database(url: str, schema: str | None, count: int) -> None:
    """``count`` tweets in one ingest batch, written in chunks (never all in memory)."""
    from sentiment.clock import utcnow
    from sentiment.data.cleaning import clean_text
    from sentiment.data.sources.synthetic import SyntheticSpec, generate_synthetic
    from sentiment.store import bulk_insert, ingest_batches, init_db, make_engine, tweets, write_transaction

    engine = make_engine(url, schema)
    init_db(engine)
    pool = [(r["text"], r["author"], r["topic"]) for r in generate_synthetic(SyntheticSpec(count=POOL, seed=7))]
    cleaned = [clean_text(text) for text, _, _ in pool]
    now = utcnow()
    with write_transaction(engine) as conn:
        batch_id = conn.execute(
            ingest_batches.insert().values(source="synthetic", origin=f"memory benchmark, {count} tweets", fingerprint=f"memory-bench-{count}", format="synthetic", started_at=now)
        ).inserted_primary_key[0]
    for start in range(0, count, 50_000):
        rows = []
        for n in range(start, min(count, start + 50_000)):
            text, author, topic = pool[n % POOL]
            rows.append({
                "id": f"syn:{n:09d}", "source": "synthetic", "source_id": f"{n:09d}", "text": text, "clean_text": cleaned[n % POOL],
                "created_at": now, "author": author, "lang": "en", "topic": topic, "batch_id": batch_id, "ingested_at": now,
            })
        with write_transaction(engine) as conn:
            bulk_insert(conn, tweets, rows)
    engine.dispose()


def model_folder(choice: str, workdir: Path) -> Path:
    from sentiment.model.classifier import SentimentClassifier
    from sentiment.settings import PACKAGED_MODEL

    if choice not in ("packaged", "tiny"):
        return Path(choice)
    if choice == "tiny":
        sys.path.insert(0, str(REPO))
        from tests.tiny_model import make_tiny_checkpoint

        checkpoint = str(make_tiny_checkpoint(workdir / "tiny-checkpoint"))
    else:
        checkpoint = PACKAGED_MODEL
    folder = workdir / f"model-{choice}"
    SentimentClassifier.from_checkpoint(checkpoint, LABELS, max_length=64).save(folder)
    return folder


def score_all(url: str, schema: str | None, folder: Path, every_s: float) -> dict:
    """Runs in a child process: score every tweet, sampling RSS and rate."""
    from sentiment.model.scoring import cached_classifier, score_unscored
    from sentiment.settings import Settings
    from sentiment.store import make_engine, registry

    settings = Settings(home=folder.parent)
    engine = make_engine(url, schema)
    version_id, _ = registry.create_version(
        engine, base_checkpoint=str(folder), label_set=",".join(LABELS), hyperparameters={}, data_snapshot={}, models_dir=folder.parent / "versions"
    )
    classifier = cached_classifier(folder, "cpu", settings.quantize, settings.score_threads, settings.precision)
    loaded_rss = current_rss_mb()
    samples: list[dict] = []
    started = time.perf_counter()
    last = [started - every_s]

    def progress(done: int, total: int, rate: float) -> None:
        now = time.perf_counter()
        if now - last[0] >= every_s or done >= total:
            samples.append({"tweets": done, "seconds": round(now - started, 1), "tweets_per_s": round(rate, 1), "rss_mb": round(current_rss_mb(), 1)})
            last[0] = now

    summary = score_unscored(engine, classifier, version_id, chunk=settings.score_chunk, batch_size=settings.score_batch_size, progress=progress)
    engine.dispose()
    return {
        "scored": summary.scored, "seconds": summary.seconds, "tweets_per_s": summary.tweets_per_s, "loaded_rss_mb": loaded_rss,
        "peak_rss_mb": peak_rss_mb(), "samples": samples, "int8": classifier.quantized, "precision": classifier.precision, "chunk": settings.score_chunk, "batch_size": settings.score_batch_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--model", default="packaged", help="packaged, tiny or a tweetsent model folder.")
    parser.add_argument("--db", help="Database URL (default: a fresh SQLite file in a temporary folder).")
    parser.add_argument("--schema", help="PostgreSQL schema to use (created; dropped at the end).")
    parser.add_argument("--sample-every", type=float, default=10.0, help="Seconds between memory samples.")
    parser.add_argument("--phase", choices=["fill", "score"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "fill":
        fill_database(args.db, args.schema, args.count)
        print(json.dumps({"filled": args.count}))
        return
    if args.phase == "score":
        print(json.dumps(score_all(args.db, args.schema, Path(args.folder), args.sample_every)))
        return

    print(f"machine: {cpu_line()}")
    workdir = Path(tempfile.mkdtemp(prefix="tweetsent-memory-bench-"))
    url = args.db or f"sqlite:///{workdir / 'memory.db'}"
    schema = args.schema or (f"memory_bench_{int(time.time())}" if url.startswith("postgres") else None)
    common = ["--db", url] + (["--schema", schema] if schema else [])
    started = time.perf_counter()
    run_child([__file__, "--phase", "fill", "--count", str(args.count), *common], timeout=7200)
    print(f"database filled with {args.count:,} tweets in {time.perf_counter() - started:.0f} s", flush=True)
    folder = model_folder(args.model, workdir)
    result = run_child([__file__, "--phase", "score", "--folder", str(folder), "--sample-every", str(args.sample_every), *common], timeout=6 * 3600)
    if schema:
        from sqlalchemy import create_engine, text

        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    samples = result.pop("samples")
    step = max(1, len(samples) // 12)
    shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    print_table(shown, ["tweets", "seconds", "tweets_per_s", "rss_mb"])
    after_first = [s["rss_mb"] for s in samples if s["tweets"] >= args.count // 10] or [s["rss_mb"] for s in samples]
    growth = after_first[-1] - after_first[0]
    print(
        f"model {args.model} ({result['precision']}), chunk {result['chunk']}, batch {result['batch_size']}: "
        f"{result['scored']:,} tweets in {result['seconds']:.0f} s ({result['tweets_per_s']:.0f}/s); RSS {result['loaded_rss_mb']:.0f} MB after loading the model, "
        f"peak {result['peak_rss_mb']:.0f} MB; change from 10% to the end: {growth:+.0f} MB"
    )
    print(json.dumps({
        "model": args.model, "count": args.count, "scored": result["scored"], "tweets_per_s": round(result["tweets_per_s"], 1),
        "peak_rss_mb": round(result["peak_rss_mb"]), "loaded_rss_mb": round(result["loaded_rss_mb"]), "rss_growth_after_10pct_mb": round(growth, 1),
        "int8": result["int8"], "database": "postgresql" if schema else "sqlite",
    }))


if __name__ == "__main__":
    main()
