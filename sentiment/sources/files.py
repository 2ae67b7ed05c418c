"""File sources: recognise a tweet file by its content and read it into canonical records.

Layouts understood (see README "Input files"):

- ``airline``: the Twitter US Airline Sentiment CSV (tweet_id, airline_sentiment, ..., text, tweet_created)
- ``sentiment140``: the Sentiment140 CSV (no header: polarity 0/2/4, id, date, query, user, text; often Latin-1)
- ``tweeteval``: a TweetEval ``*_text.txt`` + ``*_labels.txt`` pair (labels 0/1/2, ``mapping.txt`` if present)
- ``x_api``: X API v2 search responses (``{"data": [...], "includes": {"users": [...]}}``), one
  document or one response per line
- ``generic``: CSV or JSON Lines with ``id`` and ``text`` columns, optionally ``created_at``, ``label``,
  ``author``, ``lang``, ``topic``

Bytes that are not UTF-8 are kept (``surrogateescape``) so the row they are in can be quarantined
with its reason instead of failing the whole file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment.records import SourceBatch, make_record

csv.field_size_limit(16 * 1024 * 1024)


class InputError(ValueError):
    """A file that cannot be read at all: the message names the file and the problem."""


SENTIMENT140_LABELS = {"0": "negative", "2": "neutral", "4": "positive"}
TWEETEVAL_LABELS = {"0": "negative", "1": "neutral", "2": "positive"}
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


def _decode(data: bytes) -> str:
    text = data.decode("utf-8", errors="surrogateescape")
    return text[1:] if text.startswith("\ufeff") else text


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


def read_file(input: FileInput) -> SourceBatch:
    """Read one input into canonical records. Raises InputError when it cannot be read at all."""
    fingerprint = fingerprint_of(input)
    try:
        data = input.path.read_bytes()
    except OSError as exc:
        raise InputError(f"{input.path}: cannot read: {exc.strerror or exc}") from exc
    text = _decode(data)
    fmt = detect_format(input, text)
    if fmt == "sentiment140":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # The public Sentiment140 file is Latin-1; every byte is valid there.
            text = data.decode("latin-1")
    reader = {
        "airline": _read_airline,
        "sentiment140": _read_sentiment140,
        "generic_csv": _read_generic_csv,
        "generic_jsonl": _read_generic_jsonl,
        "x_api": _read_x_api,
        "tweeteval": _read_tweeteval,
    }[fmt]
    records = list(reader(input, text))
    source = {"generic_csv": "generic", "generic_jsonl": "generic"}.get(fmt, fmt)
    for record in records:
        record["source"] = source
    return SourceBatch(source=source, origin=input.origin, fingerprint=fingerprint, format=fmt, records=records)


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, fields) per CSV record; quoted newlines are part of a record."""
    # strict: an unclosed quote would otherwise swallow the rest of the file into one field.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # A broken quote swallows the rest of the file; say where instead of guessing.
            raise InputError(f"CSV syntax error at line {reader.line_num}: {exc}") from exc
        start, line = line, reader.line_num + 1
        if row:
            yield start, row


def _shape_problem(row: list[str], expected: int) -> list[str]:
    return [] if len(row) == expected else [f"wrong column count: expected {expected}, found {len(row)}"]


def _read_airline(input: FileInput, text: str) -> Iterator[dict[str, Any]]:
    rows = _csv_rows_named(input, text)
    header, body = next(rows)
    cols = {name: i for i, name in enumerate(c.strip().lower() for c in header)}
    for line, row in body:
        get = _getter(row, cols)
        yield make_record(
            source="airline",
            location=f"{input.path}:{line}",
            twitter_ids=True,
            raw=dict(zip(header, row)) if len(row) == len(header) else row,
            source_id=get("tweet_id"),
            text=get("text"),
            created_at=get("tweet_created"),
            label=get("airline_sentiment"),
            author=get("name"),
            topic=get("airline"),
            problems=_shape_problem(row, len(header)),
        )


def _csv_rows_named(input: FileInput, text: str) -> Iterator[Any]:
    """First the header, then (line, row) pairs; errors name the file."""
    try:
        rows = _csv_rows(text)
        first = next(rows, None)
        if first is None:
            raise InputError(f"{input.path}: the file is empty")
        yield first[1], _wrap_errors(input, rows)
    except InputError as exc:
        if str(exc).startswith(str(input.path)):
            raise
        raise InputError(f"{input.path}: {exc}") from exc


def _wrap_errors(input: FileInput, rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    try:
        yield from rows
    except InputError as exc:
        raise InputError(f"{input.path}: {exc}") from exc


def _getter(row: list[str], cols: dict[str, int]):
    def get(name: str) -> str | None:
        i = cols.get(name)
        return row[i] if i is not None and i < len(row) else None

    return get


def _read_sentiment140(input: FileInput, text: str) -> Iterator[dict[str, Any]]:
    names = ("polarity", "id", "date", "query", "user", "text")
    for line, row in _wrap_errors(input, _csv_rows(text)):
        get = _getter(row, {n: i for i, n in enumerate(names)})
        polarity = (get("polarity") or "").strip()
        query = get("query")
        yield make_record(
            source="sentiment140",
            location=f"{input.path}:{line}",
            twitter_ids=True,
            raw=dict(zip(names, row)) if len(row) == 6 else row,
            source_id=get("id"),
            text=get("text"),
            created_at=get("date"),
            label=SENTIMENT140_LABELS.get(polarity, polarity),
            author=get("user"),
            topic=None if query == "NO_QUERY" else query,
            problems=_shape_problem(row, 6),
        )


def _generic_columns(header: list[str]) -> dict[str, int]:
    lowered = [c.strip().lower() for c in header]
    cols: dict[str, int] = {}
    for canonical, aliases in GENERIC_ALIASES.items():
        for alias in aliases:
            if alias in lowered:
                cols[canonical] = lowered.index(alias)
                break
    return cols


def _read_generic_csv(input: FileInput, text: str) -> Iterator[dict[str, Any]]:
    rows = _csv_rows_named(input, text)
    header, body = next(rows)
    cols = _generic_columns(header)
    has_id = "id" in cols
    for line, row in body:
        get = _getter(row, cols)
        yield make_record(
            source="generic",
            location=f"{input.path}:{line}",
            raw=dict(zip(header, row)) if len(row) == len(header) else row,
            source_id=get("id") if has_id else None,
            text=get("text"),
            created_at=get("created_at"),
            label=get("label"),
            author=get("author"),
            lang=get("lang"),
            topic=get("topic"),
            problems=_shape_problem(row, len(header)),
            id_from_text=not has_id,
        )


def _pick(obj: dict[str, Any], canonical: str) -> Any:
    for alias in GENERIC_ALIASES[canonical]:
        if alias in obj:
            return obj[alias]
    return None


def _json_lines(input: FileInput, text: str) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed object or None, problem) per non-blank line."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield number, line, f"not valid JSON: {exc.msg} at column {exc.colno}"


def _read_generic_jsonl(input: FileInput, text: str) -> Iterator[dict[str, Any]]:
    for line, obj, problem in _json_lines(input, text):
        location = f"{input.path}:{line}"
        if problem is not None or not isinstance(obj, dict):
            yield make_record(source="generic", location=location, raw=obj, problems=[problem or f"not a JSON object: {type(obj).__name__}"])
            continue
        has_id = _pick(obj, "id") is not None
        yield make_record(
            source="generic",
            location=location,
            raw=obj,
            source_id=_pick(obj, "id"),
            text=_pick(obj, "text"),
            created_at=_pick(obj, "created_at"),
            label=_pick(obj, "label"),
            author=_pick(obj, "author"),
            lang=_pick(obj, "lang"),
            topic=_pick(obj, "topic"),
            id_from_text=not has_id and any(k in obj for k in GENERIC_ALIASES["text"]) and not any(k in obj for k in GENERIC_ALIASES["id"]),
        )


def _read_x_api(input: FileInput, text: str) -> Iterator[dict[str, Any]]:
    stripped = text.strip()
    try:
        pages: list[tuple[str, Any, str | None]] = [("", json.loads(stripped), None)]
    except json.JSONDecodeError:
        pages = [(f":{n}", obj, problem) for n, obj, problem in _json_lines(input, text)]
    for where, page, problem in pages:
        if problem is not None or not isinstance(page, dict) or not isinstance(page.get("data", []), list):
            yield make_record(source="x_api", location=f"{input.path}{where}", raw=page, problems=[problem or "not an X API v2 response object"])
            continue
        users = {u.get("id"): u.get("username") for u in (page.get("includes") or {}).get("users", []) if isinstance(u, dict)}
        for i, tweet in enumerate(page.get("data", [])):
            location = f"{input.path}{where}:data[{i}]"
            if not isinstance(tweet, dict):
                yield make_record(source="x_api", location=location, raw=tweet, problems=["tweet is not a JSON object"])
                continue
            author_id = tweet.get("author_id")
            yield make_record(
                source="x_api",
                location=location,
                raw=tweet,
                source_id=tweet.get("id"),
                twitter_ids=True,
                text=tweet.get("text"),
                created_at=tweet.get("created_at"),
                author=users.get(author_id, author_id),
                lang=tweet.get("lang"),
                label=tweet.get("label"),
            )


def _read_tweeteval(input: FileInput, text: str) -> Iterator[dict[str, Any]]:
    mapping = dict(TWEETEVAL_LABELS)
    if input.mapping_path is not None:
        for line in input.mapping_path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) == 2:
                mapping[parts[0].strip()] = parts[1].strip().lower()
    texts = text.split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    labels: list[str | None] = [None] * len(texts)
    if input.labels_path is not None:
        label_lines = _decode(input.labels_path.read_bytes()).split("\n")
        if label_lines and label_lines[-1] == "":
            label_lines.pop()
        if len(label_lines) != len(texts):
            raise InputError(
                f"{input.labels_path}: {len(label_lines)} labels for {len(texts)} texts in {input.path.name}; the pair must line up"
            )
        labels = [line.strip() for line in label_lines]
    for number, (tweet, label) in enumerate(zip(texts, labels), start=1):
        yield make_record(
            source="tweeteval",
            location=f"{input.path}:{number}",
            raw={"text": tweet, "label": label},
            # TweetEval pads lines with a trailing space; it is not part of the tweet.
            text=tweet.rstrip(" \r"),
            label=mapping.get(label, label) if label is not None else None,
            id_from_text=True,
        )
