"""Fast CPU scoring: per-batch padding changes nothing, int8 is chosen as configured and stays
close to fp32, and keyset ranges cut the unscored tweets exactly as the single-process chunks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from sqlalchemy import select

from sentiment.model import precision as precision_module
from sentiment.model.classifier import SentimentClassifier, configure_cpu_threads
from sentiment.model.precision import quantization_check, scoring_precision, use_bf16, wants_int8
from sentiment.model.scoring import cached_classifier, count_unscored, score_range, score_unscored, scoring_threads, unscored_chunks, unscored_ranges
from sentiment.settings import Settings, describe_settings_error
from sentiment.store import registry, scores
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


def test_int8_replaces_the_linear_layers_and_stays_close_to_fp32(saved_model):
    fp32 = SentimentClassifier.load(saved_model, quantize="off")
    int8 = SentimentClassifier.load(saved_model, quantize="on")
    dynamic_linear = torch.ao.nn.quantized.dynamic.Linear
    assert not fp32.quantized and not any(isinstance(m, dynamic_linear) for m in fp32.model.modules())
    assert int8.quantized and sum(isinstance(m, dynamic_linear) for m in int8.model.modules()) >= 12  # q, k, v, out, up, down x 2 layers
    np.testing.assert_allclose(int8.predict_proba(TEXTS), fp32.predict_proba(TEXTS), atol=0.02)
    copy = fp32.int8_copy()
    assert copy.quantized and not any(isinstance(m, dynamic_linear) for m in fp32.model.modules())  # the original is left fp32


def test_auto_quantizes_on_the_cpu_only_when_the_models_check_passed():
    good, bad = quantization_check(0.80, 0.797, 0.005), quantization_check(0.80, 0.79, 0.005)
    assert good["ok"] and not bad["ok"] and bad["drop"] == pytest.approx(0.01)
    assert wants_int8("auto", "cpu", good)
    assert not wants_int8("auto", "cpu", bad) and not wants_int8("auto", "cpu", None)  # unchecked: fp32
    assert wants_int8("on", "cpu", bad)  # the user decides
    assert not wants_int8("on", "cuda", None) and not wants_int8("auto", "cuda", good)  # a CPU kernel
    assert not wants_int8("off", "cpu", good)
    with pytest.raises(ValueError, match="auto, on, off"):
        wants_int8("int4", "cpu", None)


def test_auto_reads_the_check_recorded_in_the_model_folder(tiny_checkpoint, tmp_path):
    folder = tmp_path / "v2"
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32).save(folder)
    assert not SentimentClassifier.load(folder, quantize="auto").quantized
    SentimentClassifier.update_meta(folder, quantization=quantization_check(0.8, 0.798, 0.005))
    assert SentimentClassifier.load(folder, quantize="auto").quantized
    SentimentClassifier.update_meta(folder, quantization=quantization_check(0.8, 0.7, 0.005))
    assert not SentimentClassifier.load(folder, quantize="auto").quantized
    assert SentimentClassifier.read_meta(folder)["config"]["labels"] == list(LABELS)  # the rest is kept


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
    int8_ok = quantization_check(0.8, 0.797, 0.005)
    monkeypatch.setattr(precision_module, "cpu_has_native_bf16", lambda: True)
    assert use_bf16("auto", "cpu") and use_bf16("bf16", "cpu") and not use_bf16("fp32", "cpu")
    assert scoring_precision("auto", "auto", "cpu", {"bf16_check": good}) == "bf16"
    assert scoring_precision("auto", "auto", "cpu", {}) == "fp32"  # unchecked: fp32
    assert scoring_precision("auto", "auto", "cpu", {"bf16_check": bad, "quantization": int8_ok}) == "int8"  # next best that passed
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
    assert cached_classifier(saved_model, "cpu", "on", 0) is not first
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
