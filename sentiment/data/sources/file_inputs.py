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

A ``.tsv`` file (or a CSV-layout file whose header only splits on tabs) is read tab-separated.
Files with classic-Mac line endings (CR only) are read as if they had LF.

What is not read is said, never dropped without a word: :func:`scan_inputs` returns the files it
skipped in a folder (FIFOs and other non-regular files, broken links, compressed files, sub-folders,
files of other kinds) with a reason each, and a path given directly that is not a regular file is a
one-line :class:`InputError` (it is never opened in a way that could block, e.g. on a FIFO).

README "Input files" describes them for users. Reading each layout into records is
:mod:`sentiment.data.sources.file_readers`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from sentiment.data.records import excerpt
from sentiment.errors import UserError

# Tweet CSVs can hold very long fields, over the csv module's default limit (128 KiB). A field of
# any size must reach validation (which quarantines it as too long) rather than fail the whole
# file, so the limit is the largest the csv module takes on every platform. The setting is
# process-wide, so it also covers the readers in file_readers (which import this).
csv.field_size_limit(2**31 - 1)


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
#: How many lines of a JSON Lines file may fail to parse before it is not JSON Lines at all.
DETECT_LINES = 20
#: At most this many characters of a file's content in an error message (escaped).
EXCERPT = 80
COMPRESSED_SUFFIXES = {".gz", ".bz2", ".xz", ".zip", ".zst", ".7z", ".tgz"}
#: Leading bytes of compressed files, for a file given by name whatever its suffix.
COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}


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


@dataclass(frozen=True)
class Skipped:
    """A path found in a folder and not read, and why."""

    path: Path
    reason: str

    def line(self) -> str:
        """``skipped: PATH (reason)``; a name with control characters is shown escaped."""
        path, reason = (v if v.isprintable() else excerpt(v, 200) for v in (str(self.path), self.reason))
        return f"skipped: {path} ({reason})"


@dataclass
class InputPlan:
    """What :func:`scan_inputs` found: the inputs to read, and what it skipped."""

    inputs: list[FileInput] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _kind(mode: int) -> str:
    """What a stat mode is, in words ("file" for a regular file)."""
    for test, name in (
        (stat.S_ISREG, "file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "an unusual kind of file"


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file. Anything else (a FIFO, a device, a socket, a folder) is a
    one-line InputError: the file is opened non-blocking and checked before it is read, so a FIFO
    without a writer cannot hang the run, nor /dev/zero fill the memory."""
    try:
        kind = _kind(os.stat(path).st_mode)  # a socket cannot even be opened: name it first
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)) if kind == "file" else -1
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if fd < 0:
        raise InputError(f"{path}: {kind}, not a regular file; give a file or a folder")
    with open(fd, "rb") as fh:
        kind = _kind(os.fstat(fd).st_mode)  # what was opened, should the path have changed since
        if kind != "file":
            raise InputError(f"{path}: {kind}, not a regular file; give a file or a folder")
        try:
            return fh.read()
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def fingerprint_of(input: FileInput) -> str:
    """sha256 over the bytes of every file of the input: same content, same fingerprint."""
    return fingerprint_bytes([read_bytes(path) for path in input.paths])


def fingerprint_bytes(contents: list[bytes]) -> str:
    """:func:`fingerprint_of` for contents already read (the files in the input's order)."""
    digest = hashlib.sha256()
    for data in contents:
        digest.update(data)
    return "sha256:" + digest.hexdigest()


def compression_of(data: bytes) -> str | None:
    """The compression format whose magic bytes ``data`` starts with, if any."""
    return next((name for magic, name in COMPRESSED_MAGIC.items() if data.startswith(magic)), None)


def skip_reason(path: Path) -> str | None:
    """Why a path found in a folder is not read (None: read it)."""
    if path.is_symlink() and not path.exists():
        return f"broken link to {os.readlink(path)}"
    try:
        kind = _kind(path.stat().st_mode)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if kind == "a folder":
        return "a folder; folders inside a folder are not read"
    if kind != "file":
        return f"{kind}, not a regular file"
    suffix = path.suffix.lower()
    if suffix in COMPRESSED_SUFFIXES:
        return "compressed; decompress it first"
    if suffix not in TEXT_SUFFIXES:
        return f"not a tweet file; expected one of {', '.join(sorted(TEXT_SUFFIXES))}"
    return None


def plan_inputs(paths: list[Path]) -> list[FileInput]:
    """The inputs of :func:`scan_inputs` (what it skipped is dropped: use that to report it)."""
    return scan_inputs(paths).inputs


def scan_inputs(paths: list[Path]) -> InputPlan:
    """Expand folders and pair TweetEval files; say what was skipped in a folder, and why.

    Raises InputError for a path given directly that does not exist or is not a regular file.
    """
    files: list[Path] = []
    plan = InputPlan()
    for path in paths:
        if path.is_symlink() and not path.exists():
            raise InputError(f"{path}: broken link to {os.readlink(path)}")
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            for entry in sorted(path.iterdir()):
                reason = skip_reason(entry)
                if reason is None:
                    files.append(entry)
                else:
                    plan.skipped.append(Skipped(entry, reason))
        else:
            kind = _kind(path.stat().st_mode)
            if kind != "file":
                raise InputError(f"{path}: {kind}, not a regular file; give a file or a folder")
            files.append(path)
    inputs = plan.inputs
    seen: set[Path] = set()
    helpers: list[Path] = []
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
            helpers.append(path)  # found by expanding a folder: describes the dataset, holds no tweets
            continue
        inputs.append(FileInput(path))
        seen.add(path)
    used = {i.mapping_path for i in inputs}
    plan.skipped += [Skipped(p, "describes the dataset, holds no tweets") for p in helpers if p not in used]
    return plan


_LINE_END = re.compile(r"[\r\n]")


def _first_line(text: str) -> str:
    """The first line, whatever the line endings (LF, CRLF or CR)."""
    end = _LINE_END.search(text)
    return text if end is None else text[: end.start()]


def csv_delimiter(input: FileInput, text: str) -> str:
    """Tab for a ``.tsv`` file, or for a file whose header has no known column when split on
    commas but has one when split on tabs; else comma."""
    if input.path.suffix.lower() == ".tsv":
        return "\t"
    first = _first_line(text)
    if "\t" in first:
        known = {a for aliases in GENERIC_ALIASES.values() for a in aliases}
        by_comma = {c.strip().lower() for c in first.split(",")}
        by_tab = {c.strip().lower() for c in first.split("\t")}
        if not by_comma & known and by_tab & known:
            return "\t"
    return ","


def _header(input: FileInput, text: str) -> list[str]:
    try:
        return next(csv.reader([_first_line(text)], delimiter=csv_delimiter(input, text)), [])
    except csv.Error as exc:
        raise InputError(f"{input.path}: unknown layout; the first line is not CSV ({exc}): {excerpt(_first_line(text))}") from exc


def detect_format(input: FileInput, text: str) -> str:
    """Name the layout of a file from its content (not its name)."""
    if input.labels_path is not None or input.path.name.endswith("_text.txt"):
        return "tweeteval"
    stripped = text.lstrip()
    if not stripped:
        raise InputError(f"{input.path}: the file is empty")
    if stripped[0] in "{[":
        return _detect_json(input.path, stripped)
    header = _header(input, text)
    columns = [c.strip().lower() for c in header]
    if all(c in columns for c in AIRLINE_COLUMNS):
        return "airline"
    if len(header) == 6 and header[0].strip() in SENTIMENT140_LABELS and _S140_DATE.match(header[2].strip()):
        return "sentiment140"
    if any(c in columns for c in GENERIC_ALIASES["text"]):
        return "generic_csv"
    # The first line is untrusted (and Prefect keeps this message): a short, escaped excerpt only.
    shown = repr([c[:EXCERPT] for c in header[:12]])
    shown = shown if len(shown) <= EXCERPT else shown[:EXCERPT] + "…"
    raise InputError(
        f"{input.path}: unknown layout; found columns {shown}. Expected the airline CSV "
        f"({', '.join(AIRLINE_COLUMNS)}), Sentiment140 (no header: polarity,id,date,query,user,text), "
        "a TweetEval *_text.txt/*_labels.txt pair, X API v2 JSON, or a CSV/JSONL with id,text[,created_at,label]"
    )


def _head_lines(text: str, count: int) -> list[str]:
    """The first ``count`` non-blank lines (LF, CRLF or CR), without copying the rest."""
    lines: list[str] = []
    start = 0
    while start <= len(text) and len(lines) < count:
        end = _LINE_END.search(text, start)
        stop = len(text) if end is None else end.start()
        if text[start:stop].strip():
            lines.append(text[start:stop])
        start = stop + 1
    return lines


def _keys(doc: dict) -> str:
    return excerpt(", ".join(sorted(str(k) for k in doc)[:12]))


def _detect_json(path: Path, stripped: str) -> str:
    try:
        doc = json.loads(stripped)
    except (json.JSONDecodeError, RecursionError):
        doc = None
    if isinstance(doc, dict):
        if isinstance(doc.get("data"), list):
            return "x_api"
        if "text" in doc:
            return "generic_jsonl"  # a one-line JSON Lines file
        raise InputError(f"{path}: JSON without a 'data' list (X API v2) or 'text' field; found keys {_keys(doc)}")
    if isinstance(doc, list):
        raise InputError(f"{path}: a JSON array is not supported; write one JSON object per line (JSON Lines)")
    # JSON Lines: the first line that parses names the layout (a broken line is the reader's to
    # quarantine); only a file whose first lines all fail to parse is not JSON Lines.
    first: object = None
    problem = None
    for line in _head_lines(stripped, DETECT_LINES):
        try:
            first = json.loads(line)
            break
        except json.JSONDecodeError as exc:
            problem = problem or str(exc)
        except RecursionError:
            problem = problem or "nested too deeply to read"
    else:
        raise InputError(f"{path}: neither JSON nor JSON Lines: first line: {problem}")
    if isinstance(first, dict) and isinstance(first.get("data"), list):
        return "x_api"
    if isinstance(first, dict) and any(k in first for k in GENERIC_ALIASES["text"]):
        return "generic_jsonl"
    keys = _keys(first) if isinstance(first, dict) else type(first).__name__
    raise InputError(f"{path}: JSON Lines without a text field; found keys {keys}")
