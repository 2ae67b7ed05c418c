"""Which unlabelled tweets go to annotators.

- ``uncertainty``: the smallest **margin** between the two most likely classes. Margin rather than
  entropy: it measures exactly how close the decision is between the two classes in play, and with
  three classes entropy also rises when the two *losing* classes are close to each other, which
  says nothing about the decision (a tweet at 0.50/0.25/0.25 has more entropy than one at
  0.48/0.47/0.05, but the second is the one the model cannot decide).
- ``diverse``: the 10×N most uncertain, then farthest-first over the champion encoder's sentence
  embeddings (mean of the last hidden layer, cosine distance), starting from the most uncertain:
  each pick is the tweet least like everything picked so far, so 100 near-identical complaints
  are not sent together.
- ``random``: the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

STRATEGIES = ("uncertainty", "diverse", "random")
#: diverse picks among this many times N of the most uncertain tweets
DIVERSE_POOL = 10


def margins(probabilities: np.ndarray) -> np.ndarray:
    """Top-1 minus top-2 probability per row (0: undecided, 1: certain)."""
    if probabilities.shape[1] < 2:
        return np.ones(len(probabilities))
    top = np.sort(probabilities, axis=1)
    return top[:, -1] - top[:, -2]


def most_uncertain(probabilities: np.ndarray, n: int) -> list[int]:
    """Row positions of the ``n`` smallest margins, smallest first (stable for ties)."""
    return [int(i) for i in np.argsort(margins(probabilities), kind="stable")[:n]]


def farthest_first(embeddings: np.ndarray, n: int) -> list[int]:
    """``n`` row positions: row 0 first, then each time the row farthest (cosine) from all picked."""
    if len(embeddings) == 0 or n <= 0:
        return []
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    picked = [0]
    nearest = 1.0 - unit @ unit[0]
    nearest[0] = -1.0
    while len(picked) < min(n, len(unit)):
        nxt = int(np.argmax(nearest))
        picked.append(nxt)
        nearest = np.minimum(nearest, 1.0 - unit @ unit[nxt])
        nearest[picked] = -1.0
    return picked


def embed(classifier, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Sentence embeddings from the classifier's encoder: the mean of the last hidden layer over
    the real tokens."""
    import torch

    model, tokenizer = classifier.model, classifier.tokenizer
    out = []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(list(texts[start : start + batch_size]), truncation=True, max_length=classifier.config.max_length, padding=True, return_tensors="pt")
            batch = {k: v.to(model.device) for k, v in batch.items()}
            hidden = model(**batch, output_hidden_states=True).hidden_states[-1].float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            out.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 1))
