"""Word attributions by Integrated Gradients (Captum's ``LayerIntegratedGradients``).

The attributions are taken over the word-embedding layer, from a baseline that keeps ``[CLS]`` and
``[SEP]`` and puts ``[PAD]`` everywhere else, to the tweet, along a straight path (``n_steps``
Riemann steps, Gauss-Legendre). They explain the **logit** of one class (after the prior
correction folded into the output bias, i.e. what decides the label): by the completeness axiom
they add up to ``logit(tweet) - logit(baseline)``, up to the reported convergence delta. Word
pieces are merged back into words (their attributions added); the special tokens are reported
apart. Explanations run in fp32 whatever precision scoring uses (gradients of an int8 model are
not the model's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Explanation:
    text: str  # what the model read (the clean text)
    label: str
    probabilities: dict[str, float]
    #: per class: words with their attribution towards that class's logit
    words: list[str]
    attributions: dict[str, list[float]]
    logit: dict[str, float]
    baseline_logit: dict[str, float]
    delta: dict[str, float]  # Captum's convergence delta per class
    special: dict[str, float] = field(default_factory=dict)  # [CLS]/[SEP] share of the predicted class

    def top(self, label: str, k: int = 5) -> dict[str, list[tuple[str, float]]]:
        pairs = sorted(zip(self.words, self.attributions[label]), key=lambda p: p[1])
        return {"towards": [(w, round(a, 4)) for w, a in reversed(pairs[-k:]) if a > 0], "away": [(w, round(a, 4)) for w, a in pairs[:k] if a < 0]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text, "label": self.label, "probabilities": self.probabilities,
            "words": [{"word": w, **{lab: round(self.attributions[lab][i], 5) for lab in self.attributions}} for i, w in enumerate(self.words)],
            "logit": self.logit, "baseline_logit": self.baseline_logit, "delta": self.delta,
            "attribution_sum": {lab: round(float(sum(a)) + self.special.get(lab, 0.0), 5) for lab, a in self.attributions.items()},
            "top": {lab: self.top(lab) for lab in self.attributions},
        }


def _merge_pieces(tokens: list[str], values: np.ndarray) -> tuple[list[str], list[float]]:
    words: list[str] = []
    scores: list[float] = []
    for token, value in zip(tokens, values):
        if token.startswith("##") and words:
            words[-1] += token[2:]
            scores[-1] += float(value)
        else:
            words.append(token)
            scores.append(float(value))
    return words, scores


def explain_text(classifier, clean_text: str, n_steps: int = 64) -> Explanation:
    """Integrated-Gradients attributions of every class's logit for one (clean) text."""
    import torch
    from captum.attr import LayerIntegratedGradients

    model, tokenizer, labels = classifier.model, classifier.tokenizer, list(classifier.labels)
    model.eval()
    encoded = tokenizer(clean_text, truncation=True, max_length=classifier.config.max_length, return_tensors="pt")
    input_ids = encoded["input_ids"].to(model.device)
    mask = encoded["attention_mask"].to(model.device)
    special = torch.tensor(tokenizer.get_special_tokens_mask(input_ids[0].tolist(), already_has_special_tokens=True), dtype=torch.bool, device=model.device)
    baseline = torch.where(special, input_ids[0], torch.full_like(input_ids[0], tokenizer.pad_token_id)).unsqueeze(0)

    def forward(ids, attention):
        return model(input_ids=ids, attention_mask=attention).logits

    with torch.no_grad():
        logits = forward(input_ids, mask)[0].float()
        base_logits = forward(baseline, mask)[0].float()
    probs = torch.softmax(logits / classifier.temperature, -1).tolist()  # as scoring stores them
    embeddings = model.get_input_embeddings()
    ig = LayerIntegratedGradients(forward, embeddings)
    tokens = tokenizer.convert_ids_to_tokens(input_ids[0].tolist())
    inner = [i for i, s in enumerate(special.tolist()) if not s]
    attributions, deltas, special_share = {}, {}, {}
    for k, label in enumerate(labels):
        attr, delta = ig.attribute(
            inputs=input_ids, baselines=baseline, additional_forward_args=(mask,), target=k, n_steps=n_steps, return_convergence_delta=True
        )
        per_token = attr.sum(dim=-1)[0].detach().float().cpu().numpy()
        words, scores = _merge_pieces([tokens[i] for i in inner], per_token[inner])
        attributions[label] = scores
        deltas[label] = round(float(delta.abs().max()), 6)
        special_share[label] = float(per_token[special.cpu().numpy()].sum())
    return Explanation(
        text=clean_text, label=labels[int(np.argmax(probs))], probabilities={lab: round(p, 6) for lab, p in zip(labels, probs)},
        words=words, attributions=attributions, logit={lab: round(float(v), 5) for lab, v in zip(labels, logits)},
        baseline_logit={lab: round(float(v), 5) for lab, v in zip(labels, base_logits)}, delta=deltas, special=special_share,
    )
