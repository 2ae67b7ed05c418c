"""File inputs: which files to read, their fingerprints, and which layout each one has.

A path given to ingest may be a file or a folder; :func:`plan_inputs` turns paths into
:class:`FileInput` objects (pairing a TweetEval ``*_text.txt`` with its ``*_labels.txt``), and
:func:`detect_format` names the layout of a file from its content, not its name:

- ``airline``: the Twitter US Airline Sentiment CSV (tweet_id, airline_sentiment, ..., text, tweet_created)
- ``sentiment140``: the Sentiment140 CSV (no header: polarity 0/2/4, id, date, query, user, text; often Latin-1)
- ``tweeteval``: a TweetEval ``*_text.txt`` + ``*_labels.txt`` pair (labels 0/1/2, ``mapping.txt`` if present)
- ``x_api``: X API v2 search responses (``{"data": [...], "includes": {"users": [...]}}``), one
  document or one response per line
- ``generic_csv`` / ``generic_jsonl``: CSV or JSON Lines with ``id`` and ``text`` columns, optionally
  ``created_at``, ``label``, ``author``, ``lang``, ``topic``

README "Input files" describes them for users. Reading each layout into records is
:mod:`sentiment.data.sources.file_readers`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from sentiment.errors import UserError

# Tweet CSVs can hold very long fields, over the csv module's default limit (128 KiB). The
# setting is process-wide, so it also covers the readers in file_readers (which import this).
csv.field_size_limit(16 * 1024 * 1024)


class InputError(UserError):
    """A file that cannot be read at all: the message names the file and the problem."""

    def __init__(self, what: str, problem: str | None = None, hint: str | None = None) -> None:
        if problem is None:  # InputError("<file>: <problem>")
            what, _, problem = str(what).partition(": ")
        super().__init__(what, problem, hint)


SENTIMENT140_LABELS = {"0": "negative", "2": "neutral", "4": "positive"}
AIRLINE_COLUMNS = ("tweet_id", "airline_sentiment", "text", "tweet_created")
GENERIC_ALIASES = {
    "id": ("id", "tweet_id", "id_str", "status_id"),
    "text": ("text", "tweet", "full_text", "content"),
    "created_at": ("created_at", "date", "timestamp", "tweet_created", "time"),
    "label": ("label", "sentiment", "airline_sentiment", "polarity"),
    "author": ("author", "user", "username", "screen_name", "author_id"),
    "lang": ("lang", "language"),
    "topic": ("topic", "airline", "query"),
}
_S140_DATE = re.compile(r"^\w{3} \w{3} \d{1,2} \d{2}:\d{2}:\d{2} [A-Z]{1,4} \d{4}$")
DATASET_HELPER_FILES = {"mapping.txt", "README.txt", "readme.txt"}
TEXT_SUFFIXES = {".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".txt"}


@dataclass(frozen=True)
class FileInput:
    """One input to ingest: a file, or a TweetEval text file with its labels file."""

    path: Path
    labels_path: Path | None = None
    mapping_path: Path | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.path, self.labels_path) if p is not None)

    @property
    def origin(self) -> str:
        return " + ".join(str(p) for p in self.paths)


def fingerprint_of(input: FileInput) -> str:
    """sha256 over the bytes of every file of the input: same content, same fingerprint."""
    digest = hashlib.sha256()
    for path in input.paths:
        try:
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return "sha256:" + digest.hexdigest()


def plan_inputs(paths: list[Path]) -> list[FileInput]:
    """Expand folders and pair TweetEval files; raise InputError for paths that do not exist."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES))
        else:
            files.append(path)
    inputs: list[FileInput] = []
    seen: set[Path] = set()
    for path in files:
        if path in seen:
            continue
        name = path.name
        if name.endswith("_text.txt") or name.endswith("_labels.txt"):
            stem = name.rsplit("_", 1)[0]
            text_path = path.with_name(f"{stem}_text.txt")
            labels_path = path.with_name(f"{stem}_labels.txt")
            if not text_path.exists():
                raise InputError(f"{path}: TweetEval labels file without its texts ({text_path.name} is missing)")
            mapping = path.with_name("mapping.txt")
            inputs.append(
                FileInput(text_path, labels_path if labels_path.exists() else None, mapping if mapping.exists() else None)
            )
            seen.update({text_path, labels_path})
            continue
        if path.name in DATASET_HELPER_FILES and path not in paths:
            continue  # found by expanding a folder: describes the dataset, holds no tweets
        inputs.append(FileInput(path))
        seen.add(path)
    return inputs


def _first_line(text: str) -> str:
    end = text.find("\n")
    return text if end < 0 else text[:end]


def detect_format(input: FileInput, text: str) -> str:
    """Name the layout of a file from its content (not its name)."""
    if input.labels_path is not None or input.path.name.endswith("_text.txt"):
        return "tweeteval"
    stripped = text.lstrip()
    if not stripped:
        raise InputError(f"{input.path}: the file is empty")
    if stripped[0] in "{[":
        return _detect_json(input.path, stripped)
    header = next(csv.reader([_first_line(text)]), [])
    columns = [c.strip().lower() for c in header]
    if all(c in columns for c in AIRLINE_COLUMNS):
        return "airline"
    if len(header) == 6 and header[0].strip() in SENTIMENT140_LABELS and _S140_DATE.match(header[2].strip()):
        return "sentiment140"
    if any(c in columns for c in GENERIC_ALIASES["text"]):
        return "generic_csv"
    raise InputError(
        f"{input.path}: unknown layout; found columns {header[:12]}. Expected the airline CSV "
        f"({', '.join(AIRLINE_COLUMNS)}), Sentiment140 (no header: polarity,id,date,query,user,text), "
        "a TweetEval *_text.txt/*_labels.txt pair, X API v2 JSON, or a CSV/JSONL with id,text[,created_at,label]"
    )


def _detect_json(path: Path, stripped: str) -> str:
    try:
        doc = json.loads(stripped)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict):
        if isinstance(doc.get("data"), list):
            return "x_api"
        if "text" in doc:
            return "generic_jsonl"  # a one-line JSON Lines file
        raise InputError(f"{path}: JSON without a 'data' list (X API v2) or 'text' field; found keys {sorted(doc)[:12]}")
    if isinstance(doc, list):
        raise InputError(f"{path}: a JSON array is not supported; write one JSON object per line (JSON Lines)")
    try:
        first = json.loads(_first_line(stripped))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: neither JSON nor JSON Lines: first line: {exc}") from exc
    if isinstance(first, dict) and isinstance(first.get("data"), list):
        return "x_api"
    if isinstance(first, dict) and any(k in first for k in GENERIC_ALIASES["text"]):
        return "generic_jsonl"
    keys = sorted(first)[:12] if isinstance(first, dict) else type(first).__name__
    raise InputError(f"{path}: JSON Lines without a text field; found keys {keys}")
