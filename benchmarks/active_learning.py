"""Does picking tweets to label by the model's uncertainty beat picking them at random?

    .venv/bin/python benchmarks/active_learning.py [--airline PATH] [--start 500] [--rounds 5] [--round-size 300]
        [--candidates 4000] [--epochs 3] [--plot docs/experiments/2026-12-04-active-learning.png]

On the airline tweets (three classes) a stratified 15% is the frozen test set; the rest is the
pool, its labels hidden. Every strategy starts from the same 500 random labelled pool tweets and
adds ``--round-size`` labels per round, chosen by ``uncertainty`` (smallest margin), ``diverse``
(uncertainty, then farthest-first over the encoder's embeddings) or ``random``, with the same
functions ``tweetsent label export`` uses (:mod:`sentiment.annotation.selection`). Each round
fine-tunes a fresh model from the packaged all-MiniLM-L6-v2 as ``tweetsent train`` does (default
settings: sqrt class weights, prior correction, 10% validation for the best epoch, seed 13) and
measures macro-F1 on the test set. To keep the run under an hour on 2 cores, each round scores a
seeded sample of ``--candidates`` unlabelled pool tweets (the tool scores every tweet nightly).

Weak labels (:mod:`sentiment.annotation.weak`, the Sentiment140 emoticon rule) are measured too:
the start set and the random strategy's last set, each with and without the weak labels of the
pool tweets (weight 1: all of them). Prints a table, the labels each strategy needs to reach the
random strategy's final macro-F1, and one JSON line; writes the learning-curve plot.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import DEFAULT_AIRLINE, LABELS, airline_records, cpu_line, macro_f1, print_table  # noqa: E402

from sentiment.annotation import selection  # noqa: E402
from sentiment.annotation.weak import weak_label  # noqa: E402
from sentiment.data.rebalance import prior_offsets, rebalance  # noqa: E402
from sentiment.data.sampling import stratified_split  # noqa: E402
from sentiment.model.classifier import ModelConfig, SentimentClassifier, choose_max_length, configure_cpu_threads  # noqa: E402
from sentiment.model.training import TrainConfig, fine_tune, seed_everything  # noqa: E402
from sentiment.settings import PACKAGED_MODEL, Settings  # noqa: E402

SEED = 13


def train(rows: list[dict], settings: Settings) -> SentimentClassifier:
    """A fresh model fine-tuned on ``rows`` the way ``train_candidate`` does it."""
    seed_everything(SEED)
    train_rows, val_rows = stratified_split(rows, settings.val_fraction, SEED)
    data = rebalance(train_rows, LABELS, settings.rebalance, SEED, settings.epochs, settings.resample_each_epoch)
    pool = data.source if data.epoch_draws else data.rows
    classifier = SentimentClassifier.from_checkpoint(PACKAGED_MODEL, LABELS, max_length=settings.max_length_cap)
    texts = [r["clean_text"] for r in pool]
    classifier.config = ModelConfig(PACKAGED_MODEL, LABELS, choose_max_length(classifier.token_lengths(texts), settings.max_length_cap))
    config = TrainConfig(epochs=settings.epochs, batch_size=settings.batch_size, learning_rate=settings.learning_rate, seed=SEED, device="cpu", log_every_s=1e9)
    offsets = prior_offsets(data, LABELS) if settings.prior_correction else None
    fine_tune(
        classifier, texts, [r["label"] for r in pool], [r["clean_text"] for r in val_rows], [r["label"] for r in val_rows], config,
        class_weights=data.class_weights, epoch_subsets=(lambda e: data.epoch_draws[e - 1]) if data.epoch_draws else None, logit_offsets=offsets,
    )
    return classifier


def f1_on(classifier: SentimentClassifier, test: list[dict]) -> float:
    return round(macro_f1([r["label"] for r in test], classifier.predict([r["clean_text"] for r in test])), 4)


def pick(strategy: str, classifier: SentimentClassifier, unlabelled: list[dict], n: int, candidates: int, rng: random.Random) -> list[dict]:
    if strategy == "random":
        return rng.sample(unlabelled, n)
    sample = rng.sample(unlabelled, min(candidates, len(unlabelled)))
    probs = classifier.predict_proba([r["clean_text"] for r in sample])
    order = selection.most_uncertain(probs, n * (selection.DIVERSE_POOL if strategy == "diverse" else 1))
    chosen = [sample[i] for i in order]
    if strategy == "diverse":
        embeddings = selection.embed(classifier, [r["clean_text"] for r in chosen])
        chosen = [chosen[i] for i in selection.farthest_first(embeddings, n)]
    return chosen[:n]


def first_reaching(curve: list[tuple[int, float]], target: float) -> int | None:
    return next((n for n, f1 in curve if f1 >= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--airline", type=Path, default=DEFAULT_AIRLINE)
    parser.add_argument("--start", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--round-size", type=int, default=300)
    parser.add_argument("--candidates", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--strategies", default="uncertainty,diverse,random")
    parser.add_argument("--plot", type=Path, default=Path("docs/experiments/2026-12-04-active-learning.png"))
    args = parser.parse_args()
    if not args.airline.is_file():
        sys.exit(f"no airline file at {args.airline} (../shared/data/airline/tweets.csv beside the checkout)")
    configure_cpu_threads(0)
    settings = Settings(epochs=args.epochs)
    started = time.monotonic()
    print(cpu_line())
    rows = [{**r, "tweet_id": r["id"]} for r in airline_records(args.airline) if r["label"] in LABELS]
    pool, test = stratified_split(rows, settings.test_fraction, SEED)
    rng = random.Random(SEED)
    start = rng.sample(pool, args.start)
    print(f"{len(rows)} airline tweets: {len(test)} frozen test, {len(pool)} pool; start {len(start)} random, {args.rounds} rounds of {args.round_size}")

    base = train(start, settings)
    base_f1 = f1_on(base, test)
    curves: dict[str, list[tuple[int, float]]] = {}
    table = []
    for strategy in args.strategies.split(","):
        labelled, model, curve = list(start), base, [(len(start), base_f1)]
        chosen_ids = {r["tweet_id"] for r in labelled}
        picker = random.Random(SEED + 1)
        for round_no in range(1, args.rounds + 1):
            unlabelled = [r for r in pool if r["tweet_id"] not in chosen_ids]
            new = pick(strategy, model, unlabelled, args.round_size, args.candidates, picker)
            labelled += new
            chosen_ids |= {r["tweet_id"] for r in new}
            model = train(labelled, settings)
            curve.append((len(labelled), f1_on(model, test)))
            mix = {lab: sum(r["label"] == lab for r in labelled) for lab in LABELS}
            print(f"  {strategy:<11} round {round_no}: {len(labelled):>5} labels, macro-F1 {curve[-1][1]:.4f}, labelled mix {mix} ({time.monotonic() - started:.0f} s)", flush=True)
        curves[strategy] = curve
        if strategy == "random":
            random_final = labelled
    target = curves["random"][-1][1] if "random" in curves else None
    for strategy, curve in curves.items():
        table.append({"strategy": strategy, **{f"{n}": f"{f1:.4f}" for n, f1 in curve}, "labels to reach random's final": first_reaching(curve, target) if target else ""})

    weak_rows = [{**r, "label": w, "origin": "weak"} for r in pool if (w := weak_label(r["text"])) is not None]
    gold_of = {r["tweet_id"]: r["label"] for r in pool}
    weak_precision = round(sum(gold_of[r["tweet_id"]] == r["label"] for r in weak_rows) / max(len(weak_rows), 1), 4)
    weak_table = []
    for name, base_rows in (("start", start), ("random final", random_final if "random" in curves else start)):
        ids = {r["tweet_id"] for r in base_rows}
        extra = [r for r in weak_rows if r["tweet_id"] not in ids]
        without = dict(curves.get("random", []))[len(base_rows)] if name != "start" else base_f1
        with_weak = f1_on(train(base_rows + extra, settings), test)
        weak_table.append({"labelled set": name, "gold labels": len(base_rows), "weak labels added": len(extra), "macro-F1 without": without, "macro-F1 with weak": with_weak})
    print()
    print_table(table, ["strategy", *[str(n) for n, _ in curves[next(iter(curves))]], "labels to reach random's final"])
    print(f"\nweak labels: {len(weak_rows)} pool tweets with an unambiguous emoticon or emoji; {weak_precision:.1%} agree with the gold label")
    print_table(weak_table, list(weak_table[0]))
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for strategy, curve in curves.items():
        ax.plot([n for n, _ in curve], [f for _, f in curve], marker="o", label=strategy)
    ax.set_xlabel("labelled tweets")
    ax.set_ylabel("macro-F1 on the frozen test set")
    ax.set_title(f"Airline tweets: labels picked by strategy (test n={len(test)}, seed {SEED})")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    print(f"\nplot: {args.plot}  ({time.monotonic() - started:.0f} s in all)")
    print(json.dumps({"curves": curves, "target_random_final": target, "weak": weak_table, "weak_precision": weak_precision, "weak_count": len(weak_rows),
                      "seconds": round(time.monotonic() - started), "test": len(test), "pool": len(pool)}))


if __name__ == "__main__":
    main()
