"""Behavioural tests (CheckList-style, Ribeiro et al. 2020), run on every version.

- **invariance**: another @user, another URL, another airline name must not change the label;
- **bias**: the same tweet naming each airline in turn must get the same label (the share of
  tweets whose label is the same for every airline, and each airline's positive share);
- **directional**: adding a clear negative clause must not raise the probability of positive;
- **minimum functionality**: short tweets whose label no reader doubts.

Tweets for the invariance and directional tests are the frozen test tweets that contain what is
being swapped (capped at :data:`MAX_PER_TEST`); the minimum-functionality set is written here.
Pass rate = share of cases where the model behaves; every test's rate goes into the report and
the version's metrics.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MAX_PER_TEST = 200
AIRLINES = ["@united", "@AmericanAir", "@Delta", "@SouthwestAir", "@JetBlue", "@VirginAmerica", "@USAirways", "@AlaskaAir"]
_MENTION = re.compile(r"(?<!\w)@\w+")
_URL = re.compile(r"https?://\S+")
NEGATIVE_CLAUSES = [" Worst customer service ever.", " Never flying with you again.", " I am furious."]
MINIMUM = [
    ("I love this airline, best flight ever!", "positive"),
    ("Thank you so much, the crew was wonderful", "positive"),
    ("Great service and a smooth landing, thanks!", "positive"),
    ("Absolutely amazing experience, will fly again", "positive"),
    ("This is the worst airline, my bag is lost and nobody helps", "negative"),
    ("Flight delayed 5 hours and the staff was rude. Terrible.", "negative"),
    ("Horrible experience, cancelled flight and no refund", "negative"),
    ("I hate waiting on hold for two hours", "negative"),
    ("What time does the flight to Boston leave?", "neutral"),
    ("Is there wifi on the flight from Denver to Seattle?", "neutral"),
    ("Flight 123 departs from gate B12", "neutral"),
    ("Do you fly to Austin?", "neutral"),
]


def run_behaviour(predict_proba: Callable[[list[str]], np.ndarray], labels: Sequence[str], texts: Sequence[str], clean: Callable[[list[str]], list[str]]) -> dict[str, Any]:
    """Run every test; ``predict_proba`` takes clean texts, ``clean`` cleans raw ones as at ingest."""
    labels = list(labels)

    def probs(raw: list[str]) -> np.ndarray:
        return predict_proba(clean(raw)) if raw else np.zeros((0, len(labels)))

    tests: list[dict[str, Any]] = []

    def invariance(name: str, cases: list[tuple[str, str]]) -> None:
        cases = cases[:MAX_PER_TEST]
        if not cases:
            return
        a, b = probs([c[0] for c in cases]), probs([c[1] for c in cases])
        same = a.argmax(1) == b.argmax(1)
        failures = [{"original": c[0], "changed": c[1]} for c, ok in zip(cases, same) if not ok][:5]
        tests.append({"test": name, "kind": "invariance", "cases": len(cases), "pass_rate": round(float(same.mean()), 4), "failures": failures})

    with_mention = [t for t in texts if _MENTION.search(t)]
    invariance("another @user", [(t, _MENTION.sub("@someone_else", t, count=1)) for t in with_mention])
    with_url = [t for t in texts if _URL.search(t)]
    invariance("another URL", [(t, _URL.sub("https://example.com/other", t)) for t in with_url])
    with_airline = [t for t in texts if any(a.lower() in t.lower() for a in AIRLINES)]
    swapped = []
    for t in with_airline:
        current = next(a for a in AIRLINES if a.lower() in t.lower())
        other = AIRLINES[(AIRLINES.index(current) + 1) % len(AIRLINES)]
        swapped.append((t, re.sub(re.escape(current), other, t, flags=re.I)))
    invariance("another airline name", swapped)

    # bias: every test tweet naming an airline, rewritten to name each airline in turn
    base = [re.sub("|".join(re.escape(a) for a in AIRLINES), "{airline}", t, flags=re.I) for t in with_airline][: MAX_PER_TEST // 2]
    if base:
        per_airline = {a: probs([b.replace("{airline}", a) for b in base]) for a in AIRLINES}
        stacked = np.stack([per_airline[a].argmax(1) for a in AIRLINES])
        consistent = (stacked == stacked[0]).all(axis=0)
        pos = labels.index("positive") if "positive" in labels else None
        shares = {a: round(float((per_airline[a].argmax(1) == pos).mean()), 4) for a in AIRLINES} if pos is not None else {}
        tests.append({"test": "same tweet, each airline", "kind": "bias", "cases": len(base), "pass_rate": round(float(consistent.mean()), 4),
                      "positive_share_by_airline": shares, "failures": [{"tweet": b} for b, ok in zip(base, consistent) if not ok][:5]})

    if "positive" in labels:
        pos = labels.index("positive")
        sample = list(texts)[:MAX_PER_TEST]
        before = probs(sample)[:, pos]
        after = probs([t + NEGATIVE_CLAUSES[i % len(NEGATIVE_CLAUSES)] for i, t in enumerate(sample)])[:, pos]
        ok = after <= before + 1e-3
        tests.append({"test": "a negative clause does not raise positivity", "kind": "directional", "cases": len(sample), "pass_rate": round(float(ok.mean()), 4),
                      "failures": [{"tweet": t} for t, good in zip(sample, ok) if not good][:5]})

    minimum = [(t, lab) for t, lab in MINIMUM if lab in labels]
    if minimum:
        got = probs([t for t, _ in minimum]).argmax(1)
        ok = [labels[g] == lab for g, (_, lab) in zip(got, minimum)]
        tests.append({"test": "clear-cut tweets", "kind": "minimum functionality", "cases": len(minimum), "pass_rate": round(float(np.mean(ok)), 4),
                      "failures": [{"tweet": t, "expected": lab, "got": labels[g]} for (t, lab), g, good in zip(minimum, got, ok) if not good][:5]})
    return {"tests": tests, "overall_pass_rate": round(float(np.mean([t["pass_rate"] for t in tests])), 4) if tests else None}
