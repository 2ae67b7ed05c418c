"""A self-contained HTML page of one explanation: the words shaded by their attribution."""

from __future__ import annotations

import html
from typing import Any


def explanation_html(result: dict[str, Any]) -> str:
    label = result["label"]
    scale = max((abs(w[label]) for w in result["words"]), default=1.0) or 1.0
    spans = []
    for w in result["words"]:
        a = w[label] / scale
        color = f"rgba(0,128,0,{a:.2f})" if a > 0 else f"rgba(200,0,0,{-a:.2f})"
        spans.append(f'<span title="{w[label]:+.4f}" style="background:{color};padding:2px;border-radius:3px">{html.escape(w["word"])}</span>')
    probs = "".join(f"<li>{html.escape(k)}: {v:.3f}</li>" for k, v in result["probabilities"].items())
    rows = "".join(
        f"<tr><td>{html.escape(lab)}</td><td>{html.escape(', '.join(f'{w} {a:+.3f}' for w, a in top['towards']))}</td>"
        f"<td>{html.escape(', '.join(f'{w} {a:+.3f}' for w, a in top['away']))}</td></tr>"
        for lab, top in result["top"].items()
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Why {html.escape(label)}?</title>
<style>body{{font-family:sans-serif;max-width:52em;margin:2em auto}}td,th{{border:1px solid #ccc;padding:4px 8px}}table{{border-collapse:collapse}}</style></head>
<body><h1>{html.escape(result['model'])}: {html.escape(label)}</h1><p>{html.escape(result['input'])}</p>
<p style="font-size:1.3em;line-height:2">{' '.join(spans)}</p>
<p>Green pushes towards <b>{html.escape(label)}</b>, red away from it (Integrated Gradients; convergence delta {result['delta'][label]:.2g}).</p>
<ul>{probs}</ul><table><tr><th>class</th><th>words towards</th><th>words away</th></tr>{rows}</table></body></html>
"""
