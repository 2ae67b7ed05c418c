"""Sources of tweets: files, the synthetic generator and the day-by-day replay of a file.

Every source turns its input into a :class:`~sentiment.data.records.SourceBatch` of canonical records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sentiment.data.records import SourceBatch, make_record
from sentiment.data.sources.file_inputs import FileInput, InputError, detect_format, fingerprint_of, plan_inputs
from sentiment.data.sources.file_readers import read_file
from sentiment.data.sources.replay import split_replay_days

__all__ = [
    "FileInput",
    "InputError",
    "SourceSpec",
    "detect_format",
    "fingerprint_of",
    "parse_source",
    "plan_inputs",
    "plan_sources",
    "read_file",
    "read_synthetic",
    "split_replay_days",
]

SOURCE_FORMS = "synthetic, replay:PATH or file:PATH"


@dataclass(frozen=True)
class SourceSpec:
    """One thing to ingest: a file input, the synthetic source, or the next day of a replay."""

    kind: str  # "file", "synthetic" or "replay"
    file: FileInput | None = None
    path: Path | None = None

    def describe(self) -> str:
        if self.kind == "file" and self.file is not None:
            return self.file.origin
        if self.kind == "replay":
            return f"replay:{self.path}"
        return self.kind


def parse_source(source: str) -> list[SourceSpec]:
    """Parse ``--source``: ``synthetic``, ``replay:PATH`` or ``file:PATH``."""
    kind, _, rest = source.partition(":")
    kind = kind.strip().lower()
    if kind == "synthetic" and not rest:
        return [SourceSpec("synthetic")]
    if kind == "replay" and rest:
        path = Path(rest)
        if not path.is_file():
            raise InputError(f"--source {source}: {path} is not a file")
        return [SourceSpec("replay", path=path)]
    if kind == "file" and rest:
        return [SourceSpec("file", file=f) for f in plan_inputs([Path(rest)])]
    raise InputError(f"--source {source!r}: unknown source; use {SOURCE_FORMS}")


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


def plan_sources(paths: list[str] | None, source: str | None, inbox: Path) -> list[SourceSpec]:
    """What one ingest run reads: the given paths and source, or else every file in the inbox."""
    specs: list[SourceSpec] = []
    if paths:
        specs += [SourceSpec("file", file=f) for f in plan_inputs([Path(p) for p in paths])]
    if source:
        specs += parse_source(source)
    if not paths and not source and inbox.is_dir():
        specs += [SourceSpec("file", file=f) for f in plan_inputs([inbox])]
    return specs
