"""What an Optuna study gains over the default hyperparameters on the airline split, and what it costs.

    .venv/bin/python benchmarks/tune.py [--airline PATH] [--trials 20] [--max-train-tweets 0] [--max-epochs 4]

The airline tweets go into a fresh SQLite database in a temporary home; the split is tweetsent's
(frozen test set, validation drawn from the rest). The study runs through the same use-case
functions as the ``tune`` flow: trial 0 is the default settings (the baseline), the others are
proposed by TPE and pruned by the median rule; every trial trains on the training split (at most
``--max-train-tweets``, a seeded stratified sample; 0: all) and is scored on the validation split.
Then the defaults and the best trial's parameters each train one model on the same training tweets,
evaluated once on the frozen test set. ``--max-epochs`` caps the epochs searched (and the
baseline's epochs, when the default is above it). Prints a table and, last, a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import DEFAULT_AIRLINE, LABELS, airline_records, cpu_line, print_table  # noqa: E402


def store_airline(settings, path: Path) -> int:
    from sentiment.data import ingest as lib
    from sentiment.data.records import SourceBatch
    from sentiment.data.validation import validate_records
    from sentiment.store import open_db

    records = airline_records(path)
    batch = SourceBatch(source="airline", origin="benchmark", fingerprint="tune-benchmark", format="airline_csv", records=records)
    lib.store_batch(open_db(settings), lib.clean_batch(lib.dedupe_batch(batch, validate_records(records, LABELS, 1000))))
    return len(records)


def test_macro_f1(settings, logger) -> tuple[float, float]:
    """Train one model with ``settings`` on the trials' training tweets; its test macro-F1, minutes."""
    from sentiment import usecases
    from sentiment.usecases.tuning import trial_split

    started = time.perf_counter()
    split = usecases.split_for_training(settings, logger)  # the first evaluation freezes the test set: split again after it
    seen = trial_split(split, settings)
    data = usecases.rebalance_training_set(seen, settings, logger)
    candidate = usecases.train_candidate(seen, data, settings, logger=logger)
    metrics = usecases.evaluate_candidate(settings, candidate.version_id, split, logger).metrics
    return metrics.macro_f1, (time.perf_counter() - started) / 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--airline", type=Path, default=DEFAULT_AIRLINE)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--max-train-tweets", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=4)
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logger = logging.getLogger("benchmark")
    home = Path(tempfile.mkdtemp(prefix="tweetsent-tune-bench-"))
    os.environ.update(TWEETSENT_HOME=str(home), TWEETSENT_DB_URL=f"sqlite:///{home / 'tweetsent.db'}", TWEETSENT_QUALITY_GATES="false")
    from sentiment import usecases
    from sentiment.settings import Settings
    from sentiment.usecases import tuning

    base = Settings()
    settings = Settings(
        tune_study="benchmark", tune_trials=args.trials, tune_max_train_tweets=args.max_train_tweets,
        tune_epochs=(min(base.tune_epochs[0], args.max_epochs), args.max_epochs), epochs=min(base.epochs, args.max_epochs),
    )
    stored = store_airline(settings, args.airline)
    split = usecases.split_for_training(settings, logger)
    started = time.perf_counter()
    tuning.open_study(settings, logger)
    while (proposal := tuning.ask_trial(settings, logger)) is not None:
        tuning.run_trial(settings, proposal.number, split, logger)
    study_minutes = (time.perf_counter() - started) / 60
    summary = tuning.study_summary(settings)
    trials = summary["trials"]
    default = next(t for t in trials if t["trial"] == 0)
    best = summary["best"]
    default_test, default_minutes = test_macro_f1(settings, logger)
    best_test, best_minutes = test_macro_f1(Settings(**{**settings.model_dump(), **best["params"]}), logger)
    rows = [
        {"hyperparameters": "defaults (trial 0)", "val_macro_f1": f"{default['val_macro_f1']:.4f}", "test_macro_f1": f"{default_test:.4f}", "train_minutes": f"{default_minutes:.1f}"},
        {"hyperparameters": f"best (trial {best['trial']})", "val_macro_f1": f"{best['val_macro_f1']:.4f}", "test_macro_f1": f"{best_test:.4f}", "train_minutes": f"{best_minutes:.1f}"},
    ]
    print(cpu_line())
    print(f"{stored} airline tweets; {len(split.train)} train (trials use {len(tuning.trial_split(split, settings).train)}), {len(split.val)} validation, {len(split.test)} frozen test")
    print(f"study: {len(trials)} trials ({summary['counts']}) in {study_minutes:.1f} min; best: {best['params']}")
    print_table(rows, ["hyperparameters", "val_macro_f1", "test_macro_f1", "train_minutes"])
    print(json.dumps({
        "trials": args.trials, "max_train_tweets": args.max_train_tweets, "max_epochs": args.max_epochs, "study_minutes": round(study_minutes, 2),
        "counts": summary["counts"], "defaults": {"val": default["val_macro_f1"], "test": default_test, "params": {k: default[k] for k in best["params"]}},
        "best": {"val": best["val_macro_f1"], "test": best_test, "trial": best["trial"], "params": best["params"]},
    }))


if __name__ == "__main__":
    main()
