"""GPU check: fine-tune for a fixed number of steps and score a batch of tweets on one device.

    python benchmarks/gpu_check.py --device cuda [--train-steps 300] [--score 20000] [--airline PATH]
    python benchmarks/gpu_check.py --device cpu --train-steps 5 --score 500      # the same code path, on the CPU

Training: the packaged all-MiniLM-L6-v2 with a 3-class head, real airline tweets, batch 32, max
length 64, ``sentiment.model.training.fine_tune`` (bf16 autocast and SDPA attention on CUDA). Scoring:
``SentimentClassifier.predict_proba`` on ``--score`` tweets (the airline tweets repeated as
needed). Prints tweets/s for both, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import cycle, islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import DEFAULT_AIRLINE, LABELS, airline_records, macro_f1  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--airline", type=Path, default=DEFAULT_AIRLINE)
    parser.add_argument("--train-steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--score", type=int, default=20_000, help="Tweets to score.")
    parser.add_argument("--score-batch-size", type=int, default=256)
    args = parser.parse_args()

    import torch

    from sentiment.model.classifier import SentimentClassifier
    from sentiment.model.precision import use_bf16
    from sentiment.model.training import TrainConfig, fine_tune
    from sentiment.settings import PACKAGED_MODEL

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit(f"no CUDA device visible to PyTorch (torch {torch.__version__}, CUDA build {torch.version.cuda})")
    name = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    print(f"device: {name}; torch {torch.__version__} (CUDA {torch.version.cuda}); bf16 {args.device == 'cuda' and torch.cuda.is_bf16_supported()}")

    records = airline_records(args.airline)
    texts, labels = [r["clean_text"] for r in records], [r["label"] for r in records]
    held = 512
    train_texts, train_labels, val_texts, val_labels = texts[held:], labels[held:], texts[:held], labels[:held]

    classifier = SentimentClassifier.from_checkpoint(PACKAGED_MODEL, LABELS, max_length=64)
    attention = classifier.model.config._attn_implementation
    config = TrainConfig(epochs=100, batch_size=args.batch_size, learning_rate=8e-5, max_steps=args.train_steps, device=args.device, log_every_s=30)
    warm = TrainConfig(epochs=1, batch_size=args.batch_size, learning_rate=8e-5, max_steps=3, device=args.device, log_every_s=30)
    fine_tune(SentimentClassifier.from_checkpoint(PACKAGED_MODEL, LABELS, max_length=64), train_texts[:512], train_labels[:512], val_texts[:64], val_labels[:64], warm)  # CUDA context, kernels
    result = fine_tune(classifier, train_texts, train_labels, val_texts, val_labels, config)
    # Training time only (per-epoch validation excluded); the default steps fit in one epoch.
    train_rate = result.history[0]["train_samples_per_s"] if len(result.history) == 1 else result.train_samples_per_s
    train_seconds = result.steps * args.batch_size / train_rate
    f1 = macro_f1(val_labels, classifier.predict(val_texts, batch_size=args.score_batch_size))

    # Score as `tweetsent score` would: bf16 autocast on a CUDA device with bf16 (TWEETSENT_PRECISION=auto).
    classifier.precision = "bf16" if use_bf16("auto", args.device) else "fp32"
    to_score = list(islice(cycle(texts), args.score))
    classifier.predict_proba(to_score[: args.score_batch_size * 2], batch_size=args.score_batch_size)  # warm-up
    if args.device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    classifier.predict_proba(to_score, batch_size=args.score_batch_size)
    if args.device == "cuda":
        torch.cuda.synchronize()
    score_seconds = time.perf_counter() - started
    score_rate = len(to_score) / score_seconds
    peak_gpu = torch.cuda.max_memory_allocated() / 2**20 if args.device == "cuda" else 0.0

    print(f"attention: {attention}; fine-tuning: {result.steps} steps of {args.batch_size} in {train_seconds:.1f} s -> {train_rate:.1f} tweets/s (validation macro-F1 {f1:.3f})")
    print(f"scoring: {len(to_score):,} tweets in {score_seconds:.1f} s -> {score_rate:.1f} tweets/s (batch {args.score_batch_size})")
    print(json.dumps({
        "device": name, "attention": attention, "train_steps": result.steps, "train_per_s": round(train_rate, 1), "val_macro_f1": round(f1, 4),
        "scored": len(to_score), "score_per_s": round(score_rate, 1), "peak_gpu_mb": round(peak_gpu),
    }))


if __name__ == "__main__":
    main()
