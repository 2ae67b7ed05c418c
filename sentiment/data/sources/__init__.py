"""Sources of tweets: files, the synthetic generator and the day-by-day replay of a file.

Every source turns its input into a :class:`~sentiment.data.records.SourceBatch` of canonical records.
:func:`scan_sources` also says which files in a folder it skipped, and why, so that the caller can
report them (``skipped: PATH (reason)``); :func:`plan_sources` is the same without that list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sentiment.data.records import SourceBatch, make_record
from sentiment.data.sources.file_inputs import (
    FileInput,
    InputError,
    InputPlan,
    Skipped,
    detect_format,
    fingerprint_of,
    plan_inputs,
    scan_inputs,
)
from sentiment.data.sources.file_readers import read_file
from sentiment.data.sources.live.names import LiveQuery, is_live_source, parse_live_source
from sentiment.data.sources.replay import split_replay_days

__all__ = [
    "FileInput",
    "InputError",
    "InputPlan",
    "LiveQuery",
    "Skipped",
    "SourcePlan",
    "SourceSpec",
    "detect_format",
    "fingerprint_of",
    "parse_source",
    "plan_inputs",
    "plan_sources",
    "read_file",
    "read_synthetic",
    "scan_inputs",
    "archive_inbox_file",
    "DONE_FOLDER",
    "scan_sources",
    "source_list",
    "split_replay_days",
]

SOURCE_FORMS = "x:QUERY, bluesky:QUERY, synthetic, replay:PATH or file:PATH"


@dataclass(frozen=True)
class SourceSpec:
    """One thing to ingest: a file input, the synthetic source, or the next day of a replay."""

    kind: str  # "file", "synthetic", "replay" or "live"
    file: FileInput | None = None
    path: Path | None = None
    live: LiveQuery | None = None
    #: a file found in the inbox folder (moved to ``<inbox>/done/`` once ingested)
    from_inbox: bool = False

    def describe(self) -> str:
        if self.kind == "file" and self.file is not None:
            return self.file.origin
        if self.kind == "replay":
            return f"replay:{self.path}"
        if self.kind == "live" and self.live is not None:
            return self.live.name
        return self.kind


@dataclass
class SourcePlan:
    """What one ingest run reads, and the files it skipped in the folders it was given."""

    specs: list[SourceSpec] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def add_files(self, plan: InputPlan, from_inbox: bool = False) -> None:
        self.specs += [SourceSpec("file", file=f, from_inbox=from_inbox) for f in plan.inputs]
        self.skipped += plan.skipped


def _parse_source(source: str) -> SourcePlan:
    kind, _, rest = source.partition(":")
    kind = kind.strip().lower()
    plan = SourcePlan()
    if is_live_source(source):
        plan.specs.append(SourceSpec("live", live=parse_live_source(source)))
    elif kind == "synthetic" and not rest:
        plan.specs.append(SourceSpec("synthetic"))
    elif kind == "replay" and rest:
        path = Path(rest)
        if not path.is_file():  # also refuses a FIFO, a device or a folder
            raise InputError(f"--source {source}: {path} is not a file")
        plan.specs.append(SourceSpec("replay", path=path))
    elif kind == "file" and rest:
        plan.add_files(scan_inputs([Path(rest)]))
    else:
        raise InputError(f"--source {source!r}: unknown source; use {SOURCE_FORMS}")
    return plan


def parse_source(source: str) -> list[SourceSpec]:
    """Parse ``--source``: ``x:QUERY``, ``bluesky:QUERY``, ``synthetic``, ``replay:PATH`` or ``file:PATH``."""
    return _parse_source(source).specs


def source_list(source: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """The ``source`` parameter as a list: one name, several, or none."""
    if source is None:
        return []
    items = [source] if isinstance(source, str) else list(source)
    return [str(item).strip() for item in items if str(item).strip()]


def read_synthetic(count: int, seed: int) -> SourceBatch:
    """The synthetic source as a batch; its fingerprint covers the generated content."""
    from sentiment.data.sources.synthetic import SyntheticSpec, generate_synthetic

    spec = SyntheticSpec(count=count, seed=seed)
    digest = hashlib.sha256()
    records = []
    for i, row in enumerate(generate_synthetic(spec)):
        digest.update(f"{row['id']}\x1f{row['text']}\x1f{row['label']}\x1e".encode())
        records.append(
            make_record(
                source="synthetic",
                location=f"synthetic(seed={seed})#{i + 1}",
                raw=row,
                source_id=row["id"],
                text=row["text"],
                created_at=row["created_at"],
                author=row["author"],
                lang=row["lang"],
                topic=row["topic"],
                label=row["label"],
            )
        )
    return SourceBatch(
        source="synthetic",
        origin=f"synthetic(count={count}, seed={seed})",
        fingerprint="synthetic:" + digest.hexdigest(),
        format="synthetic",
        records=records,
    )


#: Where ingested inbox files go (TWEETSENT_INBOX_KEEP_PROCESSED=false, the default).
DONE_FOLDER = "done"


def archive_inbox_file(spec: SourceSpec, inbox: Path) -> list[Path]:
    """Move an ingested inbox input (both files of a TweetEval pair) into ``<inbox>/done/``; a
    name already there gets a numbered suffix. Returns the new paths."""
    done = inbox / DONE_FOLDER
    done.mkdir(parents=True, exist_ok=True)
    moved = []
    for path in spec.file.paths if spec.file else ():
        target = done / path.name
        n = 1
        while target.exists():
            target = done / f"{path.stem}.{n}{path.suffix}"
            n += 1
        path.rename(target)
        moved.append(target)
    return moved


def scan_sources(
    paths: list[str] | None, source: str | list[str] | None, inbox: Path, pull_sources: tuple[str, ...] | list[str] = ()
) -> SourcePlan:
    """What one ingest run reads: the given paths and sources, or else every file in the inbox and
    the configured live queries (``pull_sources``); and what it skipped in those folders, with a
    reason each. A source named twice is read once."""
    plan = SourcePlan()
    if paths:
        plan.add_files(scan_inputs([Path(p) for p in paths]))
    sources = source_list(source)
    for name in sources:
        parsed = _parse_source(name)
        plan.specs += [spec for spec in parsed.specs if spec not in plan.specs]
        plan.skipped += parsed.skipped
    if not paths and not sources:
        if inbox.is_dir():
            found = scan_inputs([inbox])
            # <inbox>/done holds what was ingested already: not news.
            found.skipped = [s for s in found.skipped if s.path != inbox / DONE_FOLDER]
            plan.add_files(found, from_inbox=True)
        for name in pull_sources:
            spec = SourceSpec("live", live=parse_live_source(name, what="TWEETSENT_PULL_SOURCES"))
            if spec not in plan.specs:
                plan.specs.append(spec)
    return plan


def plan_sources(
    paths: list[str] | None, source: str | list[str] | None, inbox: Path, pull_sources: tuple[str, ...] | list[str] = ()
) -> list[SourceSpec]:
    """:func:`scan_sources` without the skipped files."""
    return scan_sources(paths, source, inbox, pull_sources).specs
