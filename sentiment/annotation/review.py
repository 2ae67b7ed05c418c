"""Gold labels that are likely wrong (confident learning, cleanlab's ``find_label_issues``).

The probabilities come from **out-of-fold** predictions: a TF-IDF (words and character n-grams) +
logistic regression model is fitted on four fifths of the gold-labelled tweets and predicts the
fifth it has not seen, five times over. Never the champion's own predictions: it was trained on
most of these tweets and has learned their labels, wrong ones included, so it would vouch for them.
Issues are ranked by self-confidence (the out-of-fold probability of the given label, lowest
first); ``tweetsent label review`` sends the top N to annotators by the usual export path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

FOLDS = 5


def out_of_fold_probabilities(texts: Sequence[str], given: Sequence[str], label_names: Sequence[str], seed: int = 13) -> np.ndarray:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    y = np.array([list(label_names).index(g) for g in given])
    probs = np.zeros((len(texts), len(label_names)))
    texts = list(texts)
    folds = StratifiedKFold(n_splits=min(FOLDS, int(np.bincount(y).min())), shuffle=True, random_state=seed)
    for train, held in folds.split(texts, y):
        words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=200_000)
        fit = [texts[i] for i in train]
        x_train = hstack([words.fit_transform(fit), chars.fit_transform(fit)]).tocsr()
        held_texts = [texts[i] for i in held]
        x_held = hstack([words.transform(held_texts), chars.transform(held_texts)]).tocsr()
        model = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced").fit(x_train, y[train])
        probs[np.ix_(held, model.classes_)] = model.predict_proba(x_held)
    return probs


def find_suspect_labels(rows: Sequence[dict[str, Any]], label_names: Sequence[str], seed: int = 13) -> list[dict[str, Any]]:
    """The gold-labelled ``rows`` (tweet_id, clean_text, label) whose label is likely wrong, most
    suspect first, each with the out-of-fold probabilities and the label they suggest."""
    from cleanlab.filter import find_label_issues

    if len(rows) < 10 * len(label_names):
        return []
    given = [r["label"] for r in rows]
    probs = out_of_fold_probabilities([r["clean_text"] for r in rows], given, label_names, seed)
    y = np.array([list(label_names).index(g) for g in given])
    ranked = find_label_issues(labels=y, pred_probs=probs, return_indices_ranked_by="self_confidence")
    out = []
    for i in ranked:
        p = probs[i]
        out.append({
            **rows[i],
            "suggested": label_names[int(p.argmax())],
            "given_probability": round(float(p[y[i]]), 4),
            "probabilities": {name: round(float(v), 4) for name, v in zip(label_names, p)},
        })
    return out
