"""Fine-tuning throughput: tweetsent's trainer vs the Hugging Face ``Trainer``, same model, data,
hyperparameters and epochs.

    .venv/bin/python benchmarks/training.py [--airline PATH] [--train-size 6000] [--epochs 1] [--seeds 3]

Both start from the packaged all-MiniLM-L6-v2 with a fresh 3-class head (same seed), train on the
same real airline tweets (``--train-size`` of the file's training part, a stratified 15% is held
out as the test set), batch 32, max length 64, AdamW at 8e-5 with 10% linear warm-up then linear
decay, weight decay 0.01, gradient clipping at 1.0, plain cross-entropy, on the same cores:

- ``hf_trainer``: ``transformers.Trainer`` with its defaults otherwise (``DataCollatorWithPadding``:
  each batch padded to its longest tweet, random order; no evaluation during training);
- ``hf_trainer_bf16``: the same with ``bf16=True`` (bf16 autocast, also on the CPU), so the
  comparison shows what is tweetsent's own and what any bf16 user gets;
- ``tweetsent``: ``sentiment.model.training.fine_tune`` (length-grouped batches, fused AdamW, no per-step
  host syncs, bf16 autocast where the device has native bf16: ``TWEETSENT_PRECISION``);
- ``tweetsent_plain``: the same loop with plain shuffled batches (what grouping buys).

Throughput is training samples over training time only (tweetsent's per-epoch validation on 200
tweets is not counted); quality is macro-F1 on the held-out test tweets, predicted the same way
for every model. One short run's macro-F1 moves by a point or two with the seed alone (head
initialisation and batch order), so every contender trains once per seed (``--seeds N``: seeds
13, 14, ...; the data split stays fixed) and the table shows the mean macro-F1 with its range and
the rate over all runs. Each run is its own process. Prints a table and the ratios, then one JSON
line with the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import DEFAULT_AIRLINE, LABELS, airline_records, cpu_line, macro_f1, peak_rss_mb, print_table, run_child  # noqa: E402

CONTENDERS = ("hf_trainer", "hf_trainer_bf16", "tweetsent", "tweetsent_plain")
DEFAULT_CONTENDERS = ("hf_trainer", "hf_trainer_bf16", "tweetsent")
HYPER = {"batch_size": 32, "max_length": 64, "learning_rate": 8e-5, "warmup_ratio": 0.1, "weight_decay": 0.01, "max_grad_norm": 1.0, "seed": 13}
VAL_SIZE = 200


def split_data(path: Path, train_size: int) -> dict[str, list[str]]:
    from sentiment.data.sampling import stratified_split

    records = [{**r, "tweet_id": r["id"]} for r in airline_records(path)]
    rest, test = stratified_split(records, 0.15, HYPER["seed"])
    random.Random(HYPER["seed"]).shuffle(rest)
    train, val = rest[:train_size], rest[train_size : train_size + VAL_SIZE]
    pick = lambda rows, key: [r[key] for r in rows]  # noqa: E731
    return {
        "train_texts": pick(train, "clean_text"), "train_labels": pick(train, "label"),
        "val_texts": pick(val, "clean_text"), "val_labels": pick(val, "label"),
        "test_texts": pick(test, "clean_text"), "test_labels": pick(test, "label"),
    }


def train_hf(data: dict, epochs: int, workdir: Path, seed: int, bf16: bool = False):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments, set_seed

    from sentiment.model.classifier import resolve_checkpoint
    from sentiment.settings import PACKAGED_MODEL

    set_seed(seed)
    source = resolve_checkpoint(PACKAGED_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={label: i for i, label in enumerate(LABELS)}
    )
    index = {label: i for i, label in enumerate(LABELS)}
    encoded = tokenizer(data["train_texts"], truncation=True, max_length=HYPER["max_length"])
    dataset = [{"input_ids": ids, "attention_mask": mask, "labels": index[y]} for ids, mask, y in zip(encoded["input_ids"], encoded["attention_mask"], data["train_labels"])]
    steps = epochs * -(-len(dataset) // HYPER["batch_size"])
    args = TrainingArguments(
        output_dir=str(workdir / "hf"),
        per_device_train_batch_size=HYPER["batch_size"],
        num_train_epochs=epochs,
        learning_rate=HYPER["learning_rate"],
        weight_decay=HYPER["weight_decay"],
        warmup_steps=int(HYPER["warmup_ratio"] * steps),
        lr_scheduler_type="linear",
        max_grad_norm=HYPER["max_grad_norm"],
        seed=seed,
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        disable_tqdm=True,
        bf16=bf16,
    )
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=DataCollatorWithPadding(tokenizer))
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    model.eval()
    return model, tokenizer, seconds, f"Trainer defaults{', bf16=True' if bf16 else ''}, {torch.get_num_threads()} threads"


def train_tweetsent(data: dict, epochs: int, grouped: bool, seed: int):
    import torch

    from sentiment.model.classifier import SentimentClassifier
    from sentiment.model.training import TrainConfig, fine_tune, seed_everything
    from sentiment.settings import PACKAGED_MODEL, Settings

    seed_everything(seed)  # the new head too, as the Trainer's set_seed does
    classifier = SentimentClassifier.from_checkpoint(PACKAGED_MODEL, LABELS, max_length=HYPER["max_length"])
    config = TrainConfig(
        epochs=epochs, batch_size=HYPER["batch_size"], learning_rate=HYPER["learning_rate"], weight_decay=HYPER["weight_decay"],
        warmup_ratio=HYPER["warmup_ratio"], max_grad_norm=HYPER["max_grad_norm"], seed=seed, device="auto", group_by_length=grouped,
        precision=Settings().precision,
    )
    result = fine_tune(classifier, data["train_texts"], data["train_labels"], data["val_texts"], data["val_labels"], config)
    seconds = sum(len(data["train_texts"]) / h["train_samples_per_s"] for h in result.history)  # training only, validation excluded
    detail = f"{'length-grouped' if grouped else 'shuffled'} batches, {result.extra['precision']}, {torch.get_num_threads()} threads"
    return classifier.model, classifier.tokenizer, seconds, detail


def run_contender(name: str, data_path: Path, epochs: int, seed: int) -> dict:
    """Runs in a child process: trains one contender, returns its rate and test macro-F1."""
    import tempfile

    from sentiment.model.classifier import ModelConfig, SentimentClassifier
    from sentiment.settings import PACKAGED_MODEL

    data = json.loads(Path(data_path).read_text())
    if name.startswith("hf_trainer"):
        model, tokenizer, seconds, detail = train_hf(data, epochs, Path(tempfile.mkdtemp(prefix="tweetsent-hf-")), seed, bf16=name == "hf_trainer_bf16")
    else:
        model, tokenizer, seconds, detail = train_tweetsent(data, epochs, grouped=name == "tweetsent", seed=seed)
    # Same prediction code for every model: only the training differs.
    judge = SentimentClassifier(model.to("cpu").eval(), tokenizer, ModelConfig(PACKAGED_MODEL, LABELS, HYPER["max_length"]))
    f1 = macro_f1(data["test_labels"], judge.predict(data["test_texts"]))
    samples = epochs * len(data["train_texts"])
    return {
        "name": name, "seed": seed, "samples": samples, "seconds": seconds, "tweets_per_s": samples / seconds, "macro_f1": f1, "peak_rss_mb": peak_rss_mb(),
        "detail": detail,
    }


def combine(runs: list[dict]) -> dict:
    """One contender over its seeds: rate over all runs, mean macro-F1 and its range."""
    f1s = [r["macro_f1"] for r in runs]
    samples, seconds = sum(r["samples"] for r in runs), sum(r["seconds"] for r in runs)
    return {
        "detail": runs[0]["detail"], "runs": len(runs), "samples": samples, "seconds": seconds, "tweets_per_s": samples / seconds,
        "macro_f1": sum(f1s) / len(f1s), "macro_f1_min": min(f1s), "macro_f1_max": max(f1s), "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
    }


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--airline", type=Path, default=DEFAULT_AIRLINE)
    parser.add_argument("--train-size", type=int, default=6000, help="Training tweets (the rest of the training part is unused).")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=3, help="Training runs per contender (seeds 13, 14, ...).")
    parser.add_argument("--seed", type=int, default=HYPER["seed"], help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, default=list(DEFAULT_CONTENDERS))
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:  # child process
        print(json.dumps(run_contender(args.contender, Path(args.data), args.epochs, args.seed)))
        return

    print(f"machine: {cpu_line()}")
    data = split_data(args.airline, args.train_size)
    data_path = Path(tempfile.mkdtemp(prefix="tweetsent-train-bench-")) / "data.json"
    data_path.write_text(json.dumps(data))
    seeds = [HYPER["seed"] + i for i in range(args.seeds)]
    print(f"{len(data['train_texts'])} training tweets x {args.epochs} epoch(s), {len(data['test_texts'])} test tweets; seeds {seeds}; {HYPER}")
    results, per_seed = {}, {}
    for name in args.only:
        runs = []
        for seed in seeds:
            r = run_child([__file__, "--contender", name, "--data", str(data_path), "--epochs", str(args.epochs), "--seed", str(seed)])
            runs.append(r)
            print(f"  {name} seed {seed}: {r['tweets_per_s']:.1f} tweets/s ({r['seconds']:.0f} s), test macro-F1 {r['macro_f1']:.4f}", flush=True)
        results[name], per_seed[name] = combine(runs), [round(r["macro_f1"], 4) for r in runs]

    base = results.get("hf_trainer")
    rows = []
    for name, r in results.items():
        row = {"contender": name, "detail": r["detail"], "tweets/s": f"{r['tweets_per_s']:.1f}", "train s": f"{r['seconds']:.0f}", "test macro-F1 (mean)": f"{r['macro_f1']:.4f}", "range": f"{r['macro_f1_min']:.4f}-{r['macro_f1_max']:.4f}", "peak RSS MB": f"{r['peak_rss_mb']:.0f}"}
        if base:
            row["x Trainer"] = f"{r['tweets_per_s'] / base['tweets_per_s']:.2f}"
            row["F1 vs Trainer (points)"] = f"{100 * (r['macro_f1'] - base['macro_f1']):+.2f}"
        rows.append(row)
    print()
    print_table(rows, list(rows[0]))
    summary = {f"{name}_per_s": round(r["tweets_per_s"], 1) for name, r in results.items()}
    summary.update({f"{name}_macro_f1": round(r["macro_f1"], 4) for name, r in results.items()})
    if base and "tweetsent" in results:
        summary["ratio_vs_trainer"] = round(results["tweetsent"]["tweets_per_s"] / base["tweets_per_s"], 2)
        summary["macro_f1_delta"] = round(results["tweetsent"]["macro_f1"] - base["macro_f1"], 4)
    if "hf_trainer_bf16" in results and "tweetsent" in results:
        summary["ratio_vs_trainer_bf16"] = round(results["tweetsent"]["tweets_per_s"] / results["hf_trainer_bf16"]["tweets_per_s"], 2)
    summary.update({f"{name}_macro_f1_per_seed": f1s for name, f1s in per_seed.items()})
    summary.update(train_tweets=len(data["train_texts"]), epochs=args.epochs, seeds=seeds)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
