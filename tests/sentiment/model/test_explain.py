"""``predict`` and ``explain`` on a saved model: shapes, the score scoring would store, and
Integrated-Gradients attributions that add up (completeness) within the reported delta."""

from __future__ import annotations

import json

import pytest

from sentiment.model.classifier import SentimentClassifier
from sentiment.usecases.predicting import explain, predict

LABELS = ("negative", "neutral", "positive")


@pytest.fixture(scope="module")
def model_dir(tiny_checkpoint, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model") / "v0001"
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=48).save(folder)
    return folder


def test_predict_cleans_like_ingest_and_gives_probabilities(model_dir, db_env):
    out = predict(["@united lost my bag again!!! http://t.co/x", "thanks so much"], model=str(model_dir))
    assert [set(r) >= {"label", "confidence", "probabilities", "clean_text"} for r in out] == [True, True]
    assert "@united" not in out[0]["clean_text"]  # cleaned as at ingest (mentions and links become placeholders)
    for r in out:
        assert abs(sum(r["probabilities"].values()) - 1) < 1e-4 and r["label"] == max(r["probabilities"], key=r["probabilities"].get)


def test_explain_attributions_add_up_within_the_delta(model_dir, db_env):
    result = explain("the flight was late and the crew was rude", model=str(model_dir), n_steps=48)
    assert result["label"] in LABELS and len(result["words"]) >= 8
    assert {w["word"] for w in result["words"]} >= {"flight", "late", "rude"}
    for label in LABELS:
        moved = result["logit"][label] - result["baseline_logit"][label]
        assert abs(result["attribution_sum"][label] - moved) <= max(result["delta"][label], 1e-5) + 1e-3, (label, result["attribution_sum"][label], moved, result["delta"][label])
    json.dumps(result)  # --json output is plain JSON


def test_cli_predict_and_explain(model_dir, db_env, tmp_path):
    from typer.testing import CliRunner

    from flows.cli.main import app

    runner = CliRunner()
    shown = runner.invoke(app, ["predict", "--model", str(model_dir), "great crew", "awful delay"])
    assert shown.exit_code == 0, shown.output
    assert "p_negative" in shown.output and "awful delay" in shown.output
    piped = runner.invoke(app, ["predict", "--model", str(model_dir), "--json"], input="one\n\ntwo\n")
    assert [r["text"] for r in json.loads(piped.stdout)] == ["one", "two"]
    page = tmp_path / "why.html"
    told = runner.invoke(app, ["explain", "--model", str(model_dir), "--steps", "16", "--html", str(page), "lost my bag"])
    assert told.exit_code == 0, told.output
    assert "convergence delta" in told.output and "towards" in told.output
    assert "<span" in page.read_text() and "bag" in page.read_text()
    missing = runner.invoke(app, ["predict", "--model", "v99", "x"])
    assert missing.exit_code == 2 and "model version 99" in missing.stderr
