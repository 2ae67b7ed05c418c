"""The report sections that audit a version (issue 17): against the champion, slices, behavioural
tests, errors with word attributions, the global explanation and calibration; rendered from what
the evaluation stored in the version's metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sentiment.reporting.metrics import Metrics, _bold, _Markdown, _table


def _highlight(words: Sequence[Sequence[Any]], top: int = 3) -> str:
    """The tweet's words, the ``top`` pushing hardest towards the (wrong) label in bold."""
    strongest = {i for i, _ in sorted(enumerate(words), key=lambda p: -p[1][1])[:top] if words[i][1] > 0}
    return " ".join(f"**{w}**" if i in strongest else str(w) for i, (w, _) in enumerate(words)).replace("|", "/")


def _errors_markdown(errors: Mapping[str, Any]) -> str:
    out = ["## Errors"]
    if errors.get("confusion_pairs"):
        out += ["The most frequent confusions:", _table(["true", "predicted", "tweets", "share of errors"],
                [[p["true"], p["predicted"], f"{p['tweets']:,}", f"{p['share_of_errors']:.1%}"] for p in errors["confusion_pairs"]], ["---", "---", "---:", "---:"])]
    if errors.get("confident_mistakes"):
        out += ["The most confident mistakes; in bold the words that pushed hardest towards the wrong label (Integrated Gradients):",
                _table(["true", "predicted", "confidence", "tweet (as the model read it)"],
                       [[m["true"], m["predicted"], f"{m['confidence']:.3f}", _Markdown(_highlight(m["words"]))] for m in errors["confident_mistakes"]],
                       ["---", "---", "---:", "---"])]
    overview = errors.get("global")
    if overview:
        rows = [[label, ", ".join(f"{w['word']} ({w['mean_attribution']:+.2f})" for w in words) or "–"] for label, words in overview["top_words"].items()]
        out += ["## Global explanation", f"Words with the largest mean attribution towards each predicted class, over {overview['tweets_explained']} test tweets "
                f"(Integrated Gradients, {overview['steps']} steps; words seen in at least 3 of them):", _table(["class", "words"], rows, ["---", "---"])]
    return "\n\n".join(str(p) for p in out)


def audit_sections(metrics: Metrics, quality: Mapping[str, Any]) -> list[str]:
    f3 = "{:.3f}".format
    parts: list[str] = []
    against = (quality or {}).get("against_champion")
    if against:
        boot, test = against["bootstrap"], against["mcnemar"]
        parts += [
            "## Against the champion",
            f"On the same {against['n']:,} frozen test tweets as champion v{against['champion_id']}:",
            _table(
                ["macro-F1 difference", "paired bootstrap 95% CI", "only this model right", "only the champion right", "McNemar p", "verdict"],
                [[f"{boot['difference']:+.4f}", f"{boot['low']:+.4f} … {boot['high']:+.4f}", test["only_candidate_right"], test["only_champion_right"],
                  f"{test['p_value']:.3g} ({test['method']})", _bold("within noise") if against["within_noise"] else "beyond noise"]],
                ["---:", "---", "---:", "---:", "---", "---"],
            ),
        ]
    slices = (quality or {}).get("slices")
    if slices:
        rows = [
            [r["group"], _bold(r["slice"]) if r["worst"] else r["slice"], f"{r['n']:,}", f3(r["macro_f1"]),
             "–" if r["low"] is None else f"{f3(r['low'])} … {f3(r['high'])}", "worst" if r["worst"] else ""]
            for r in slices
        ]
        parts += [
            "## Slices",
            f"Macro-F1 per slice of the test set with a bootstrap 95% interval (none under 30 tweets); **worst** slices flagged "
            f"(interval below the overall {f3(metrics.macro_f1)}, or the three lowest).",
            _table(["group", "slice", "tweets", "macro-F1", "95% interval", ""], rows, ["---", "---", "---:", "---:", "---", "---"]),
        ]
    behaviour = (quality or {}).get("behaviour")
    if behaviour and behaviour.get("tests"):
        rows = [[t["test"], t["kind"], f"{t['cases']:,}", f"{t['pass_rate']:.1%}",
                 "; ".join(str(next(iter(f.values()))) for f in t.get("failures", [])[:2])[:160]] for t in behaviour["tests"]]
        parts += ["## Behavioural tests", "CheckList-style tests, run on every version (pass rate: the share of cases where the model behaves).",
                  _table(["test", "kind", "cases", "pass rate", "failing examples"], rows, ["---", "---", "---:", "---:", "---"])]
        bias = next((t for t in behaviour["tests"] if t["kind"] == "bias"), None)
        if bias and bias.get("positive_share_by_airline"):
            parts.append("Positive share when the same tweets name each airline: " + ", ".join(f"{a} {v:.1%}" for a, v in bias["positive_share_by_airline"].items()) + ".")
    errors = (quality or {}).get("errors")
    if errors:
        parts.append(_errors_markdown(errors))
    calibration = (quality or {}).get("calibration")
    if calibration and "test_ece_after" in calibration:
        parts += [
            "## Calibration",
            f"Temperature scaling (T = {calibration.get('temperature', 1.0):.3f}, fitted on the validation split) is applied when scoring, "
            "so the stored probabilities are the calibrated ones; predictions do not change. Expected calibration error (15 bins):",
            _table(
                ["", "raw", "temperature-scaled"],
                [["validation", f"{calibration.get('val_ece_before', float('nan')):.4f}", f"{calibration.get('val_ece_after', float('nan')):.4f}"],
                 ["test", f"{calibration['test_ece_before']:.4f}", f"{calibration['test_ece_after']:.4f}"]],
                ["---", "---:", "---:"],
            ),
        ]
    return parts
