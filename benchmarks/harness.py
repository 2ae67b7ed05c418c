"""What the benchmarks share: the real airline tweets, a child process per contender (so each one's
peak memory is its own), peak RSS, and the printed table."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_AIRLINE = REPO.parent / "shared" / "data" / "airline" / "tweets.csv"
LABELS = ("negative", "neutral", "positive")

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def airline_records(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The valid, distinct, cleaned records of an airline file as ``tweetsent ingest`` keeps them,
    in file order; ``limit`` reads only the first rows."""
    from sentiment.usecases import prepare_labelled_file

    return prepare_labelled_file(path, LABELS, 1000, limit=limit).records


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def run_child(args: Sequence[str], timeout: float = 1800) -> dict[str, Any]:
    """Run ``python <args>`` in a fresh process; its last stdout line is a JSON object."""
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(list(gold), list(predicted), labels=list(LABELS), average="macro", zero_division=0))


def cpu_line() -> str:
    import os

    import torch

    return f"{len(os.sched_getaffinity(0))} usable cores, torch {torch.__version__}, load average {os.getloadavg()[0]:.2f} at the start"
