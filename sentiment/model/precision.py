"""Where and in which number format the model computes: the device, bf16 and int8.

Training and scoring ask this module the same questions: which device (:func:`pick_device`),
whether to run in bf16 (:func:`use_bf16`), whether to score with the int8 ONNX Runtime model
(:func:`wants_int8`; the model itself: :mod:`sentiment.model.onnx_int8`), and, for a loaded
model, which of the three it scores in (:func:`scoring_precision`). When scoring on the CPU,
``auto`` uses bf16 weights or int8 only where the model's own checks at evaluation
(:func:`quantization_check`) found that they cost at most the allowed macro-F1, and int8 only
where its check also measured it faster than the precision used otherwise.
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



def wants_int8(setting: str, device_type: str, check: dict[str, Any] | None, otherwise: str = "fp32") -> bool:
    """Whether to score with the int8 ONNX model (:mod:`sentiment.model.onnx_int8`) instead of
    ``otherwise`` (the torch precision used when not: fp32 or bf16).

    ``on``/``off`` decide; ``auto`` uses int8 on the CPU only when the model's int8 check
    (``int8_check`` in the folder's ``tweetsent.json``, recorded at evaluation on the frozen test
    set) found that it costs at most the allowed macro-F1 *and* scored faster there than
    ``otherwise``. A model without that record (or with only the ``quantization`` record of the
    former PyTorch int8) does not use it. Never on CUDA: the int8 model is an ONNX Runtime CPU graph.
    """
    if setting not in QUANTIZE_CHOICES:
        raise ValueError(f"TWEETSENT_QUANTIZE={setting!r}: use one of {', '.join(QUANTIZE_CHOICES)}")
    if device_type != "cpu" or setting == "off":
        return False
    if setting == "on":
        return True
    return check_passed(check) and int8_is_faster(check, otherwise)


def int8_is_faster(check: dict[str, Any] | None, otherwise: str) -> bool:
    """Whether the recorded check measured int8 faster than ``otherwise`` (not measured: no)."""
    rates = (check or {}).get("tweets_per_s") or {}
    return rates.get("int8") is not None and rates.get(otherwise) is not None and rates["int8"] > rates[otherwise]


def quantization_check(fp32_macro_f1: float, other_macro_f1: float, max_drop: float, kind: str = "int8") -> dict[str, Any]:
    """The record ``auto`` reads: is ``kind`` (int8 or bf16) within ``max_drop`` (absolute macro-F1) of fp32?"""
    drop = fp32_macro_f1 - other_macro_f1
    return {"fp32_macro_f1": fp32_macro_f1, f"{kind}_macro_f1": other_macro_f1, "drop": drop, "max_drop": max_drop, "ok": drop <= max_drop}


def check_passed(check: dict[str, Any] | None) -> bool:
    """Whether a recorded :func:`quantization_check` allows ``auto`` to use it (unchecked: no)."""
    return check is not None and bool(check.get("ok", False))


def scoring_precision(precision: str, quantize: str, device_type: str, meta: dict[str, Any]) -> str:
    """How a loaded model scores: ``bf16``, ``int8`` or ``fp32``.

    On CUDA the model keeps fp32 weights, under bf16 autocast unless ``precision=fp32``; int8 is
    never used there. On the CPU ``quantize=on`` means int8 whatever else is set; otherwise the
    torch precision is bf16 weights where the CPU runs bf16 natively (``precision=auto``) and the
    model's bf16 check at evaluation passed, or when ``precision=bf16`` forces it, else fp32; then
    ``quantize=auto`` replaces it by int8 where :func:`wants_int8` says so (not over a forced bf16).
    """
    if quantize not in QUANTIZE_CHOICES:
        raise ValueError(f"TWEETSENT_QUANTIZE={quantize!r}: use one of {', '.join(QUANTIZE_CHOICES)}")
    if device_type != "cpu":
        return "bf16" if use_bf16(precision, device_type) else "fp32"
    if quantize == "on":
        return "int8"
    torch_precision = "bf16" if use_bf16(precision, "cpu") and (precision == "bf16" or check_passed(meta.get("bf16_check"))) else "fp32"
    if precision != "bf16" and wants_int8(quantize, "cpu", meta.get("int8_check"), otherwise=torch_precision):
        return "int8"
    return torch_precision
