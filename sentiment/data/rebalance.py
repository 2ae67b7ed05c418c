"""Rebalancing labelled tweets before training (seeded, recorded with the model version).

- ``undersample``: every class cut to the size of the smallest (as the original study did).
- ``oversample``: every class repeated (sampled with replacement) up to the size of the largest.

  Both are random draws. With ``epochs`` > 1 and ``resample_each_epoch`` (the default), every
  epoch trains on its own draw (:attr:`Rebalanced.epoch_draws`): each epoch is still exactly
  balanced, but undersampling no longer throws the same majority-class tweets away for the whole
  run, so over three epochs the model sees about three times as many of them (on binary airline
  tweets: +0.75 point of test accuracy and +1.1 points of macro-F1, mean of three seeds, better
  for every seed; see the README). ``rows`` is the first epoch's draw either way.
- ``class-weights``: all data, and the loss weights each class by inverse frequency.
- ``sqrt-class-weights``: all data, each class weighted by the square root of its inverse
  frequency: half-way between plain cross-entropy (which favours the majority class, good for
  accuracy) and full class weights (which favour the small classes, good for their recall).

Every strategy trains the model on a class mix other than the real one: undersampling,
oversampling and full class weights all make it *uniform*. A classifier trained that way learns
scores proportional to ``trained_prior(c) * p(x | c)``, so its argmax over-predicts the small
classes and its probabilities are inflated for them. :func:`prior_offsets` gives the logit
offsets ``ln(natural_prior(c) / trained_prior(c))`` that move it back to the class mix of the
labelled tweets (logit adjustment): the model keeps what balanced training taught its encoder,
and its decisions and probabilities match the real class mix again. Training adds them to the
classifier's output bias (see ``sentiment.model.training.fine_tune``), so a saved model needs nothing
extra at prediction time.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sentiment.settings import Rebalance, choices

STRATEGIES = choices(Rebalance)


@dataclass
class Rebalanced:
    rows: list[dict[str, Any]]
    class_weights: list[float] | None  # in label order, for the loss; None = unweighted
    before: dict[str, int]
    after: dict[str, int]
    strategy: str
    #: with one draw per epoch: the rows drawn from, and each epoch's draw as indices into them
    source: list[dict[str, Any]] | None = None
    epoch_draws: list[list[int]] | None = None

    @property
    def distinct_tweets(self) -> int:
        """How many different training tweets the run sees over all its epochs."""
        if self.epoch_draws is None or self.source is None:
            return len({id(r) for r in self.rows})
        return len({i for draw in self.epoch_draws for i in draw})


def class_weights(rows: Sequence[dict[str, Any]], labels: Sequence[str]) -> list[float]:
    """n / (k * n_c): balanced weights that average 1 over the data (sklearn's 'balanced')."""
    counts = Counter(r["label"] for r in rows)
    n, k = len(rows), len(labels)
    return [n / (k * counts[label]) if counts[label] else 0.0 for label in labels]


def draw(by_label: dict[str, list[int]], strategy: str, rng: random.Random) -> list[int]:
    """One balanced, shuffled draw (indices) of ``undersample`` or ``oversample``."""
    if strategy == "undersample":
        size = min(len(group) for group in by_label.values())
        out = [i for group in by_label.values() for i in rng.sample(group, size)]
    else:
        size = max(len(group) for group in by_label.values())
        out = []
        for group in by_label.values():
            out += group + [rng.choice(group) for _ in range(size - len(group))]
    rng.shuffle(out)
    return out


def rebalance(
    rows: Sequence[dict[str, Any]], labels: Sequence[str], strategy: str, seed: int, epochs: int = 1, resample_each_epoch: bool = True
) -> Rebalanced:
    """Return a new list (the input is not touched); raises ValueError on an unknown strategy or a missing class.

    ``epochs`` > 1 with ``resample_each_epoch``: ``undersample`` and ``oversample`` draw anew for
    every epoch (epoch 1's draw is the single draw, epoch ``e``'s is seeded by ``seed`` and ``e``).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown rebalancing strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    by_label: dict[str, list[int]] = {label: [] for label in labels}
    for i, row in enumerate(rows):
        if row["label"] not in by_label:
            raise ValueError(f"label {row['label']!r} of tweet {row.get('tweet_id')} is not one of {', '.join(labels)}")
        by_label[row["label"]].append(i)
    before = {label: len(group) for label, group in by_label.items()}
    missing = [label for label, n in before.items() if n == 0]
    if missing:
        raise ValueError(f"no labelled tweets of class {', '.join(missing)}: cannot train a {len(labels)}-class model")
    weights, draws = None, None
    if strategy in ("class-weights", "sqrt-class-weights"):
        out = list(rows)
        random.Random(seed).shuffle(out)
        weights = class_weights(out, labels)
        if strategy == "sqrt-class-weights":
            weights = [w**0.5 for w in weights]
    else:
        first = draw(by_label, strategy, random.Random(seed))
        out = [rows[i] for i in first]
        if epochs > 1 and resample_each_epoch:
            draws = [first] + [draw(by_label, strategy, random.Random(seed * 1_000_003 + e)) for e in range(2, epochs + 1)]
    after = dict(Counter(r["label"] for r in out))
    return Rebalanced(
        rows=out, class_weights=weights, before=before, after={label: after.get(label, 0) for label in labels}, strategy=strategy,
        source=list(rows) if draws else None, epoch_draws=draws,
    )


def trained_prior(result: Rebalanced, labels: Sequence[str]) -> list[float]:
    """The class mix the loss effectively saw: rows per class after rebalancing times the class
    weight (uniform for undersample, oversample and class-weights), in label order."""
    weights = result.class_weights or [1.0] * len(labels)
    mass = [result.after[label] * w for label, w in zip(labels, weights)]
    total = sum(mass)
    return [m / total for m in mass]


def natural_prior(result: Rebalanced, labels: Sequence[str]) -> list[float]:
    """The class mix of the training tweets before rebalancing, in label order."""
    total = sum(result.before[label] for label in labels)
    return [result.before[label] / total for label in labels]


def prior_offsets(result: Rebalanced, labels: Sequence[str]) -> list[float]:
    """Logit offsets ``ln(natural / trained)`` per class, centred on zero (softmax ignores a shared
    constant), that move a model trained on ``result`` back to the natural class mix."""
    raw = [math.log(n) - math.log(t) for n, t in zip(natural_prior(result, labels), trained_prior(result, labels))]
    mean = sum(raw) / len(raw)
    return [r - mean for r in raw]
