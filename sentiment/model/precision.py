"""Where and in which number format the model computes: the device, bf16 and int8.

Training and scoring ask this module the same questions: which device (:func:`pick_device`),
whether to run in bf16 (:func:`use_bf16`), whether to score with dynamically quantized int8
``Linear`` layers (:func:`wants_int8`, :func:`quantize_int8`), and, for a loaded model, which of
the three it scores in (:func:`scoring_precision`). When scoring on the CPU, ``auto`` uses bf16
weights or int8 only where the model's own check at evaluation (:func:`quantization_check`) found
that it costs at most the allowed macro-F1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sentiment.settings import Precision, Quantize, choices

if TYPE_CHECKING:  # torch is imported lazily: importing the library must stay cheap
    import torch

QUANTIZE_CHOICES = choices(Quantize)
PRECISION_CHOICES = choices(Precision)


def pick_device(preference: str = "auto") -> torch.device:
    import torch

    if preference == "cuda" or (preference == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("TWEETSENT_DEVICE=cuda but no CUDA device is available")
        return torch.device("cuda")
    return torch.device("cpu")


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
    import warnings

    import torch
    from torch.ao.quantization import quantize_dynamic

    # torch.ao warns that its eager-mode quantization API is deprecated on every quantized layer:
    # noise on a user's terminal, not something they can act on (the API works in this torch pin).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.ao\.")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.ao\.")
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
