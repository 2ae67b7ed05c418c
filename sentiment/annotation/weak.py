"""Weak labels from unambiguous emoticons and emoji (the Sentiment140 method, Go et al. 2009).

A tweet whose only sentiment marks are positive (``:)``, ``:-)``, ``:D``, ``=)``, ``<3``, 😀 😊 😍 👍
❤️ ...) gets the weak label ``positive``; only negative ones (``:(``, ``:-(``, ``:'(``, 😠 😢 😭 👎 💔
...) ``negative``; both or neither, nothing. Never ``neutral``: an emoticon says nothing about
neutrality. Sarcasm (``great, another delay :)``) is the known weakness, which is why weak labels
never test or validate and train only with ``TWEETSENT_WEAK_LABEL_WEIGHT`` (default 0: off).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import Engine, exists, select

from sentiment.clock import utcnow
from sentiment.store import bulk_insert, labels, tweets, write_transaction

POSITIVE_EMOTICONS = r"(?:[:=;]-?[)\]D]|:\s\)|\(-?[:=]|<3)"
NEGATIVE_EMOTICONS = r"(?:[:=]'?-?[(\[]|:\s\(|\)-?:|</3)"
POSITIVE_EMOJI = "😀😃😄😁😆😊🙂😍🥰😘😻👍👏🎉🙌💯🤩😎❤💕💖💗💙💚💛💜🧡"
NEGATIVE_EMOJI = "😠😡🤬😢😭😞😔😟😩😫😤☹🙁👎💔🤮🤢😒😑"
_POS = re.compile(rf"(?<![\w/]){POSITIVE_EMOTICONS}(?![\w/])|[{POSITIVE_EMOJI}]")
_NEG = re.compile(rf"(?<![\w/]){NEGATIVE_EMOTICONS}(?![\w/])|[{NEGATIVE_EMOJI}]")


def weak_label(text: str) -> str | None:
    """``positive``, ``negative`` or None (no mark, or marks of both kinds)."""
    positive, negative = bool(_POS.search(text)), bool(_NEG.search(text))
    if positive == negative:
        return None
    return "positive" if positive else "negative"


def label_weak(engine: Engine, label_names: Sequence[str], chunk: int = 20_000) -> Counter:
    """Give weak labels to unlabelled tweets with unambiguous marks; counts by label (and
    ``ambiguous`` / ``none``). Needs ``positive`` and ``negative`` among the label names."""
    wanted = {"positive", "negative"} & set(label_names)
    counts: Counter = Counter()
    if not wanted:
        return counts
    unlabelled = ~exists().where(labels.c.tweet_id == tweets.c.id)
    now = utcnow()
    with engine.connect() as conn:
        rows = conn.execute(select(tweets.c.id, tweets.c.text).where(unlabelled).order_by(tweets.c.id)).all()
    new = []
    for tid, text in rows:
        label = weak_label(text)
        if label in wanted:
            new.append({"tweet_id": tid, "label": label, "origin": "weak", "batch_id": None, "labeled_at": now})
            counts[label] += 1
        else:
            counts["none"] += 1
    with write_transaction(engine) as conn:
        bulk_insert(conn, labels, new, chunk)
    return counts
