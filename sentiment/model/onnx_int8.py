"""int8 scoring on the CPU through ONNX Runtime: export the model once, quantize it, run it.

A saved model is exported to ONNX with ``torch.onnx.export`` (the ``torch.export``-based
exporter; batch and sequence axes dynamic, so per-batch padding works as in PyTorch), its
``MatMul`` weights quantized to int8 per output channel with ``onnxruntime.quantization`` and the
result written into the model folder as :data:`INT8_FILE`, once: at evaluation (where the quality
check scores the frozen test set with it) or at the first load that asks for int8. Scoring then
runs the file in an ONNX Runtime session, with no PyTorch model in memory.

Why ONNX Runtime, and why dynamic per-channel quantization: see
``docs/experiments/2026-12-04-onnx-int8-scoring.md``. The embeddings, LayerNorms, softmax and GELU
stay fp32; activations are quantized per batch on the fly (u8 x s8 VNNI matrix multiplies).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sentiment.model.folders import first_line

logger = logging.getLogger(__name__)

#: the int8 model in a saved model folder
INT8_FILE = "model.int8.onnx"
#: what the quality check records as the int8 method
INT8_METHOD = "onnxruntime dynamic int8, per-channel MatMul weights"
INPUTS = ("input_ids", "attention_mask")


def export_onnx(model, path: Path) -> Path:
    """Write ``model`` (a ``*ForSequenceClassification`` in fp32 on the CPU) as one ONNX file with
    inputs ``input_ids`` and ``attention_mask`` (int64, dynamic batch and sequence) and output
    ``logits``."""
    import torch

    # A padded batch as scoring makes them. The mask must have zeros: transformers drops an
    # all-ones mask in Python, so an example without padding would export a graph that attends to
    # the pad tokens. Neither axis 1: torch.export would fix sizes of 1.
    input_ids = torch.arange(1000, 1016, dtype=torch.long).reshape(2, 8)
    attention_mask = torch.ones((2, 8), dtype=torch.long)
    attention_mask[1, 5:] = 0
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    program = torch.onnx.export(
        model.eval(),
        (),
        kwargs={"input_ids": input_ids, "attention_mask": attention_mask},
        input_names=list(INPUTS),
        output_names=["logits"],
        dynamic_shapes={name: {0: batch, 1: sequence} for name in INPUTS},
        dynamo=True,
        verbose=False,
    )
    program.save(str(path), external_data=False)
    return path


def quantize_onnx(source: Path, target: Path) -> Path:
    """Dynamic int8: ``MatMul`` weights as int8 per output channel, activations quantized per batch.

    The graph is pre-processed first (shape inference, constant folding), as ONNX Runtime's
    quantizer asks; its result is a temporary file beside ``target``.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = target.with_name(f"{target.name}.prepared")
    try:
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)  # the symbolic pass does not follow torch.export graphs
        quantize_dynamic(str(prepared), str(target), per_channel=True, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
    finally:
        prepared.unlink(missing_ok=True)
    return target


@contextlib.contextmanager
def quiet_export() -> Iterator[None]:
    """No exporter chatter on a scoring run's terminal: torch.onnx's progress lines, its notes on
    optional operators (torchvision) and on axis names, torch.export's internal FutureWarnings.
    Errors still raise."""
    noisy = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "torch._export", "onnxscript", "onnx_ir")]
    levels = [logger.level for logger in noisy]
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for logger in noisy:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(noisy, levels):
                logger.setLevel(level)


def write_int8(model, folder: Path) -> Path:
    """Export ``model`` and write its int8 version to ``folder/INT8_FILE``; the fp32 export is a
    temporary file. Written beside and renamed over, so two processes exporting at once (two
    scoring workers' first loads) each leave a whole file."""
    import copy

    import torch

    target = Path(folder) / INT8_FILE
    source_model = model
    if next(model.parameters()).device.type != "cpu" or next(model.parameters()).dtype != torch.float32:
        source_model = copy.deepcopy(model).to("cpu", torch.float32)
    with tempfile.TemporaryDirectory(prefix="tweetsent-onnx-") as scratch, quiet_export():
        fp32 = export_onnx(source_model, Path(scratch) / "model.onnx")
        partial = Path(folder) / f".{INT8_FILE}.{os.getpid()}.partial"
        try:
            quantize_onnx(fp32, partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    logger.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target


class OnnxRunner:
    """An ONNX Runtime session on the CPU: logits of padded int64 batches."""

    def __init__(self, path: Path, threads: int = 0):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = max(0, threads)  # 0: ONNX Runtime's default, one per core
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: no per-node placement chatter
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        names = tuple(i.name for i in self.session.get_inputs())
        if set(names) != set(INPUTS):
            raise ValueError(f"inputs {', '.join(names)}, expected {', '.join(INPUTS)}")

    def logits(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": np.asarray(input_ids, dtype=np.int64), "attention_mask": np.asarray(attention_mask, dtype=np.int64)}
        return self.session.run(["logits"], feed)[0]


def int8_runner(folder: Path, model):
    """An ONNX Runtime session of ``folder``'s int8 model, written from ``model`` (the fp32 torch
    model of that folder) when the folder has none yet; as many threads as PyTorch uses."""
    import torch

    path = folder / INT8_FILE
    if not path.is_file():
        try:
            write_int8(model, folder)
        except Exception as exc:  # an unwritable folder, an export the exporter cannot do
            raise Int8Unavailable(f"{path} cannot be written ({type(exc).__name__}: {first_line(exc)})") from exc
    try:
        return OnnxRunner(path, torch.get_num_threads())
    except Exception as exc:  # ONNX Runtime's errors share no base class but Exception
        raise Int8Unavailable(f"{path} cannot be loaded ({type(exc).__name__}: {first_line(exc)}); delete it and the next load writes it again") from exc


class Int8Unavailable(RuntimeError):
    """The folder's int8 ONNX model can be neither loaded nor written; the text says which file and why."""
