import numpy as np
import pytest

from sentiment.model.classifier import SentimentClassifier, choose_max_length, length_sorted_batches, resolve_checkpoint
from sentiment.settings import PACKAGED_MODEL

LABELS = ("negative", "neutral", "positive")


def test_packaged_checkpoint_resolves_to_a_local_folder():
    from pathlib import Path

    folder = Path(resolve_checkpoint(PACKAGED_MODEL))
    assert (folder / "config.json").is_file() and (folder / "vocab.txt").is_file()


def test_a_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="no config.json"):
        resolve_checkpoint(str(tmp_path))


def test_choose_max_length():
    assert choose_max_length([10] * 99 + [500], cap=128) == 16  # floor
    assert choose_max_length(list(range(1, 101)), cap=128) == 104  # 99th percentile 99.01 -> 104
    assert choose_max_length([300] * 10, cap=128) == 128


def test_length_sorted_batches_cover_every_index_once():
    batches = list(length_sorted_batches([5, 1, 3, 2, 4], 2))
    assert batches == [[1, 3], [2, 4], [0]]


def test_saved_folder_loads_in_the_hugging_face_ecosystem(tiny_checkpoint, tmp_path):
    from transformers import AutoModelForSequenceClassification, pipeline

    classifier = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32)
    texts = ["great crew", "lost my bag again", "is flight 12 on time?"]
    probs = classifier.predict_proba(texts, batch_size=2)
    assert probs.shape == (3, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    folder = classifier.save(tmp_path / "model")
    for name in ("model.safetensors", "config.json", "tokenizer.json", "tweetsent.json"):
        assert (folder / name).is_file()
    reloaded = SentimentClassifier.load(folder)
    np.testing.assert_allclose(reloaded.predict_proba(texts), probs, atol=1e-5)
    assert reloaded.config.max_length == 32 and reloaded.labels == LABELS

    hf = AutoModelForSequenceClassification.from_pretrained(folder)
    assert hf.config.id2label == {0: "negative", 1: "neutral", 2: "positive"}
    assert hf.config.label2id == {"negative": 0, "neutral": 1, "positive": 2}
    out = pipeline("text-classification", model=str(folder), device=-1)(texts[0])
    assert out[0]["label"] in LABELS


def test_loading_a_non_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a tweetsent model folder"):
        SentimentClassifier.load(tmp_path)


def test_a_hub_name_is_never_downloaded(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ValueError, match="never downloads models"):
        SentimentClassifier.from_checkpoint("someone/not-cached-model", LABELS, max_length=32)


def test_an_untrained_pooler_starts_as_the_identity_a_trained_one_is_kept():
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from sentiment.model.classifier import identity_pooler_if_untrained

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, num_labels=3)
    fresh = BertForSequenceClassification(config)  # what an untrained pooler looks like: random W, b == 0
    assert not torch.count_nonzero(fresh.bert.pooler.dense.bias)
    assert identity_pooler_if_untrained(fresh)
    assert torch.equal(fresh.bert.pooler.dense.weight, torch.eye(16))
    hidden = torch.randn(2, 5, 16)
    assert torch.allclose(fresh.bert.pooler(hidden), torch.tanh(hidden[:, 0]))  # the first token, as it is

    trained = BertForSequenceClassification(config)
    with torch.no_grad():
        trained.bert.pooler.dense.bias.fill_(0.1)
    before = trained.bert.pooler.dense.weight.clone()
    assert not identity_pooler_if_untrained(trained)
    assert torch.equal(trained.bert.pooler.dense.weight, before)


def test_the_packaged_checkpoint_gets_the_identity_pooler():
    classifier = SentimentClassifier.from_checkpoint(PACKAGED_MODEL, LABELS, max_length=32)
    assert classifier.pooler_init == "identity"  # sentence-transformers never trained its pooler


def test_a_batch_is_right_padded_to_its_own_longest_row_even_for_a_left_padding_tokenizer():
    from transformers import AutoTokenizer

    from sentiment.model.classifier import padded_batch

    tokenizer = AutoTokenizer.from_pretrained(resolve_checkpoint(PACKAGED_MODEL))
    tokenizer.padding_side = "left"
    ids = [[101, 7, 8, 9, 102], [101, 7, 102], [101, 102]]
    input_ids, mask = padded_batch(tokenizer, ids, [1, 2, 0])
    pad = tokenizer.pad_token_id
    assert input_ids.tolist() == [[101, 7, 102, pad, pad], [101, 102, pad, pad, pad], [101, 7, 8, 9, 102]]
    assert mask.tolist() == [[1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1]]
    assert str(input_ids.dtype) == "torch.int64" and str(mask.dtype) == "torch.int64"
    assert padded_batch(tokenizer, ids, [2])[0].tolist() == [[101, 102]]  # no padding beyond the batch
