"""Training: a tiny model for the mechanics, and a smoke fine-tune of the packaged model on real
airline tweets with a metric floor; behaviour tests on that fine-tuned model."""

from __future__ import annotations

import random

import pytest
import torch

from sentiment.data.cleaning import clean_text, clean_texts
from sentiment.model import training
from sentiment.model.classifier import SentimentClassifier
from sentiment.model.training import TrainConfig, fine_tune, length_grouped_batches, seed_everything
from sentiment.reporting.metrics import best_history_entry, checked_history, compute_metrics, render_report_markdown
from sentiment.settings import PACKAGED_MODEL

LABELS = ("negative", "neutral", "positive")


def test_length_grouped_batches_cover_everything_and_group_lengths():
    lengths = [random.Random(1).randint(1, 60) for _ in range(1000)]
    batches = length_grouped_batches(lengths, 32, random.Random(2), pool_batches=5)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000))
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 15  # unsorted batches of 32 would span ~55
    assert batches != length_grouped_batches(lengths, 32, random.Random(3), pool_batches=5)


def test_fine_tune_keeps_the_best_epoch_and_reports_history(tiny_checkpoint):
    texts = ["awful delay", "lost bag, rude staff", "great crew, thanks", "loved the flight", "what time is boarding", "is wifi free"] * 10
    labels = ["negative", "negative", "positive", "positive", "neutral", "neutral"] * 10
    classifier = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=16)
    result = fine_tune(classifier, texts, labels, texts[:12], labels[:12], TrainConfig(epochs=3, batch_size=8, learning_rate=1e-3, log_every_s=0))
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    best = max(result.history, key=lambda h: (h["val_macro_f1"], -h["val_loss"]))
    assert result.best_epoch == best["epoch"]
    assert result.device == "cpu" and result.steps == 3 * 8


def test_the_report_marks_the_epoch_training_keeps_when_macro_f1_ties(tiny_checkpoint, monkeypatch):
    """Three epochs tie on validation macro-F1; epoch 2 has the lowest validation loss. Training
    keeps epoch 2, and the report and the training-curves figure must mark that one, not the
    earliest epoch of the tie."""
    scripted = iter([(0.70, 0.5, 0.40), (0.60, 0.5, 0.40), (0.65, 0.5, 0.40)])  # (val loss, val accuracy, val macro-F1)
    monkeypatch.setattr(training, "_evaluate", lambda *args, **kwargs: next(scripted))
    texts, labels = ["awful delay", "great crew, thanks", "is wifi free"] * 4, ["negative", "positive", "neutral"] * 4
    classifier = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=16)
    result = fine_tune(classifier, texts, labels, texts[:3], labels[:3], TrainConfig(epochs=3, batch_size=4, learning_rate=1e-3, log_every_s=0))
    assert [h["val_macro_f1"] for h in result.history] == [0.40] * 3 and result.best_epoch == 2
    assert best_history_entry(checked_history(result.history))[0]["epoch"] == result.best_epoch
    md = render_report_markdown(title="t", metrics=compute_metrics(labels, labels, LABELS), model={}, dataset={}, history=result.history, images={})
    assert "Best epoch 2 by val_macro_f1" in md and "| **2** (best) |" in md


def test_epoch_subsets_choose_what_each_epoch_trains_on(tiny_checkpoint):
    texts = ["awful delay", "lost bag, rude staff", "great crew, thanks", "loved the flight", "what time is boarding", "is wifi free"] * 10
    labels = ["negative", "negative", "positive", "positive", "neutral", "neutral"] * 10
    classifier = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=16)
    subsets = {1: list(range(0, 24)), 2: list(range(24, 60))}  # 24 then 36 tweets: 3 + 5 batches of 8
    config = TrainConfig(epochs=2, batch_size=8, learning_rate=1e-3, log_every_s=0)
    result = fine_tune(classifier, texts, labels, texts[:12], labels[:12], config, epoch_subsets=subsets.__getitem__)
    assert result.steps == 3 + 5 and len(result.history) == 2
    with pytest.raises(ValueError, match="epoch 1's training subset"):
        fine_tune(classifier, texts, labels, texts[:12], labels[:12], config, epoch_subsets=lambda epoch: [0, 60])
    with pytest.raises(ValueError, match="epoch 1's training subset"):
        fine_tune(classifier, texts, labels, texts[:12], labels[:12], config, epoch_subsets=lambda epoch: [])


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_fine_tune_under_bf16_autocast_learns_and_records_its_precision(tiny_checkpoint, precision):
    texts = ["awful delay", "lost bag, rude staff", "great crew, thanks", "loved the flight"] * 10
    labels = ["negative", "negative", "positive", "positive"] * 10
    classifier = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=16)
    result = fine_tune(classifier, texts, labels, texts[:8], labels[:8], TrainConfig(epochs=3, batch_size=8, learning_rate=1e-3, log_every_s=0, precision=precision))
    assert result.extra["precision"] == ("bf16 autocast" if precision == "bf16" else "fp32")
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert next(classifier.model.parameters()).dtype == torch.float32  # autocast leaves the weights fp32


def test_logit_offsets_pick_the_best_epoch_and_end_up_in_the_saved_bias(tiny_checkpoint, tmp_path):
    from transformers import pipeline

    texts = ["awful delay", "lost bag, rude staff", "great crew, thanks", "loved the flight", "what time is boarding", "is wifi free"] * 6
    labels = ["negative", "negative", "positive", "positive", "neutral", "neutral"] * 6
    config = TrainConfig(epochs=1, batch_size=8, learning_rate=1e-3, log_every_s=0)  # one epoch: both runs keep the same one
    torch.manual_seed(0)  # the same fresh head for both models
    plain = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=16)
    fine_tune(plain, texts, labels, texts[:12], labels[:12], config)
    offsets = [4.0, 0.0, -4.0]  # far larger than any logit gap of this tiny model: everything becomes negative
    torch.manual_seed(0)
    shifted = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=16)
    result = fine_tune(shifted, texts, labels, texts[:12], labels[:12], config, logit_offsets=offsets)
    assert result.extra["logit_offsets"] == offsets
    # same seed, same training: only the output bias differs, by exactly the offsets
    assert torch.allclose(shifted.model.classifier.bias - plain.model.classifier.bias, torch.tensor(offsets), atol=1e-5)
    # validation predicted under the offsets: all negative, so accuracy is the negative share
    assert all(h["val_accuracy"] == pytest.approx(4 / 12) for h in result.history)
    assert set(shifted.predict(texts[:6])) == {"negative"}
    shifted.save(tmp_path / "m")
    hf = pipeline("text-classification", model=str(tmp_path / "m"), device="cpu")
    assert {p["label"] for p in hf(texts[:6])} == {"negative"}
    with pytest.raises(ValueError, match="one logit offset per class"):
        fine_tune(shifted, texts, labels, texts[:12], labels[:12], config, logit_offsets=[1.0])


def test_fine_tune_rejects_unknown_labels_and_bad_config(tiny_checkpoint):
    classifier = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=16)
    with pytest.raises(ValueError, match="'angry'"):
        fine_tune(classifier, ["a"], ["angry"], ["b"], ["negative"], TrainConfig(epochs=1))
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        TrainConfig(label_smoothing=1.0)


@pytest.fixture(scope="module")
def airline_model(shared_data):
    """The packaged MiniLM fine-tuned for one epoch on 1,200 balanced binary airline tweets (~40 s)."""
    from sentiment.data.sources import plan_inputs, read_file

    batch = read_file(plan_inputs([shared_data / "airline" / "tweets.csv"])[0])
    seen, by_label = set(), {"negative": [], "positive": []}
    for r in batch.records:
        if r["id"] not in seen and r["label"] in by_label:
            seen.add(r["id"])
            by_label[r["label"]].append(r["text"])
    rng = random.Random(5)
    for group in by_label.values():
        rng.shuffle(group)
    train = [(t, y) for y in by_label for t in by_label[y][:600]]
    test = [(t, y) for y in by_label for t in by_label[y][600:800]]
    rng.shuffle(train)
    seed_everything(3)  # the fresh head too: the fixture is the same model on every run
    classifier = SentimentClassifier.from_checkpoint(PACKAGED_MODEL, ("negative", "positive"), max_length=64)
    fine_tune(
        classifier, clean_texts([t for t, _ in train]), [y for _, y in train], clean_texts([t for t, _ in test[:100]]), [y for _, y in test[:100]],
        TrainConfig(epochs=1, batch_size=32, learning_rate=8e-5, seed=3),
    )
    return classifier, test


def test_smoke_fine_tune_reaches_a_metric_floor(airline_model):
    classifier, test = airline_model
    predictions = classifier.predict(clean_texts([t for t, _ in test]))
    accuracy = sum(p == y for p, (_, y) in zip(predictions, test)) / len(test)
    assert accuracy >= 0.85, accuracy


def positive_probability(classifier, texts):
    return classifier.predict_proba(clean_texts(texts))[:, classifier.labels.index("positive")]


# Tweets with a clear sentiment: a binary model has no right answer for a neutral one ("boarding
# now, see you in Denver"), whose label may then flip on any change, so those are not used here.
SENTENCES = [
    "@united thanks for getting me home on time, the crew was lovely",
    "@AmericanAir my flight is delayed again and nobody is telling us anything",
    "@JetBlue the new seats are really comfortable",
    "@USAirways been on hold for two hours",
]


def test_behaviour_user_names_and_urls_do_not_flip_the_label(airline_model):
    classifier, _ = airline_model
    base = classifier.predict(clean_texts(SENTENCES))
    renamed = [s.replace("@united", "@delta").replace("@AmericanAir", "@VirginAmerica").replace("@JetBlue", "@someone_else") for s in SENTENCES]
    with_url = [s + " https://t.co/" + "abc123XYZ"[i:] + str(i) for i, s in enumerate(SENTENCES)]
    assert classifier.predict(clean_texts(renamed)) == base
    assert classifier.predict(clean_texts(with_url)) == base


def test_behaviour_adding_a_clearly_negative_phrase_does_not_raise_positivity(airline_model):
    classifier, _ = airline_model
    before = positive_probability(classifier, SENTENCES)
    after = positive_probability(classifier, [s + " Terrible service, worst airline ever." for s in SENTENCES])
    assert all(a <= b + 0.01 for a, b in zip(after, before)), list(zip(before, after))


def test_cleaning_is_what_makes_mentions_invariant():
    assert clean_text("@united hi") == clean_text("@delta hi")
