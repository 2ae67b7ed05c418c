"""Prepare a labelled file: read, validate, dedupe and clean it as ``tweetsent ingest`` would,
without storing anything (for evaluation and benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sentiment.data.ingest import prepare_batch
from sentiment.data.sources import read_file, scan_inputs
from sentiment.errors import UserError


@dataclass
class LabelledFile:
    """The valid, distinct, cleaned records of one or more files, in file order, and what was dropped."""

    records: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"rows_read": 0, "rejected": 0, "duplicate": 0, "unlabelled": 0})
    #: files of a folder that were not read, with why ("<path> (<reason>)")
    skipped: list[str] = field(default_factory=list)

    @property
    def labelled(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["label"] is not None]

    def texts_and_labels(self) -> tuple[list[str], list[str]]:
        """The model's input (clean text) and the gold label of every labelled record."""
        rows = self.labelled
        return [r["clean_text"] for r in rows], [r["label"] for r in rows]


def prepare_labelled_file(path: str | Path, label_names: tuple[str, ...], max_text_chars: int, limit: int | None = None, require_labels: bool = True) -> LabelledFile:
    """Every valid, distinct, cleaned record of ``path`` (a file or folder in any layout ingest
    understands); ``limit`` keeps only the first rows of each file. Raises a one-line
    :class:`UserError` when nothing labelled is left and ``require_labels`` is set."""
    result = LabelledFile()
    plan = scan_inputs([Path(path)])
    result.skipped = [s.line() for s in plan.skipped]
    for spec in plan.inputs:
        batch = read_file(spec)
        if limit is not None:
            batch = replace(batch, records=batch.records[:limit])
        prepared = prepare_batch(batch, label_names, max_text_chars)
        result.counts["rows_read"] += len(batch.records)
        result.counts["rejected"] += len(prepared.rejected)
        result.counts["duplicate"] += len(prepared.duplicates)
        result.counts["unlabelled"] += sum(1 for r in prepared.unique if r["label"] is None)
        result.records += prepared.unique
    if require_labels and not result.labelled:
        raise UserError(str(path), f"no valid labelled tweets with labels {','.join(label_names)}")
    return result
