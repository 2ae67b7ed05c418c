"""Fine-tuning: AdamW, linear warm-up then decay, cross-entropy (optionally class-weighted),
per-epoch validation, the best epoch kept, seeded.

Batches are *length-grouped*: tweets are shuffled, cut into pools of 50 batches, each pool sorted
by token length and cut into batches, and the batch order shuffled again. Each batch is padded
only to its own longest tweet, so little compute goes to padding, while every epoch still sees
a different order. The forward pass runs under bf16 autocast with SDPA attention on CUDA and on
CPUs with native bf16 (AVX512-BF16 or AMX; figures in docs/benchmarks.md), see
``TrainConfig.precision``; on the CPU PyTorch gets one thread per usable core and AdamW its fused
kernel. A step never waits for its own numbers: loss and accuracy stay on the device and are
read once per progress report.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sentiment.model.classifier import SentimentClassifier, configure_cpu_threads, fold_logit_offsets, padded_batch
from sentiment.model.precision import pick_device, use_bf16
from sentiment.model.selection import epoch_rank

logger = logging.getLogger(__name__)

#: progress(samples_done, samples_total, samples_per_s, current_loss, epoch)
ProgressFn = Callable[[int, int, float, float, int], None]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 8e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    seed: int = 13
    device: str = "auto"
    log_every_s: float = 15.0  # seconds between progress reports
    max_steps: int | None = None  # stop early after this many optimizer steps (smoke tests, GPU checks)
    group_by_length: bool = True  # False: plain shuffled batches (for comparison)
    precision: str = "auto"  # bf16 autocast: auto (CUDA with bf16, or a CPU with native bf16), bf16 or fp32
    label_smoothing: float = 0.0  # cross-entropy label smoothing (0: none)

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate must be in (0, 1), got {self.learning_rate}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")


@dataclass
class TrainResult:
    history: list[dict[str, float]]
    best_epoch: int
    seconds: float
    train_samples_per_s: float
    device: str
    steps: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def length_grouped_batches(lengths: Sequence[int], batch_size: int, rng: random.Random, pool_batches: int = 50) -> list[list[int]]:
    """Shuffled batches of similar-length examples (see the module docstring)."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if pool_batches <= 0:  # no grouping: plain shuffled batches
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    pool = batch_size * pool_batches
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lengths.__getitem__)
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def train_step(model, input_ids, mask, targets, optimizer, scheduler, loss_fn, max_grad_norm: float, device, bf16: bool = False):
    """One optimizer step; returns (loss, correct predictions) as 0-d tensors on the device, so a
    GPU step is not stalled waiting for them (``float()`` them when they are reported).

    ``bf16``: the forward pass under bf16 autocast (weights, gradients and AdamW state stay fp32).
    """
    import torch

    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(input_ids=input_ids, attention_mask=mask).logits
    loss = loss_fn(logits.float(), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm, foreach=True)
    optimizer.step()
    scheduler.step()
    return loss.detach(), (logits.detach().argmax(dim=-1) == targets).sum()


def eval_step(model, input_ids, mask, targets, loss_fn, device, bf16: bool = False, offsets=None) -> tuple[float, np.ndarray]:
    """Summed loss and predicted class ids for one batch, without gradients. ``offsets`` (a tensor
    of logit offsets, see :func:`fine_tune`) shift the predictions, not the loss."""
    import torch

    model.eval()
    with torch.inference_mode():
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(input_ids=input_ids, attention_mask=mask).logits
        logits = logits.float()
        loss = loss_fn(logits, targets) * len(targets)
        if offsets is not None:
            logits = logits + offsets
    return float(loss), logits.argmax(dim=-1).cpu().numpy()


def _evaluate(model, ids, targets_all, batch_size, tokenizer, loss_fn, device, bf16: bool = False, offsets=None) -> tuple[float, float, float]:
    import torch
    from sklearn.metrics import f1_score

    lengths = [len(x) for x in ids]
    order = sorted(range(len(ids)), key=lengths.__getitem__)
    total, preds = 0.0, np.zeros(len(ids), dtype=np.int64)
    for start in range(0, len(order), batch_size * 2):
        index = order[start : start + batch_size * 2]
        input_ids, mask = padded_batch(tokenizer, ids, index)
        targets = torch.as_tensor([targets_all[i] for i in index], dtype=torch.long)
        loss, pred = eval_step(model, input_ids.to(device), mask.to(device), targets.to(device), loss_fn, device, bf16, offsets)
        total += loss
        preds[index] = pred
    truth = np.asarray(targets_all)
    return total / len(ids), float((preds == truth).mean()), float(f1_score(truth, preds, average="macro", zero_division=0))


def eta(samples_left: int, samples_per_s: float) -> str:
    """Time left at the current rate, as "1 h 02 min", "3 min 05 s" or "40 s"."""
    seconds = int(round(samples_left / samples_per_s)) if samples_per_s > 0 else 0
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def fine_tune(
    classifier: SentimentClassifier,
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    val_texts: Sequence[str],
    val_labels: Sequence[str],
    config: TrainConfig,
    class_weights: Sequence[float] | None = None,
    progress: ProgressFn | None = None,
    logit_offsets: Sequence[float] | None = None,
    epoch_subsets: Callable[[int], Sequence[int]] | None = None,
    epoch_end: Callable[[dict[str, float]], None] | None = None,
) -> TrainResult:
    """Fine-tune ``classifier`` in place; at the end it holds the weights of the best epoch
    (highest validation macro-F1, then lowest validation loss).

    ``logit_offsets`` (one per class, e.g. :func:`sentiment.data.rebalance.prior_offsets`): added to
    the logits when validation predicts (so the best epoch is chosen under the decision rule that
    ships) and, at the end, folded into the output layer's bias; the loss never sees them.

    ``epoch_subsets(epoch)`` (epochs count from 1): the indices of the training examples that
    epoch sees, e.g. a fresh undersampling draw per epoch (:attr:`Rebalanced.epoch_draws`);
    by default every epoch sees every example.

    ``epoch_end(stats)``: called with each epoch's row of the history (validation macro-F1 and
    loss included) once it is validated; what it raises ends training (a pruned tuning trial).
    """
    import torch
    from transformers import get_linear_schedule_with_warmup

    if not train_texts or not val_texts:
        raise ValueError(f"need training and validation tweets, got {len(train_texts)} and {len(val_texts)}")
    label_index = {label: i for i, label in enumerate(classifier.labels)}
    unknown = sorted({y for y in list(train_labels) + list(val_labels) if y not in label_index})
    if unknown:
        raise ValueError(f"labels {unknown} are not among the model's classes {list(classifier.labels)}")
    seed_everything(config.seed)
    device = pick_device(config.device)
    if device.type == "cpu":
        configure_cpu_threads()
    bf16 = use_bf16(config.precision, device.type)
    model = classifier.model.to(device)
    tokenizer = classifier.tokenizer
    # Tokenize once, unpadded: each batch is padded to its own longest row (padded_batch).
    enc = lambda texts: tokenizer(list(texts), truncation=True, max_length=classifier.config.max_length)["input_ids"]  # noqa: E731
    train_ids, val_ids = enc(train_texts), enc(val_texts)
    y_train = [label_index[y] for y in train_labels]
    y_val = [label_index[y] for y in val_labels]

    if logit_offsets is not None and len(logit_offsets) != len(classifier.labels):
        raise ValueError(f"need one logit offset per class {list(classifier.labels)}, got {list(logit_offsets)}")
    offsets = torch.tensor(list(logit_offsets), dtype=torch.float32, device=device) if logit_offsets is not None else None
    weight = torch.tensor(class_weights, dtype=torch.float32, device=device) if class_weights is not None else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=config.label_smoothing)
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)], "weight_decay": config.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    # The fused AdamW updates every parameter in one kernel per group (CPU and CUDA).
    optimizer = torch.optim.AdamW(groups, lr=config.learning_rate, fused=device.type in ("cpu", "cuda"))
    # Which training examples each epoch sees (all of them, unless a sampler says otherwise).
    subsets = [list(epoch_subsets(e)) if epoch_subsets is not None else list(range(len(train_ids))) for e in range(1, config.epochs + 1)]
    for epoch, subset in enumerate(subsets, 1):
        if not subset or min(subset) < 0 or max(subset) >= len(train_ids):
            raise ValueError(f"epoch {epoch}'s training subset must be non-empty indices below {len(train_ids)}, got {len(subset)} indices")
    total_steps = sum(math.ceil(len(s) / config.batch_size) for s in subsets)
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)

    rng = random.Random(config.seed)
    lengths = [len(x) for x in train_ids]
    history: list[dict[str, float]] = []
    best_key, best_state, best_epoch = None, None, 0
    started = time.perf_counter()
    samples_seen, steps = 0, 0
    total_samples = min(sum(len(s) for s in subsets), total_steps * config.batch_size)
    last_report = started
    for epoch in range(1, config.epochs + 1):
        epoch_start = time.perf_counter()
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        seen = 0
        pools = 50 if config.group_by_length else 0
        subset = subsets[epoch - 1]
        for batch in length_grouped_batches([lengths[i] for i in subset], config.batch_size, rng, pool_batches=pools):
            index = [subset[i] for i in batch]
            if config.max_steps is not None and steps >= config.max_steps:
                break
            input_ids, mask = padded_batch(tokenizer, train_ids, index)
            targets = torch.as_tensor([y_train[i] for i in index], dtype=torch.long)
            loss, right = train_step(
                model, input_ids.to(device), mask.to(device), targets.to(device), optimizer, scheduler, loss_fn, config.max_grad_norm, device, bf16
            )
            steps += 1
            loss_sum += loss * len(index)
            correct += right
            seen += len(index)
            samples_seen += len(index)
            now = time.perf_counter()
            if now - last_report >= config.log_every_s:
                rate = samples_seen / (now - started)
                # The epoch's running mean, like the end-of-epoch figure: one batch's loss jumps about.
                mean_loss = float(loss_sum) / seen
                logger.info(
                    "epoch %d: %d/%d samples, %.1f samples/s, mean loss %.4f this epoch, %s left",
                    epoch, samples_seen, total_samples, rate, mean_loss, eta(total_samples - samples_seen, rate),
                    # for progress bars (flows/cli/progress.py): the numbers, not the words
                    extra={"progress": {"epoch": epoch, "done": samples_seen, "total": total_samples, "rate": rate, "mean_loss": mean_loss}},
                )
                if progress is not None:
                    progress(samples_seen, total_samples, rate, mean_loss, epoch)
                last_report = now
        if seen == 0:
            break
        loss_sum, correct = float(loss_sum), int(correct)
        train_seconds = time.perf_counter() - epoch_start
        val_loss, val_acc, val_f1 = _evaluate(model, val_ids, y_val, config.batch_size, tokenizer, loss_fn, device, bf16, offsets)
        stats = {
            "epoch": epoch,
            "train_loss": loss_sum / seen,
            "train_accuracy": correct / seen,
            "val_loss": val_loss,
            "val_accuracy": val_acc,
            "val_macro_f1": val_f1,
            "train_samples_per_s": seen / train_seconds,
            "seconds": time.perf_counter() - epoch_start,
        }
        history.append(stats)
        logger.info(
            "epoch %d done: train loss %.4f acc %.3f | val loss %.4f acc %.3f macro-F1 %.3f | %.1f samples/s",
            epoch, stats["train_loss"], stats["train_accuracy"], val_loss, val_acc, val_f1, stats["train_samples_per_s"],
        )
        # The rule the reports mark the best epoch by, too; on a full tie the earlier epoch stays.
        key = epoch_rank(stats)
        if best_key is None or key > best_key:
            best_key, best_epoch = key, epoch
            # Keep the best weights on the CPU: a GPU copy would double the memory held.
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        if progress is not None:
            progress(samples_seen, total_samples, samples_seen / (time.perf_counter() - started), stats["train_loss"], epoch)
        if epoch_end is not None:
            epoch_end(stats)
    if best_state is not None:
        model.load_state_dict(best_state)
    if logit_offsets is not None:
        fold_logit_offsets(model, logit_offsets)
    model.eval()
    seconds = time.perf_counter() - started
    return TrainResult(
        history=history,
        best_epoch=best_epoch,
        seconds=seconds,
        train_samples_per_s=samples_seen / max(sum(h["seconds"] for h in history), 1e-9),
        device=device.type,
        steps=steps,
        extra={"precision": "bf16 autocast" if bf16 else "fp32", "logit_offsets": list(logit_offsets) if logit_offsets is not None else None},
    )
