import math

import pytest

from sentiment.data.rebalance import class_weights, natural_prior, prior_offsets, rebalance, trained_prior

LABELS = ("negative", "neutral", "positive")
ROWS = [{"tweet_id": f"{label}{i}", "label": label} for label, n in (("negative", 6), ("neutral", 3), ("positive", 1)) for i in range(n)]


def test_undersample_cuts_every_class_to_the_smallest():
    out = rebalance(ROWS, LABELS, "undersample", seed=1)
    assert out.after == {"negative": 1, "neutral": 1, "positive": 1}
    assert out.before == {"negative": 6, "neutral": 3, "positive": 1}
    assert out.class_weights is None
    assert len({r["tweet_id"] for r in out.rows}) == 3


def test_oversample_repeats_up_to_the_largest():
    out = rebalance(ROWS, LABELS, "oversample", seed=1)
    assert out.after == {"negative": 6, "neutral": 6, "positive": 6}
    assert {r["tweet_id"] for r in out.rows if r["label"] == "negative"} == {f"negative{i}" for i in range(6)}


def test_class_weights_keep_all_data_and_weight_inversely():
    out = rebalance(ROWS, LABELS, "class-weights", seed=1)
    assert len(out.rows) == 10
    assert out.class_weights == pytest.approx([10 / 18, 10 / 9, 10 / 3])
    assert class_weights(ROWS, LABELS)[2] > class_weights(ROWS, LABELS)[0]


def test_sqrt_class_weights_sit_between_plain_and_full_weights():
    out = rebalance(ROWS, LABELS, "sqrt-class-weights", seed=1)
    assert len(out.rows) == 10 and out.strategy == "sqrt-class-weights"
    assert out.class_weights == pytest.approx([(10 / 18) ** 0.5, (10 / 9) ** 0.5, (10 / 3) ** 0.5])
    full = class_weights(ROWS, LABELS)
    assert full[0] < out.class_weights[0] < 1 < out.class_weights[2] < full[2]


def test_seeded_and_input_untouched():
    before = list(ROWS)
    a = rebalance(ROWS, LABELS, "undersample", seed=7)
    b = rebalance(ROWS, LABELS, "undersample", seed=7)
    assert [r["tweet_id"] for r in a.rows] == [r["tweet_id"] for r in b.rows]
    assert ROWS == before


def test_undersampling_draws_anew_for_every_epoch_and_each_draw_is_balanced():
    out = rebalance(ROWS, LABELS, "undersample", seed=7, epochs=4)
    assert out.source == ROWS and len(out.epoch_draws) == 4
    for draw in out.epoch_draws:
        assert sorted(out.source[i]["label"] for i in draw) == ["negative", "neutral", "positive"]
    # epoch 1 is the single draw; the later draws pick other majority-class tweets
    assert [out.source[i] for i in out.epoch_draws[0]] == out.rows == rebalance(ROWS, LABELS, "undersample", seed=7).rows
    assert len({tuple(sorted(d)) for d in out.epoch_draws}) > 1
    assert out.distinct_tweets > 3 == rebalance(ROWS, LABELS, "undersample", seed=7).distinct_tweets
    assert out.epoch_draws == rebalance(ROWS, LABELS, "undersample", seed=7, epochs=4).epoch_draws  # seeded


def test_one_draw_for_all_epochs_and_the_weighted_strategies_have_no_draws():
    assert rebalance(ROWS, LABELS, "undersample", seed=7, epochs=4, resample_each_epoch=False).epoch_draws is None
    assert rebalance(ROWS, LABELS, "class-weights", seed=7, epochs=4).epoch_draws is None
    over = rebalance(ROWS, LABELS, "oversample", seed=7, epochs=2)
    assert [len(d) for d in over.epoch_draws] == [18, 18]
    assert over.distinct_tweets == 10 and rebalance(ROWS, LABELS, "oversample", seed=7).distinct_tweets == 10


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="unknown rebalancing strategy 'smote'"):
        rebalance(ROWS, LABELS, "smote", seed=1)
    with pytest.raises(ValueError, match="no labelled tweets of class positive"):
        rebalance([r for r in ROWS if r["label"] != "positive"], LABELS, "undersample", seed=1)
    with pytest.raises(ValueError, match="label 'angry'"):
        rebalance(ROWS + [{"tweet_id": "x", "label": "angry"}], LABELS, "undersample", seed=1)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        rebalance(ROWS, LABELS, "undersample", seed=1, epochs=0)


@pytest.mark.parametrize("strategy", ["undersample", "oversample", "class-weights"])
def test_balanced_strategies_train_on_a_uniform_mix_and_offsets_restore_the_natural_one(strategy):
    out = rebalance(ROWS, LABELS, strategy, seed=1)
    assert trained_prior(out, LABELS) == pytest.approx([1 / 3] * 3)
    assert natural_prior(out, LABELS) == pytest.approx([0.6, 0.3, 0.1])
    offsets = prior_offsets(out, LABELS)
    assert sum(offsets) == pytest.approx(0)
    # uniform scores shifted by the offsets are the natural prior again
    assert softmax(offsets) == pytest.approx([0.6, 0.3, 0.1])


def test_sqrt_weights_are_corrected_half_way():
    out = rebalance(ROWS, LABELS, "sqrt-class-weights", seed=1)
    full = prior_offsets(rebalance(ROWS, LABELS, "class-weights", seed=1), LABELS)
    half = prior_offsets(out, LABELS)
    assert half == pytest.approx([f / 2 for f in full])
    assert trained_prior(out, LABELS)[0] < 0.6 and trained_prior(out, LABELS)[2] > 0.1


def softmax(values):
    exps = [math.exp(v) for v in values]
    return [e / sum(exps) for e in exps]
