"""A damaged model folder (a champion's, in the registry) is one line naming the bad file: a
``UserError``, which the scoring tasks do not retry."""

from __future__ import annotations

import shutil

import pytest

from sentiment.errors import UserError
from sentiment.model.folders import model_folder_problem
from sentiment.model.scoring import cached_classifier, load_classifier

LABELS = ("negative", "neutral", "positive")


@pytest.fixture(scope="module")
def saved_model(tiny_checkpoint, tmp_path_factory):
    from sentiment.model.classifier import SentimentClassifier

    folder = tmp_path_factory.mktemp("models") / "v0003"
    SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=16).save(folder)
    return folder


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE = {
    # name: (how, the file the message names, what it says)
    "truncated weights": (lambda f: _truncate(f / "model.safetensors"), "model.safetensors", "is damaged"),
    "garbage weights": (lambda f: (f / "model.safetensors").write_bytes(b"\x00garbage" * 64), "model.safetensors", "is damaged"),
    "empty weights": (lambda f: (f / "model.safetensors").write_bytes(b""), "model.safetensors", "is damaged"),
    "no weights": (lambda f: (f / "model.safetensors").unlink(), "model.safetensors", "is missing"),
    "no tweetsent.json": (lambda f: (f / "tweetsent.json").unlink(), "tweetsent.json", "is missing"),
    "broken tweetsent.json": (lambda f: (f / "tweetsent.json").write_text('{"config": '), "tweetsent.json", "is damaged"),
    "tweetsent.json of something else": (lambda f: (f / "tweetsent.json").write_text("[]"), "tweetsent.json", "is damaged"),
    "broken config.json": (lambda f: (f / "config.json").write_text("not json"), "config.json", "is damaged"),
    "broken tokenizer": (lambda f: (f / "tokenizer.json").write_text("{"), "tokenizer.json", "is damaged"),
    "no tokenizer": (lambda f: [(f / n).unlink(missing_ok=True) for n in ("tokenizer.json", "vocab.txt")], "tokenizer.json or vocab.txt", "no tokenizer"),
    "no folder": (lambda f: shutil.rmtree(f), "v0003", "is missing"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_model_folder_is_one_line_naming_the_file(damage, saved_model, tmp_path):
    folder = tmp_path / "models" / "v0003"
    shutil.copytree(saved_model, folder)
    assert model_folder_problem(folder) is None
    how, file, says = DAMAGE[damage]
    how(folder)
    with pytest.raises(UserError) as caught:
        cached_classifier(folder)
    line = str(caught.value)
    assert "\n" not in line and len(line) < 600, line
    assert line.startswith("model v3: ") and file in line and says in line, line
    with pytest.raises(UserError):
        load_classifier(folder)


def test_a_complete_folder_loads(saved_model):
    classifier = load_classifier(saved_model)
    assert classifier.config.labels == LABELS


def test_scoring_tasks_do_not_retry_a_user_error():
    from tasks.retry import retry_unless_user_error
    from tasks.score import plan_score_ranges, score_new_tweets, score_tweet_range

    for task in (score_new_tweets, plan_score_ranges, score_tweet_range):
        assert task.retries == 2 and task.retry_condition_fn is retry_unless_user_error, task.name
