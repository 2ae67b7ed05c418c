"""Ingest throughput: tweetsent end to end vs a plain pandas ``DataFrame.to_sql`` of the same rows.

    .venv/bin/python benchmarks/ingest.py [--airline PATH] [--scale 10] [--pg postgresql+psycopg://...] [--flow]

For each input it times, in the same run and on fresh databases:
- ``to_sql``: ``pandas.read_csv`` + ``DataFrame.to_sql`` (no validation, no cleaning, no dedupe):
  the floor a notebook would start from;
- ``tweetsent``: read + detect + Great Expectations validation + dedupe + cleaning + one
  transactional store with quarantine and batch counts (the ingest flow's steps as functions);
- with ``--flow``: the same through the Prefect ``ingest`` flow against an already running
  temporary Prefect server (orchestration overhead included, server start-up excluded).

Prints a table with rows/s and the ratio to ``to_sql``, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sentiment.data import ingest as lib  # noqa: E402
from sentiment.data.sources import plan_inputs, read_file  # noqa: E402
from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv  # noqa: E402
from sentiment.data.validation import validate_records  # noqa: E402
from sentiment.store import dispose_engines, init_db, make_engine  # noqa: E402

LABELS = ("negative", "neutral", "positive")


def fresh_url(kind: str, workdir: Path, pg_url: str | None, tag: str) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{tag}.db'}", None
    return pg_url, f"bench_{tag}_{os.getpid()}"


def drop_schema(pg_url: str, schema: str) -> None:
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def time_to_sql(path: Path, url: str, schema: str | None) -> tuple[float, int]:
    engine = make_engine(url, schema)
    started = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.to_sql("plain_tweets", engine, if_exists="replace", index=False, chunksize=20_000, method=None)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, len(frame)


def time_tweetsent(path: Path, url: str, schema: str | None) -> tuple[float, lib.BatchSummary]:
    engine = make_engine(url, schema)
    init_db(engine)
    started = time.perf_counter()
    (spec,) = plan_inputs([path])
    batch = read_file(spec)
    validation = validate_records(batch.records, LABELS, 1000)
    summary = lib.store_batch(engine, lib.clean_batch(lib.dedupe_batch(batch, validation)))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, summary


def time_flow(path: Path, url: str, schema: str | None, workdir: Path) -> float:
    os.environ["TWEETSENT_HOME"] = str(workdir / "flowhome")
    os.environ["TWEETSENT_DB_URL"] = url
    if schema:
        os.environ["TWEETSENT_DB_SCHEMA"] = schema
    else:
        os.environ.pop("TWEETSENT_DB_SCHEMA", None)
    from flows.ingest import ingest

    started = time.perf_counter()
    ingest(paths=[str(path)])
    elapsed = time.perf_counter() - started
    dispose_engines()
    return elapsed


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--airline", type=Path, default=here.parent / "shared" / "data" / "airline" / "tweets.csv")
    parser.add_argument("--scale", type=int, default=10, help="The synthetic file has scale x the airline file's rows.")
    parser.add_argument("--pg", default=os.environ.get("TWEETSENT_BENCH_PG_URL"), help="Also measure on this PostgreSQL database.")
    parser.add_argument("--flow", action="store_true", help="Also time the Prefect flow (starts a temporary Prefect server first).")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tweetsent-bench-"))
    inputs: list[tuple[str, Path]] = []
    airline_rows = 13_221
    if args.airline.is_file():
        inputs.append(("airline", args.airline))
        airline_rows = len(read_file(plan_inputs([args.airline])[0]).records)
    else:
        print(f"(airline file not found at {args.airline}: measuring the synthetic file only)")
    synthetic = workdir / f"synthetic_x{args.scale}.csv"
    write_synthetic_csv(synthetic, SyntheticSpec(count=airline_rows * args.scale, seed=7, days=30))
    inputs.append((f"synthetic x{args.scale}", synthetic))

    backends = ["sqlite"] + (["postgresql"] if args.pg else [])
    harness = None
    if args.flow:
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        from prefect.testing.utilities import prefect_test_harness

        harness = prefect_test_harness(server_startup_timeout=120)
        harness.__enter__()

    results = []
    try:
        # warm-up: imports, GX context, regex compilation are one-off costs of a process
        warm_url, warm_schema = fresh_url("sqlite", workdir, None, "warmup")
        time_tweetsent(synthetic if not args.airline.is_file() else args.airline, warm_url, warm_schema)
        for backend in backends:
            for name, path in inputs:
                tag = f"{backend}_{name.replace(' ', '_')}"
                url, schema = fresh_url(backend, workdir, args.pg, f"plain_{tag}")
                plain_s, rows = time_to_sql(path, url, schema)
                url2, schema2 = fresh_url(backend, workdir, args.pg, f"ts_{tag}")
                ts_s, summary = time_tweetsent(path, url2, schema2)
                row = {
                    "backend": backend,
                    "input": name,
                    "rows": rows,
                    "to_sql_rows_per_s": round(rows / plain_s),
                    "tweetsent_rows_per_s": round(summary.rows_read / ts_s),
                    "ratio_vs_to_sql": round((summary.rows_read / ts_s) / (rows / plain_s), 3),
                    "inserted": summary.rows_inserted,
                    "duplicate": summary.rows_duplicate,
                    "quarantined": summary.rows_quarantined,
                }
                if args.flow:
                    url3, schema3 = fresh_url(backend, workdir, args.pg, f"flow_{tag}")
                    flow_s = time_flow(path, url3, schema3, workdir)
                    row["flow_rows_per_s"] = round(summary.rows_read / flow_s)
                    if schema3:
                        drop_schema(args.pg, schema3)
                results.append(row)
                for s in (schema, schema2):
                    if s:
                        drop_schema(args.pg, s)
    finally:
        if harness is not None:
            harness.__exit__(None, None, None)

    cols = ["backend", "input", "rows", "to_sql_rows_per_s", "tweetsent_rows_per_s", "ratio_vs_to_sql"] + (["flow_rows_per_s"] if args.flow else [])
    widths = [max(len(c), *(len(str(r[c])) for r in results)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in results:
        print("  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths)))
    print(f"(machine: {os.cpu_count()} cores; to_sql = pandas.read_csv + DataFrame.to_sql without validation or cleaning)")
    print(json.dumps({"ingest": results}))


if __name__ == "__main__":
    main()
