"""Storing a validated, cleaned batch: dedupe, label conflicts, quarantine, counts.

Policy (also in the README):

- A row whose id was already seen, earlier in the batch or in the database, is a *duplicate*: it is
  counted and otherwise dropped; the stored tweet is never overwritten.
- The first label of a tweet wins. A duplicate whose label disagrees is a *label conflict*: it still
  counts as a duplicate, and it is also written to ``quarantine`` with kind ``conflict`` and the
  reason ``conflicting label`` (both labels named), so nothing is lost and someone can review it.
- The first text of a tweet wins too. A duplicate whose text differs (after decoding HTML entities
  and collapsing whitespace, so two exports of one tweet agree) is a *text conflict*: it counts as
  a duplicate, is written to ``quarantine`` with kind ``conflict`` and the reason ``same id,
  different text``, and its label is not taken (it may belong to another tweet).
- Cleaning never leaves a stored tweet with an empty ``clean_text``: validation refuses texts made
  only of invisible characters, and a record that still cleans to "" is quarantined here.
- Every input row ends in exactly one of: inserted, duplicate, quarantined (kind ``invalid``);
  ``ingest_batches`` records the three counts and they add up to the rows read.
- A batch is written in one transaction together with its ``ingest_batches`` row, whose
  fingerprint is unique: a crashed run leaves nothing behind and a re-run (or a racing second run)
  cannot store the same input twice.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from sentiment.clock import utcnow
from sentiment.data.cleaning import clean_texts
from sentiment.data.records import SourceBatch
from sentiment.data.validation import INVISIBLE_ONLY, ValidationResult, validate_records
from sentiment.store import IN_CHUNK, bulk_insert, chunked, ingest_batches, labels, quarantine, tweets, write_transaction

GOLD = "gold"
CONFLICTING_LABEL = "conflicting label"
DIFFERENT_TEXT = "same id, different text"


@dataclass
class PreparedBatch:
    """A batch after validation and in-batch dedupe, ready to store."""

    batch: SourceBatch
    unique: list[dict[str, Any]]  # first occurrence of every valid id, in input order
    duplicates: list[dict[str, Any]]  # later occurrences of an id seen earlier in the batch
    rejected: list[tuple[dict[str, Any], list[str]]]
    failures: dict[str, int] = field(default_factory=dict)


@dataclass
class BatchSummary:
    source: str
    origin: str
    fingerprint: str
    format: str
    batch_id: int | None = None
    skipped: bool = False
    skip_reason: str | None = None
    rows_read: int = 0
    rows_inserted: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    label_conflicts: int = 0
    text_conflicts: int = 0  # duplicates whose text differs (also in quarantine, kind "conflict")
    labels_inserted: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # pulls from a live source only (see sentiment.usecases.pulling)
    query: str | None = None
    pages: int | None = None
    rate_limited: bool = False
    status: str | None = None  # caught_up, more, rate_limited, failed, superseded
    error: str | None = None
    api_errors: int = 0
    cursor_before: dict[str, Any] | None = None
    cursor_after: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("started_at", "finished_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @property
    def reconciles(self) -> bool:
        return self.skipped or self.rows_read == self.rows_inserted + self.rows_duplicate + self.rows_quarantined


def find_batch(conn, fingerprint: str) -> dict[str, Any] | None:
    row = conn.execute(select(ingest_batches).where(ingest_batches.c.fingerprint == fingerprint)).mappings().first()
    return dict(row) if row else None


def already_ingested(engine: Engine, fingerprint: str) -> dict[str, Any] | None:
    """The stored batch with this fingerprint, if any."""
    with engine.connect() as conn:
        return find_batch(conn, fingerprint)


def skipped_summary(batch_or_meta: SourceBatch, previous: dict[str, Any]) -> BatchSummary:
    return BatchSummary(
        source=batch_or_meta.source,
        origin=batch_or_meta.origin,
        fingerprint=batch_or_meta.fingerprint,
        format=batch_or_meta.format,
        batch_id=previous["id"],
        skipped=True,
        skip_reason=f"already ingested as batch {previous['id']} on {previous['started_at']:%Y-%m-%d %H:%M} UTC (same fingerprint)",
    )


def dedupe_batch(batch: SourceBatch, validation: ValidationResult) -> PreparedBatch:
    """Keep the first valid occurrence of each id; later ones are duplicates (pure)."""
    first: dict[str, dict[str, Any]] = {}
    duplicates: list[dict[str, Any]] = []
    for record in validation.valid:
        if record["id"] in first:
            duplicates.append(record)
        else:
            first[record["id"]] = record
    return PreparedBatch(
        batch=batch, unique=list(first.values()), duplicates=duplicates, rejected=validation.rejected, failures=validation.failures
    )


def clean_batch(prepared: PreparedBatch) -> PreparedBatch:
    """Add ``clean_text`` to every record that may be stored (new dicts: the input is not mutated).

    A record whose clean text is empty is moved to the rejected ones (validation should have
    refused it already; this keeps the guarantee whatever validation does).
    """
    cleaned = clean_texts([r["text"] for r in prepared.unique])
    unique: list[dict[str, Any]] = []
    rejected = list(prepared.rejected)
    failures = dict(prepared.failures)
    dropped: set[str] = set()
    for record, clean in zip(prepared.unique, cleaned):
        if clean:
            unique.append({**record, "clean_text": clean})
        else:
            rejected.append((record, [INVISIBLE_ONLY]))
            failures[INVISIBLE_ONLY] = failures.get(INVISIBLE_ONLY, 0) + 1
            dropped.add(record["id"])
    duplicates = prepared.duplicates
    if dropped:  # a later row with that id has nothing stored to be a duplicate of
        rejected += [(r, [f"{INVISIBLE_ONLY} (in the first row with this id)"]) for r in duplicates if r["id"] in dropped]
        duplicates = [r for r in duplicates if r["id"] not in dropped]
    return PreparedBatch(batch=prepared.batch, unique=unique, duplicates=duplicates, rejected=rejected, failures=failures)


def prepare_batch(batch: SourceBatch, label_names: Sequence[str], max_text_chars: int) -> PreparedBatch:
    """Validate, dedupe and clean a batch (pure): what ingest stores, and what evaluation reads."""
    return clean_batch(dedupe_batch(batch, validate_records(batch.records, label_names, max_text_chars)))


def same_text_key(text: str) -> str:
    """What two rows with one id must share to be the same tweet: the text with HTML entities
    decoded, NFC-normalised and whitespace collapsed (exports differ in exactly these)."""
    return " ".join(unicodedata.normalize("NFC", html.unescape(text)).split())


def _existing(conn, ids: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Ids already stored with their texts, and their gold labels."""
    found: dict[str, str] = {}
    gold: dict[str, str] = {}
    for part in chunked(list(ids), IN_CHUNK):
        found.update(conn.execute(select(tweets.c.id, tweets.c.text).where(tweets.c.id.in_(part))).tuples().all())
        gold.update(
            conn.execute(select(labels.c.tweet_id, labels.c.label).where(labels.c.origin == GOLD, labels.c.tweet_id.in_(part))).tuples().all()
        )
    return found, gold


def _conflict_row(batch_id: int, record: dict[str, Any], kept: str, where: str, now: datetime) -> dict[str, Any]:
    reason = f"{CONFLICTING_LABEL}: {record['label']!r} here, {kept!r} kept from {where}"
    return {
        "batch_id": batch_id,
        "source": record["source"],
        "location": record["location"],
        "kind": "conflict",
        "tweet_id": record["id"],
        "raw": record["raw"],
        "reasons": [reason],
        "quarantined_at": now,
    }


def _text_conflict_row(batch_id: int, record: dict[str, Any], where: str, now: datetime) -> dict[str, Any]:
    return {**_conflict_row(batch_id, record, "", where, now), "reasons": [f"{DIFFERENT_TEXT}: kept the text from {where}"]}


def write_prepared(conn, batch_id: int, prepared: PreparedBatch, summary: BatchSummary, write_rows: int = 20_000) -> list[str]:
    """Write a prepared batch's tweets, labels and quarantine rows under ``batch_id`` inside the
    caller's transaction, adding what happened to each row to ``summary``'s counts; returns the
    ids of the tweets it inserted."""
    now = utcnow()
    stored, stored_gold = _existing(conn, [r["id"] for r in prepared.unique])

    new_tweets, new_labels, quarantined, text_conflicts = [], [], [], []
    kept_label: dict[str, tuple[str, str]] = {}  # id -> (label, where it came from)
    kept_text: dict[str, tuple[str, str]] = {}  # id -> (same_text_key of the kept text, where)

    def same_text(record: dict[str, Any]) -> bool:
        """Whether the record's text is the kept one; if not, record a text conflict."""
        key, where = kept_text[record["id"]]
        if same_text_key(record["text"]) == key:
            return True
        text_conflicts.append(_text_conflict_row(batch_id, record, where, now))
        return False

    def take_label(record: dict[str, Any]) -> None:
        """First label wins (even from a duplicate whose first occurrence had none); a
        different later label is a conflict."""
        if record["label"] is None:
            return
        tid = record["id"]
        if tid in kept_label:
            label, where = kept_label[tid]
            if label != record["label"]:
                quarantined.append(_conflict_row(batch_id, record, label, where, now))
            return
        kept_label[tid] = (record["label"], record["location"])
        new_labels.append({"tweet_id": tid, "label": record["label"], "origin": GOLD, "batch_id": batch_id, "labeled_at": now})

    for record in prepared.unique:
        tid = record["id"]
        if tid in stored:
            summary.rows_duplicate += 1
            if tid in stored_gold:
                kept_label[tid] = (stored_gold[tid], "the database")
            kept_text[tid] = (same_text_key(stored[tid]), "the database")
            if not same_text(record):
                continue
        else:
            kept_text[tid] = (same_text_key(record["text"]), record["location"])
            new_tweets.append(
                {
                    "id": tid,
                    "source": record["source"],
                    "source_id": record["source_id"],
                    "text": record["text"],
                    "clean_text": record["clean_text"],
                    "created_at": record["created_at"],
                    "author": record["author"],
                    "lang": record["lang"],
                    "topic": record["topic"],
                    "batch_id": batch_id,
                    "ingested_at": now,
                }
            )
        take_label(record)
    for record in prepared.duplicates:
        summary.rows_duplicate += 1
        if same_text(record):
            take_label(record)
    summary.label_conflicts += len(quarantined)
    summary.text_conflicts += len(text_conflicts)
    quarantined += text_conflicts
    for record, reasons in prepared.rejected:
        quarantined.append(
            {
                "batch_id": batch_id,
                "source": record["source"],
                "location": record["location"],
                "kind": "invalid",
                "tweet_id": record["id"] if record["id"] and len(record["id"]) <= 96 else None,
                "raw": record["raw"],
                "reasons": reasons,
                "quarantined_at": now,
            }
        )
    summary.rows_quarantined += len(prepared.rejected)
    summary.rows_inserted += len(new_tweets)
    summary.labels_inserted += len(new_labels)
    for table, rows in ((tweets, new_tweets), (labels, new_labels), (quarantine, quarantined)):
        bulk_insert(conn, table, rows, write_rows)
    return [row["id"] for row in new_tweets]


def store_batch(engine: Engine, prepared: PreparedBatch, write_rows: int = 20_000) -> BatchSummary:
    """Write the batch, its quarantine and its counts in one transaction; idempotent by fingerprint."""
    batch = prepared.batch
    started = utcnow()
    summary = BatchSummary(
        source=batch.source,
        origin=batch.origin,
        fingerprint=batch.fingerprint,
        format=batch.format,
        rows_read=len(prepared.unique) + len(prepared.duplicates) + len(prepared.rejected),
        failures=dict(prepared.failures),
        started_at=started,
    )
    try:
        with write_transaction(engine) as conn:
            previous = find_batch(conn, batch.fingerprint)
            if previous is not None:
                return skipped_summary(batch, previous)
            batch_id = conn.execute(
                ingest_batches.insert().values(
                    source=batch.source, origin=batch.origin, fingerprint=batch.fingerprint, format=batch.format, started_at=started
                )
            ).inserted_primary_key[0]
            summary.batch_id = batch_id
            write_prepared(conn, batch_id, prepared, summary, write_rows)
            summary.finished_at = utcnow()
            conn.execute(
                ingest_batches.update()
                .where(ingest_batches.c.id == batch_id)
                .values(
                    rows_read=summary.rows_read,
                    rows_inserted=summary.rows_inserted,
                    rows_duplicate=summary.rows_duplicate,
                    rows_quarantined=summary.rows_quarantined,
                    label_conflicts=summary.label_conflicts,
                    labels_inserted=summary.labels_inserted,
                    finished_at=summary.finished_at,
                )
            )
    except IntegrityError:
        # A concurrent run stored the same fingerprint first (unique constraint): that is a skip.
        with engine.connect() as conn:
            previous = find_batch(conn, batch.fingerprint)
        if previous is None:
            raise
        return skipped_summary(batch, previous)
    if not summary.reconciles:  # a bug, not bad input: fail loudly
        raise AssertionError(f"batch {summary.batch_id} does not reconcile: {summary.to_dict()}")
    return summary


def summary_markdown(summaries: Sequence[BatchSummary]) -> str:
    """A readable batch summary (used for the Prefect artifact and the command line)."""
    lines = [
        "| batch | source | origin | read | inserted | duplicate | quarantined | label conflicts | labels |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        if s.skipped:
            lines.append(f"| {s.batch_id} | {s.source} | {s.origin} | skipped: {s.skip_reason} | | | | | |")
        else:
            lines.append(
                f"| {s.batch_id} | {s.source} | {s.origin} | {s.rows_read} | {s.rows_inserted} | {s.rows_duplicate} | "
                f"{s.rows_quarantined} | {s.label_conflicts} | {s.labels_inserted} |"
            )
    reasons: dict[str, int] = {}
    for s in summaries:
        for reason, count in s.failures.items():
            reasons[reason] = reasons.get(reason, 0) + count
    if reasons:
        lines += ["", "**Quarantine reasons**", "", "| reason | rows |", "|---|---:|"]
        lines += [f"| {reason} | {count} |" for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1])]
    conflicts = sum(s.label_conflicts for s in summaries)
    if conflicts:
        lines += ["", f"{conflicts} duplicate rows disagreed with the stored label: kept the first label; see `tweetsent quarantine --kind conflict`."]
    text_conflicts = sum(s.text_conflicts for s in summaries)
    if text_conflicts:
        lines += ["", f"{text_conflicts} rows had the id of another tweet but a different text: kept the first text; see `tweetsent quarantine --kind conflict`."]
    return "\n".join(lines)
