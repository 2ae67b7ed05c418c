"""File readers: one file input, of a layout already recognised, read into canonical records.

:func:`read_file` fingerprints the input, names its layout with
:func:`~sentiment.data.sources.file_inputs.detect_format` and hands the text to the reader of that
layout (airline, Sentiment140, TweetEval, X API v2, generic CSV or JSON Lines). Each reader maps
the layout's columns onto :func:`~sentiment.data.records.make_record`, keeping a ``path:line``
location and the raw row.

A row that cannot be used becomes a record with its problems listed, to be quarantined with that
reason; only a file that cannot be read at all raises :class:`InputError`, in one line naming the
file (a compressed file, a FIFO, a CSV syntax error). Bytes that are not UTF-8 are kept
(``surrogateescape``) for the same reason; a file with a UTF-16 byte order mark (Excel's "Unicode
Text") is decoded as UTF-16. A JSON line that is broken, nested too deeply to parse,
or not an object is a row with that problem; a JSON value of the wrong type (a ``text`` that is an
object or a number, an ``includes`` that is not an object) never reaches the database as its repr.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

from sentiment.data.records import SourceBatch, fix_surrogates, make_record
from sentiment.data.sources.file_inputs import (
    GENERIC_ALIASES,
    SENTIMENT140_LABELS,
    FileInput,
    InputError,
    compression_of,
    csv_delimiter,
    detect_format,
    fingerprint_bytes,
    read_bytes,
)

TWEETEVAL_LABELS = {"0": "negative", "1": "neutral", "2": "positive"}


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _decode(data: bytes, encoding: str = "utf-8") -> str:
    if data.startswith(_UTF16_BOMS):  # Excel's "Unicode Text" export: UTF-16 with a BOM, tab-separated
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode(encoding, errors="surrogateescape")
    text = text[1:] if text.startswith("\ufeff") else text
    # Classic Mac line endings (CR only): read as LF, so every layout sees its lines.
    return text.replace("\r", "\n") if "\r" in text and "\n" not in text else text


def read_file(input: FileInput) -> SourceBatch:
    """Read one input into canonical records. Raises InputError when it cannot be read at all."""
    data = read_bytes(input.path)
    labels_data = read_bytes(input.labels_path) if input.labels_path is not None else None
    fingerprint = fingerprint_bytes([data] if labels_data is None else [data, labels_data])
    compression = compression_of(data)
    if compression is not None:
        raise InputError(f"{input.path}: {compression}-compressed; decompress it first")
    text = _decode(data)
    fmt = detect_format(input, text)
    if fmt == "sentiment140" and not data.startswith(_UTF16_BOMS):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            # The public Sentiment140 file is Latin-1; every byte is valid there.
            text = _decode(data, "latin-1")
    if fmt == "tweeteval":
        records = list(_read_tweeteval(input, text, None if labels_data is None else _decode(labels_data)))
    else:
        reader = {
            "airline": _read_airline,
            "sentiment140": _read_sentiment140,
            "generic_csv": _read_generic_csv,
            "generic_jsonl": _read_generic_jsonl,
            "x_api": _read_x_api,
        }[fmt]
        records = list(reader(input, text))
    source = {"generic_csv": "generic", "generic_jsonl": "generic"}.get(fmt, fmt)
    for record in records:
        record["source"] = source
    origin, _ = fix_surrogates(input.origin)  # a file name that is not UTF-8 must still be storable
    return SourceBatch(source=source, origin=origin, fingerprint=fingerprint, format=fmt, records=records)


def _csv_rows(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, fields) per CSV record; quoted newlines are part of a record."""
    # strict: an unclosed quote would otherwise swallow the rest of the file into one field.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
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
        rows = _csv_rows(text, csv_delimiter(input, text))
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
    for line, row in _wrap_errors(input, _csv_rows(text, csv_delimiter(input, text))):
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
    """(line number, parsed object or the line, problem) per non-blank line. JSON strings cannot
    hold a raw line break, so LF, CRLF and CR all end a line."""
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield number, line, f"not valid JSON: {exc.msg} at column {exc.colno}"
        except RecursionError:
            yield number, line, "not valid JSON: nested too deeply to read"


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
    except (json.JSONDecodeError, RecursionError):
        pages = [(f":{n}", obj, problem) for n, obj, problem in _json_lines(input, text)]
    for where, page, problem in pages:
        if problem is not None or not isinstance(page, dict) or not isinstance(page.get("data", []), list):
            yield make_record(source="x_api", location=f"{input.path}{where}", raw=page, problems=[problem or "not an X API v2 response object"])
            continue
        users = x_usernames(page.get("includes"))
        for i, tweet in enumerate(page.get("data", [])):
            location = f"{input.path}{where}:data[{i}]"
            if not isinstance(tweet, dict):
                yield make_record(source="x_api", location=location, raw=tweet, problems=["tweet is not a JSON object"])
                continue
            yield x_tweet_record(tweet, users, location, label=tweet.get("label"))


def x_tweet_record(tweet: dict[str, Any], users: dict[str, Any], location: str, **extra: Any) -> dict[str, Any]:
    """The canonical record of one X API v2 tweet object (files and live pulls alike): the author's
    username from ``includes.users``, or the author id when the expansion is missing (a deleted or
    suspended account). ``extra``: ``lang``, ``topic``, ``label``, ``problems`` to set or add."""
    author_id = tweet.get("author_id")
    if isinstance(author_id, str | int) and not isinstance(author_id, bool):
        author_id = users.get(str(author_id)) or author_id
    return make_record(
        source="x_api",
        location=location,
        raw=tweet,
        source_id=tweet.get("id"),
        twitter_ids=True,
        text=tweet.get("text"),
        created_at=tweet.get("created_at"),
        author=author_id,  # make_record refuses one that is not a string or number
        **{"lang": tweet.get("lang"), **extra},
    )


def x_usernames(includes: Any) -> dict[str, Any]:
    """author id -> username from an X API ``includes`` (anything malformed is left out)."""
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return {}
    return {str(u["id"]): u.get("username") for u in users if isinstance(u, dict) and isinstance(u.get("id"), str | int)}


def _read_tweeteval(input: FileInput, text: str, labels_text: str | None) -> Iterator[dict[str, Any]]:
    mapping = dict(TWEETEVAL_LABELS)
    if input.mapping_path is not None:
        for line in _decode(read_bytes(input.mapping_path)).splitlines():
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) == 2:
                mapping[parts[0].strip()] = parts[1].strip().lower()
    texts = text.split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    labels: list[str | None] = [None] * len(texts)
    if labels_text is not None:
        label_lines = labels_text.split("\n")
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
