"""``predict`` and ``explain``: what a model says about any text, the way scoring says it.

The text is cleaned exactly as at ingest (:func:`sentiment.data.cleaning.clean_texts`) and the
model is loaded the way the nightly scoring loads it (same precision and quantization settings),
so ``predict`` gives the score stored for the same tweet. ``model``: ``None`` (the champion),
``"vN"`` / ``N`` (a model version) or a model folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sentiment.errors import NotFound, UserError
from sentiment.settings import Settings
from sentiment.store import open_db, registry


def model_folder(model: str | int | None, settings: Settings) -> tuple[str, str]:
    """(folder, name) of ``model``: the champion, a version (``v7``, ``7``) or a folder."""
    if model is None or str(model).strip() == "":
        champion = registry.champion(open_db(settings), settings.label_set)
        if champion is None:
            raise NotFound(f"labels {settings.label_set}", "no champion model yet", hint="run `tweetsent train`, or give --model vN or a folder")
        return champion["artifact_path"], f"v{champion['id']}"
    text = str(model).strip()
    if text.lower().lstrip("v").isdigit():
        version = registry.get_version(open_db(settings), int(text.lower().lstrip("v")))
        return version["artifact_path"], f"v{version['id']}"
    if not Path(text).is_dir():
        raise UserError(f"--model {text}", "not a model version (vN) and not a folder")
    return text, text


def predict(texts: Sequence[str], model: str | int | None = None, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Label and probabilities of each text, as scoring would store them."""
    from sentiment.data.cleaning import clean_texts
    from sentiment.model.scoring import cached_classifier, scoring_threads

    settings = settings or Settings()
    folder, name = model_folder(model, settings)
    classifier = cached_classifier(folder, settings.device, settings.quantize, scoring_threads(settings.score_threads, 1), settings.precision)
    cleaned = clean_texts(list(texts))
    probs = classifier.predict_proba([c or " " for c in cleaned]) if cleaned else []
    labels = classifier.labels
    out = []
    for text, clean, row in zip(texts, cleaned, probs):
        best = int(row.argmax())
        out.append({"text": text, "clean_text": clean, "label": labels[best], "confidence": round(float(row[best]), 6),
                    "probabilities": {lab: round(float(p), 6) for lab, p in zip(labels, row)}, "model": name})
    return out


def explain(text: str, model: str | int | None = None, settings: Settings | None = None, n_steps: int = 64) -> dict[str, Any]:
    """Integrated-Gradients word attributions of every class for ``text`` (see
    :mod:`sentiment.model.explain`), with the prediction and the convergence delta."""
    from sentiment.data.cleaning import clean_texts
    from sentiment.model.explain import explain_text
    from sentiment.model.scoring import load_classifier

    settings = settings or Settings()
    folder, name = model_folder(model, settings)
    classifier = load_classifier(folder, device="cpu", quantize="off", precision="fp32")
    (clean,) = clean_texts([text])
    if not clean:
        raise UserError("explain", "the text is empty after cleaning")
    result = explain_text(classifier, clean, n_steps).to_dict()
    return {"model": name, "input": text, **result}
