"""Label Studio's file formats, and a CSV for people without it.

Out (``tweetsent label export``): the task import JSON (``data.text``, ``data.tweet_id``, the
champion's prediction as a pre-annotation with its model version and score), the labelling config
(XML) the tasks go with, and a CSV with an empty ``label`` column.

In (``tweetsent label import``), whatever Label Studio's export produced, found by its shape:

- full JSON: a list of tasks, each with ``annotations`` (``result`` holding a ``choices`` value,
  ``completed_by`` an id or a user object, ``was_cancelled``, ``created_at``);
- JSON-MIN: one flat object per annotation (the task's data fields, the choice under the control's
  name, ``annotator``, ``annotation_id``, ``created_at``); Label Studio leaves cancelled ones out;
- CSV: the JSON-MIN columns (Label Studio's CSV export), or this tool's CSV (``tweet_id``,
  ``label``, optional ``annotator``).

Each answer becomes an :class:`Answer`; one that cannot be used keeps its problems (unknown choice,
empty or cancelled annotation, no tweet id) for quarantine.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.sax.saxutils import quoteattr

from sentiment.data.records import cap_raw, parse_timestamp, safe_dumps

FROM_NAME, TO_NAME = "sentiment", "text"
#: Columns of Label Studio's JSON-MIN/CSV export that are not task data or a control's answer.
MIN_META = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "agreement", "history", "was_cancelled"}
CSV_COLUMNS = ["tweet_id", "text", "predicted", "confidence", "label", "annotator"]


@dataclass
class Answer:
    """One annotator's answer about one tweet."""

    tweet_id: str | None
    label: str | None
    annotator: str
    annotated_at: datetime | None
    ref: str  # unique name of this answer in its source: importing it again is a no-op
    location: str
    raw: str
    problems: list[str] = field(default_factory=list)


def labelling_config(label_names: list[str] | tuple[str, ...]) -> str:
    """The Label Studio labelling config the exported tasks go with."""
    choices = "\n".join(f"    <Choice value={quoteattr(name)}/>" for name in label_names)
    return (
        "<View>\n"
        f'  <Text name="{TO_NAME}" value="$text"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single" showInLine="true">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def task_for(tweet_id: str, text: str, predicted: str | None, confidence: float | None, model_version: str | None) -> dict[str, Any]:
    """One task in Label Studio's import JSON, with the champion's prediction as a pre-annotation."""
    task: dict[str, Any] = {"data": {"text": text, "tweet_id": tweet_id}}
    if predicted is not None:
        task["predictions"] = [
            {
                "model_version": model_version or "tweetsent",
                "score": round(float(confidence or 0.0), 4),
                "result": [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": [predicted]}}],
            }
        ]
    return task


def csv_text(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "label": "", "annotator": ""})
    return out.getvalue()


def _choice(value: Any, label_names: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """(label, problems) of an answer's choice: one of the label names, case-insensitively."""
    if isinstance(value, dict) and "choices" in value:
        value = value["choices"]
    if isinstance(value, str) and value.strip().startswith("{"):
        try:  # Label Studio's CSV writes a multi-choice answer as JSON
            return _choice(json.loads(value), label_names)
        except json.JSONDecodeError:
            pass
    if isinstance(value, list):
        if len(value) != 1:
            return None, [f"{len(value)} choices in one answer (expected one)" if value else "empty annotation (no choice)"]
        value = value[0]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ["empty annotation (no choice)"]
    name = str(value).strip().lower()
    if name not in label_names:
        return None, [f"unknown choice {str(value)[:40]!r} (expected one of {', '.join(label_names)})"]
    return name, []


def _annotator(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("email") or value.get("username") or value.get("id")
    text = "" if value is None else str(value).strip()
    return text[:256] or "unknown"


def _tweet_id(data: Any) -> str | None:
    value = data.get("tweet_id") if isinstance(data, dict) else None
    return str(value).strip() if value not in (None, "") else None


def _when(value: Any) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) else None


def _full(tasks: list[Any], origin: str, label_names: tuple[str, ...]) -> list[Answer]:
    answers = []
    for t, task in enumerate(tasks):
        if not isinstance(task, dict):
            answers.append(Answer(None, None, "unknown", None, f"bad:{origin}:{t}", f"{origin}[{t}]", cap_raw(safe_dumps(task)), ["task is not a JSON object"]))
            continue
        tweet_id = _tweet_id(task.get("data"))
        for a, annotation in enumerate(task.get("annotations") or task.get("completions") or []):
            location = f"{origin}[{t}].annotations[{a}]"
            raw = cap_raw(safe_dumps({"task": task.get("id"), "data": task.get("data"), "annotation": annotation}))
            if not isinstance(annotation, dict):
                answers.append(Answer(tweet_id, None, "unknown", None, f"bad:{origin}:{t}:{a}", location, raw, ["annotation is not a JSON object"]))
                continue
            ref = f"ls:{task.get('id')}:{annotation['id']}" if annotation.get("id") is not None and task.get("id") is not None else "ls:" + hashlib.sha256(raw.encode()).hexdigest()[:32]
            problems: list[str] = []
            label = None
            if annotation.get("was_cancelled") or annotation.get("skipped"):
                problems.append("cancelled annotation (the annotator skipped the task)")
            else:
                values = [r.get("value") for r in annotation.get("result") or [] if isinstance(r, dict) and (r.get("type") == "choices" or r.get("from_name") == FROM_NAME)]
                label, problems = _choice(values[0] if len(values) == 1 else values, label_names) if values else (None, ["empty annotation (no choice)"])
            answers.append(Answer(tweet_id, label, _annotator(annotation.get("completed_by")), _when(annotation.get("created_at")), ref, location, raw, problems))
    return answers


def _answer_key(row: dict[str, Any], label_names: tuple[str, ...]) -> str | None:
    """Which column of a JSON-MIN object or CSV row holds the answer: the control named
    ``sentiment`` (the config this tool writes) or ``label``; else the one column whose value is a
    label name (or a ``{"choices": [...]}``), since a project may name its control otherwise and
    carry more task data (``airline``, ``url``) beside ``text``."""
    for name in (FROM_NAME, "label"):
        if name in row:
            return name
    others = [k for k in row if k not in MIN_META and k not in ("text", "tweet_id", "predicted", "confidence")]

    def looks_like_answer(value: Any) -> bool:
        if isinstance(value, dict):
            return "choices" in value
        if isinstance(value, str) and value.strip().startswith("{"):
            return '"choices"' in value
        return isinstance(value, str) and value.strip().lower() in label_names

    answers = [k for k in others if looks_like_answer(row[k])]
    if len(answers) == 1:
        return answers[0]
    return others[0] if len(others) == 1 else None


def _flat(rows: list[Any], origin: str, label_names: tuple[str, ...]) -> list[Answer]:
    """JSON-MIN objects or CSV rows: one answer each."""
    answers = []
    for i, row in enumerate(rows):
        location = f"{origin}[{i}]" if not origin.endswith(".csv") else f"{origin}:{i + 2}"
        raw = cap_raw(safe_dumps(row))
        if not isinstance(row, dict):
            answers.append(Answer(None, None, "unknown", None, f"bad:{origin}:{i}", location, raw, ["row is not a JSON object"]))
            continue
        tweet_id = _tweet_id(row)
        key = _answer_key(row, label_names)
        if key is None and row.get("annotation_id") in (None, "") and not row.get("was_cancelled"):
            continue  # a task nobody annotated (exported with "all tasks"): not an answer
        if row.get("was_cancelled") in (True, "true", "True"):
            label, problems = None, ["cancelled annotation (the annotator skipped the task)"]
        elif key is None:
            label, problems = None, ["empty annotation (no choice)"]
        else:
            label, problems = _choice(row.get(key), label_names)
        if tweet_id is None:
            problems = ["no tweet_id in the task data (was it exported by tweetsent label export?)", *problems]
        annotation_id = row.get("annotation_id")
        if annotation_id not in (None, "") and row.get("id") not in (None, ""):
            ref = f"ls:{row['id']}:{annotation_id}"
        else:
            ref = "row:" + hashlib.sha256(f"{tweet_id}\x1f{row.get(key)}\x1f{row.get('annotator')}".encode()).hexdigest()[:40]
        answers.append(Answer(tweet_id, label, _annotator(row.get("annotator")), _when(row.get("updated_at") or row.get("created_at")), ref, location, raw, problems))
    return answers


def read_answers(text: str, origin: str, label_names: tuple[str, ...]) -> tuple[list[Answer], str]:
    """The answers in an export (full JSON, JSON-MIN or CSV) and the format's name."""
    stripped = text.lstrip("\ufeff").strip()
    if stripped.startswith("[") or stripped.startswith("{"):
        data = json.loads(stripped)
        if isinstance(data, dict):
            data = data.get("tasks") if isinstance(data.get("tasks"), list) else [data]
        if any(isinstance(t, dict) and ("annotations" in t or "completions" in t) for t in data):
            return _full(data, origin, label_names), "label_studio_json"
        return _flat(data, origin, label_names), "label_studio_json_min"
    rows = list(csv.DictReader(io.StringIO(stripped)))
    return _flat(rows, origin, label_names), "csv"
