"""``tweetsent predict`` and ``tweetsent explain``: what a model says about any text, and why."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from flows.cli.common import JsonOpt, load_settings, print_json, print_table, terminal_text

ModelOpt = Annotated[str | None, typer.Option("--model", help="A model version (v7 or 7) or a model folder. Default: the champion.")]


def predict(
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to label; none: one per line on stdin.")] = None,
    model: ModelOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Label and class probabilities of each text, cleaned as at ingest (the score scoring would store)."""
    from sentiment.usecases.predicting import predict as run

    lines = list(texts) if texts else [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not lines:
        raise typer.BadParameter("give texts as arguments or one per line on stdin")
    results = run(lines, model, load_settings())
    if json_out:
        print_json(results)
        return
    labels = list(results[0]["probabilities"])
    print_table([{"label": r["label"], **{f"p_{lab}": f"{r['probabilities'][lab]:.4f}" for lab in labels}, "text": r["text"]} for r in results],
                ["label", *[f"p_{lab}" for lab in labels], "text"])


def _bar(value: float, scale: float) -> str:
    width = int(round(abs(value) / scale * 20)) if scale else 0
    return ("+" if value > 0 else "-") * width


def explain(
    text: Annotated[str, typer.Argument(help="The text to explain.")],
    model: ModelOpt = None,
    steps: Annotated[int, typer.Option(help="Integrated-Gradients steps (more: smaller convergence delta).")] = 64,
    html: Annotated[str | None, typer.Option(help="Also write a self-contained HTML page with the words highlighted.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Which words pushed the model to its label: Integrated-Gradients attributions per word and class (Captum)."""
    from sentiment.usecases.predicting import explain as run

    result = run(text, model, load_settings(), n_steps=steps)
    if html:
        from sentiment.reporting.explain_html import explanation_html

        with open(html, "w", encoding="utf-8") as handle:
            handle.write(explanation_html(result))
    if json_out:
        print_json(result)
        return
    label = result["label"]
    probs = ", ".join(f"{lab} {p:.3f}" for lab, p in result["probabilities"].items())
    typer.echo(f"{result['model']}: {label} ({probs})\nmodel read: {terminal_text(result['text'])}")
    scale = max((abs(w[label]) for w in result["words"]), default=1.0)
    print_table([{"word": w["word"], f"towards {label}": f"{w[label]:+.4f}", "": _bar(w[label], scale)} for w in result["words"]], ["word", f"towards {label}", ""])
    total = result["attribution_sum"][label]
    diff = result["logit"][label] - result["baseline_logit"][label]
    typer.echo(f"sum of attributions {total:+.4f} = logit {result['logit'][label]:+.4f} - baseline logit {result['baseline_logit'][label]:+.4f} ({diff:+.4f}), convergence delta {result['delta'][label]:.2g}")
    for lab, top in result["top"].items():
        towards = ", ".join(f"{w} {a:+.3f}" for w, a in top["towards"]) or "-"
        away = ", ".join(f"{w} {a:+.3f}" for w, a in top["away"]) or "-"
        typer.echo(f"  {lab:<9} towards: {towards}   away: {away}")
