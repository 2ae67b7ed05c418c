"""Fast CPU scoring: per-batch padding changes nothing, int8 (ONNX Runtime) is chosen as
configured and stays close to fp32, and keyset ranges cut the unscored tweets exactly as the
single-process chunks."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from sqlalchemy import select

from sentiment.errors import UserError
from sentiment.model import precision as precision_module
from sentiment.model.classifier import SentimentClassifier, configure_cpu_threads, padded_batch
from sentiment.model.onnx_int8 import INT8_FILE, OnnxRunner, export_onnx, quiet_export
from sentiment.model.precision import quantization_check, scoring_precision, use_bf16, wants_int8
from sentiment.model.scoring import cached_classifier, count_unscored, score_range, score_unscored, scoring_threads, unscored_chunks, unscored_ranges
from sentiment.settings import Settings, describe_settings_error
from sentiment.store import registry, scores
from sentiment.usecases.evaluation import precision_checks
from tests.sentiment.model.test_scoring import LABELS, ingest_texts

TEXTS = [
    "ok",
    "the flight was late again and nobody at the gate could tell us anything about the connection",
    "thanks for the upgrade!",
    "lost my bag",
    "crew were lovely, seats were not, food was fine, wifi did not work for the whole six hours",
    "meh",
]


@pytest.fixture(scope="module")
def saved_model(tiny_checkpoint, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model") / "v1"
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32).save(folder)
    return folder


def test_length_sorted_batches_with_per_batch_padding_give_the_one_by_one_probabilities(saved_model):
    classifier = SentimentClassifier.load(saved_model, quantize="off")
    batched = classifier.predict_proba(TEXTS, batch_size=4)
    one_by_one = np.vstack([classifier.predict_proba([t], batch_size=1) for t in TEXTS])
    assert batched.shape == (len(TEXTS), len(LABELS))
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)  # rows back in input order, padding masked
    assert classifier.predict_proba([]).shape == (0, len(LABELS))


def int8_check(ok: bool = True, int8_rate: float = 900.0, **rates: float) -> dict:
    """A recorded int8 check: within the limit or not, with the rates the check measured."""
    check = quantization_check(0.80, 0.798 if ok else 0.79, 0.005)
    return {**check, "tweets_per_s": {"int8": int8_rate, "fp32": 300.0, "bf16": 500.0, **rates}}


def test_the_onnx_export_computes_the_torch_logits_on_padded_batches_of_any_shape(saved_model, tmp_path):
    classifier = SentimentClassifier.load(saved_model)
    with quiet_export():
        runner = OnnxRunner(export_onnx(classifier.model, tmp_path / "model.onnx"), threads=1)
    ids = classifier.token_ids(TEXTS)
    for index in ([0, 1, 2, 3, 4, 5], [2], [1, 4], [0, 3, 5]):  # batch sizes and lengths other than the example's 2 x 8
        input_ids, mask = padded_batch(classifier.tokenizer, ids, index)
        with torch.inference_mode():
            expected = classifier.model(input_ids=input_ids, attention_mask=mask).logits.numpy()
        np.testing.assert_allclose(runner.logits(input_ids.numpy(), mask.numpy()), expected, atol=1e-4)  # pad tokens masked as in torch


def test_int8_scores_through_onnx_runtime_close_to_fp32_from_a_file_written_once(saved_model):
    fp32 = SentimentClassifier.load(saved_model, quantize="off")
    assert not fp32.quantized and fp32.runner is None and not (saved_model / INT8_FILE).exists()
    int8 = SentimentClassifier.load(saved_model, quantize="on")  # first use: exported and quantized into the folder
    written = (saved_model / INT8_FILE).stat()
    assert int8.quantized and int8.model is None and int8.runner.path == saved_model / INT8_FILE and int8.device.type == "cpu"
    # The export has dynamic batch and sequence axes: other batch sizes and lengths than the example.
    np.testing.assert_allclose(int8.predict_proba(TEXTS, batch_size=4), fp32.predict_proba(TEXTS, batch_size=4), atol=0.05)
    one_by_one = np.vstack([int8.predict_proba([t], batch_size=1) for t in TEXTS])
    # Pads masked; activations are quantized with one scale per batch, so a tweet moves a little with its batch mates.
    np.testing.assert_allclose(int8.predict_proba(TEXTS, batch_size=4), one_by_one, atol=2e-3)
    copy = fp32.int8_copy(saved_model)
    assert copy.predict(TEXTS) == int8.predict(TEXTS) and fp32.model is not None  # the original is left as it was
    assert (saved_model / INT8_FILE).stat().st_mtime_ns == written.st_mtime_ns  # reused, not written again
    assert (int8.predict_proba([]).shape) == (0, len(LABELS))


def test_a_damaged_int8_file_falls_back_on_auto_and_is_a_one_line_error_on_on(tiny_checkpoint, tmp_path, caplog):
    folder = tmp_path / "v5"
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32).save(folder)
    SentimentClassifier.update_meta(folder, int8_check=int8_check())
    (folder / INT8_FILE).write_bytes(b"not an onnx model")
    with caplog.at_level(logging.WARNING, logger="sentiment.model.classifier"):
        loaded = SentimentClassifier.load(folder, quantize="auto", precision="fp32")
    assert loaded.precision == "fp32" and loaded.model is not None
    assert f"{folder / INT8_FILE} cannot be loaded" in caplog.text and "scoring in fp32 instead" in caplog.text
    with pytest.raises(UserError) as caught:
        SentimentClassifier.load(folder, quantize="on")
    line = str(caught.value)
    assert "\n" not in line and str(folder / INT8_FILE) in line and "cannot be loaded" in line and "delete it" in line


def test_auto_uses_int8_on_the_cpu_only_when_its_check_passed_and_it_was_faster():
    good, bad = quantization_check(0.80, 0.797, 0.005), quantization_check(0.80, 0.79, 0.005)
    assert good["ok"] and not bad["ok"] and bad["drop"] == pytest.approx(0.01)
    assert wants_int8("auto", "cpu", int8_check()) and wants_int8("auto", "cpu", int8_check(), otherwise="bf16")
    assert not wants_int8("auto", "cpu", int8_check(int8_rate=450.0), otherwise="bf16")  # slower than bf16 on this model
    assert wants_int8("auto", "cpu", int8_check(int8_rate=450.0), otherwise="fp32")
    assert not wants_int8("auto", "cpu", good)  # within the limit, but its speed was never measured
    assert not wants_int8("auto", "cpu", int8_check(ok=False)) and not wants_int8("auto", "cpu", None)  # unchecked: no
    assert wants_int8("on", "cpu", int8_check(ok=False))  # the user decides
    assert not wants_int8("on", "cuda", None) and not wants_int8("auto", "cuda", int8_check())  # an ONNX Runtime CPU graph
    assert not wants_int8("off", "cpu", int8_check())
    with pytest.raises(ValueError, match="auto, on, off"):
        wants_int8("int4", "cpu", None)


def test_auto_reads_the_check_recorded_in_the_model_folder(tiny_checkpoint, tmp_path):
    folder = tmp_path / "v2"
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32).save(folder)
    assert not SentimentClassifier.load(folder, quantize="auto", precision="fp32").quantized
    SentimentClassifier.update_meta(folder, quantization=quantization_check(0.8, 0.798, 0.005))  # the former PyTorch int8's record
    assert not SentimentClassifier.load(folder, quantize="auto", precision="fp32").quantized
    SentimentClassifier.update_meta(folder, int8_check=int8_check())
    assert SentimentClassifier.load(folder, quantize="auto", precision="fp32").quantized
    SentimentClassifier.update_meta(folder, int8_check=int8_check(ok=False))
    assert not SentimentClassifier.load(folder, quantize="auto", precision="fp32").quantized
    assert SentimentClassifier.read_meta(folder)["config"]["labels"] == list(LABELS)  # the rest is kept


def test_the_int8_check_records_quality_speed_and_file_and_refuses_a_loss_over_the_limit(tiny_checkpoint, tmp_path):
    folder = tmp_path / "v3"
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32).save(folder)
    fp32 = SentimentClassifier.load(folder)
    texts = TEXTS * 8
    gold = fp32.predict(texts)  # fp32 is right on every tweet: macro-F1 1.0 (of the classes it predicts)
    settings = Settings(precision="fp32", quantize="auto", quantize_max_f1_drop=1.0, labels=",".join(LABELS))
    checks = precision_checks(settings, 3, fp32, folder, texts, gold, 1.0, 300.0)
    check = checks["int8_check"]
    assert set(checks) == {"int8_check"} and (folder / INT8_FILE).is_file() and check["file"] == INT8_FILE
    assert check["ok"] and check["tweets_per_s"]["fp32"] == 300.0 and check["tweets_per_s"]["int8"] > 0
    assert check["int8_macro_f1"] == pytest.approx(1.0 - check["drop"])
    # The same int8 model against an fp32 model that scored 2 points better than it: refused.
    strict = Settings(precision="fp32", quantize="auto", quantize_max_f1_drop=0.005, labels=",".join(LABELS))
    refused = precision_checks(strict, 3, fp32, folder, texts, gold, check["int8_macro_f1"] + 0.02, 300.0)["int8_check"]
    assert not refused["ok"] and refused["drop"] == pytest.approx(0.02)
    SentimentClassifier.update_meta(folder, int8_check=refused)
    assert SentimentClassifier.load(folder, quantize="auto", precision="fp32").precision == "fp32"
    assert precision_checks(Settings(precision="fp32", quantize="off"), 3, fp32, folder, texts, gold, 1.0, 300.0) == {}  # never used: not checked


def test_an_int8_file_that_cannot_be_written_skips_the_check_and_falls_back_with_the_reason(tiny_checkpoint, tmp_path, caplog):
    folder = tmp_path / "v6"
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32).save(folder)
    (folder / INT8_FILE).mkdir()  # something in the way of the file
    fp32 = SentimentClassifier.load(folder)
    settings = Settings(precision="fp32", quantize="auto", labels=",".join(LABELS))
    with caplog.at_level(logging.WARNING):
        assert precision_checks(settings, 6, fp32, folder, TEXTS, fp32.predict(TEXTS), 1.0, 300.0) == {}  # no record: auto stays in torch
    assert f"no int8 check, CPU scoring does not use int8 on auto: {folder / INT8_FILE} cannot be written" in caplog.text
    with pytest.raises(UserError, match="int8 scoring: .* cannot be written"):
        SentimentClassifier.load(folder, quantize="on")


def test_no_code_uses_the_deprecated_torch_ao_quantization():
    root = Path(__file__).resolve().parents[3]
    users = [p for folder in ("sentiment", "tasks", "flows", "benchmarks") for p in (root / folder).rglob("*.py") if "torch.ao" in p.read_text()]
    assert users == []


def test_bf16_weights_stay_close_to_fp32_and_leave_the_original_alone(saved_model):
    fp32 = SentimentClassifier.load(saved_model, precision="fp32")
    bf16 = SentimentClassifier.load(saved_model, precision="bf16")
    assert fp32.precision == "fp32" and next(fp32.model.parameters()).dtype == torch.float32
    assert bf16.precision == "bf16" and all(p.dtype == torch.bfloat16 for p in bf16.model.parameters())
    np.testing.assert_allclose(bf16.predict_proba(TEXTS), fp32.predict_proba(TEXTS), atol=0.03)
    copy = fp32.bf16_copy()
    assert copy.precision == "bf16" and next(fp32.model.parameters()).dtype == torch.float32
    assert copy.predict(TEXTS) == bf16.predict(TEXTS)


def test_scoring_precision_follows_settings_hardware_and_the_models_checks(monkeypatch):
    good, bad = quantization_check(0.8, 0.799, 0.005, kind="bf16"), quantization_check(0.8, 0.78, 0.005, kind="bf16")
    assert good["bf16_macro_f1"] == 0.799
    int8_ok = int8_check()
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: True)
    assert use_bf16("auto", "cpu") and use_bf16("bf16", "cpu") and not use_bf16("fp32", "cpu")
    assert scoring_precision("auto", "auto", "cpu", {"bf16_check": good}) == "bf16"
    assert scoring_precision("auto", "auto", "cpu", {}) == "fp32"  # unchecked: fp32
    assert scoring_precision("auto", "auto", "cpu", {"bf16_check": bad, "int8_check": int8_ok}) == "int8"  # int8 passed, faster than fp32
    assert scoring_precision("auto", "auto", "cpu", {"bf16_check": good, "int8_check": int8_ok}) == "int8"  # faster than bf16 too
    assert scoring_precision("auto", "auto", "cpu", {"bf16_check": good, "int8_check": int8_check(int8_rate=450.0)}) == "bf16"
    assert scoring_precision("bf16", "auto", "cpu", {"int8_check": int8_ok}) == "bf16"  # a forced bf16 wins over auto
    assert scoring_precision("fp32", "on", "cuda", {"int8_check": int8_ok}) == "fp32"  # no int8 on CUDA
    assert scoring_precision("bf16", "auto", "cpu", {"bf16_check": bad}) == "bf16"  # the user decides
    assert scoring_precision("auto", "on", "cpu", {"bf16_check": good}) == "int8"
    assert scoring_precision("fp32", "off", "cpu", {"bf16_check": good}) == "fp32"
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: False)  # bf16 would be emulated: slower than fp32
    assert not use_bf16("auto", "cpu")
    assert scoring_precision("auto", "auto", "cpu", {"bf16_check": good}) == "fp32"
    with pytest.raises(ValueError, match="TWEETSENT_PRECISION"):
        use_bf16("fp16", "cpu")


@pytest.mark.parametrize(("variable", "given", "expected", "bad"), [("TWEETSENT_PRECISION", "BF16", "bf16", "fp8"), ("TWEETSENT_QUANTIZE", "ON", "on", "sometimes")])
def test_precision_and_quantize_settings_are_validated(monkeypatch, variable, given, expected, bad):
    monkeypatch.setenv(variable, given)
    assert getattr(Settings(), variable.removeprefix("TWEETSENT_").lower()) == expected
    monkeypatch.setenv(variable, bad)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert f"{variable}='{bad}'" in describe_settings_error(caught.value)


def test_threads_split_the_cores_between_local_workers():
    previous = torch.get_num_threads()
    try:
        assert configure_cpu_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)
    assert scoring_threads(3, 2) == 3
    assert scoring_threads(0, 10_000) == 1
    assert scoring_threads(0, 1) == scoring_threads(0, 0) >= 1


def test_the_model_is_loaded_once_per_process(saved_model):
    first = cached_classifier(saved_model, "cpu", "off", 0)
    assert cached_classifier(str(saved_model), "cpu", "off", 0) is first
    assert cached_classifier(saved_model, "cpu", "on", 0) is not first and cached_classifier(saved_model, "cpu", "on", 0).quantized
    assert cached_classifier(saved_model, "cpu", "off", 0, "bf16").precision == "bf16"


def test_keyset_ranges_are_the_single_process_chunks_and_score_the_same(engine, saved_model, tmp_path):
    ingest_texts(engine, 50)
    make = lambda: registry.create_version(  # noqa: E731
        engine, base_checkpoint="tiny", label_set=",".join(LABELS), hyperparameters={}, data_snapshot={}, models_dir=tmp_path / "models"
    )[0]
    single, ranged = make(), make()
    classifier = SentimentClassifier.load(saved_model, quantize="on")
    ranges = unscored_ranges(engine, ranged, chunk=16)
    chunks = list(unscored_chunks(engine, ranged, chunk=16))
    assert len(ranges) == len(chunks) == 4 and ranges[-1][1] is None
    assert [r[1] for r in ranges[:-1]] == [c[-1][0] for c in chunks[:-1]]
    score_unscored(engine, classifier, single, chunk=16, batch_size=8)
    parts = [score_range(engine, classifier, ranged, after, upto, chunk=16, batch_size=8) for after, upto in reversed(ranges)]
    assert sum(p.scored for p in parts) == 50 and count_unscored(engine, ranged) == 0
    assert score_range(engine, classifier, ranged, *ranges[0], chunk=16).scored == 0  # a retry inserts nothing

    def by_tweet(version):
        with engine.connect() as conn:
            rows = conn.execute(select(scores.c.tweet_id, scores.c.label, scores.c.p_negative, scores.c.p_neutral, scores.c.p_positive).where(scores.c.model_version_id == version))
            return {r[0]: (r[1], *r[2:]) for r in rows}

    assert by_tweet(single) == by_tweet(ranged)  # same chunks, same batches: the same numbers
    ingest_texts(engine, 55)  # five newcomers, anywhere in id order: one open range finds them
    assert unscored_ranges(engine, ranged, chunk=16) == [("", None)]
    assert score_range(engine, classifier, ranged, "", None, chunk=16).scored == 5
