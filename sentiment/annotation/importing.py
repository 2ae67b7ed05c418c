"""Storing annotators' answers: every answer once, the majority as the tweet's human label.

- The file (or the Label Studio export) is one ``ingest_batches`` row (source ``annotations``)
  whose fingerprint is its content: importing the same export again is a skip. Answers carry a
  ``ref`` (Label Studio's task and annotation ids, or a hash of a CSV row): one seen before counts
  as a duplicate, so a later export that repeats earlier answers changes nothing either.
- Answers that cannot be used go to quarantine with their reasons (unknown tweet id, unknown
  choice, empty or cancelled annotation); rows read = stored + duplicate + quarantined.
- A tweet's human label is the majority of its annotators, each counted once (their latest
  answer). A tie is a conflict: recorded in quarantine (kind ``conflict``) and no human label is
  kept. A human label that disagrees with the tweet's gold label is stored and recorded as a
  conflict; which one training uses is ``TWEETSENT_LABEL_PRIORITY`` (default human, gold, weak).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from sentiment.annotation.formats import Answer
from sentiment.clock import utcnow
from sentiment.data.ingest import BatchSummary, find_batch, skipped_summary
from sentiment.data.records import SourceBatch, dumps
from sentiment.store import IN_CHUNK, bulk_insert, chunked, ingest_batches, labels, quarantine, tweets, write_transaction
from sentiment.store.annotation_store import LABELLED, PENDING
from sentiment.store.schema import annotation_tasks, annotations

SOURCE = "annotations"
HUMAN = "human"


def _conflict(batch_id: int, tweet_id: str, origin: str, reason: str, votes: dict, now: datetime) -> dict:
    return {
        "batch_id": batch_id, "source": SOURCE, "location": origin, "kind": "conflict", "tweet_id": tweet_id,
        "raw": dumps(votes), "reasons": [reason], "quarantined_at": now,
    }


def _resolve(conn, batch_id: int, tweet_ids: Sequence[str], origin: str, summary: BatchSummary, now: datetime) -> list[dict]:
    """Set (or clear) the human label of each tweet from all its stored answers; the conflicts."""
    conflicts = []
    for part in chunked(sorted(set(tweet_ids)), IN_CHUNK):
        rows = conn.execute(
            select(annotations.c.tweet_id, annotations.c.annotator, annotations.c.label, annotations.c.annotated_at, annotations.c.id)
            .where(annotations.c.tweet_id.in_(part))
            .order_by(annotations.c.tweet_id, annotations.c.annotated_at, annotations.c.id)
        ).all()
        current = {(t, o): (lab, a) for t, o, lab, a in conn.execute(select(labels.c.tweet_id, labels.c.origin, labels.c.label, labels.c.annotator).where(labels.c.tweet_id.in_(part)))}
        latest: dict[str, dict[str, str]] = {}
        for tid, annotator, label, _, _ in rows:  # later answers of one annotator replace earlier ones
            latest.setdefault(tid, {})[annotator] = label
        for tid, by_annotator in latest.items():
            votes = Counter(by_annotator.values())
            ranked = votes.most_common()
            shown = {label: sorted(a for a, lab in by_annotator.items() if lab == label) for label in votes}
            if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
                conflicts.append(_conflict(batch_id, tid, origin, "annotators disagree: " + ", ".join(f"{lab} ×{n}" for lab, n in ranked) + " (no majority: no human label kept)", shown, now))
                if (tid, HUMAN) in current:
                    conn.execute(delete(labels).where(labels.c.tweet_id == tid, labels.c.origin == HUMAN))
                continue
            label = ranked[0][0]
            who = ", ".join(shown[label])[:256]
            old = current.get((tid, HUMAN))
            if old is None:
                conn.execute(labels.insert().values(tweet_id=tid, label=label, origin=HUMAN, batch_id=batch_id, labeled_at=now, annotator=who))
                summary.labels_inserted += 1
            elif old[0] != label:
                conn.execute(update(labels).where(labels.c.tweet_id == tid, labels.c.origin == HUMAN).values(label=label, batch_id=batch_id, labeled_at=now, annotator=who))
                summary.labels_inserted += 1
            elif old[1] != who:
                conn.execute(update(labels).where(labels.c.tweet_id == tid, labels.c.origin == HUMAN).values(annotator=who))
            gold = current.get((tid, "gold"))
            if gold is not None and gold[0] != label:
                conflicts.append(_conflict(batch_id, tid, origin, f"human label {label!r} disagrees with gold {gold[0]!r} (training follows TWEETSENT_LABEL_PRIORITY)", shown, now))
        tied = {c["tweet_id"] for c in conflicts if c["reasons"][0].startswith("annotators disagree")}
        done = [t for t in latest if t not in tied]
        conn.execute(update(annotation_tasks).where(annotation_tasks.c.tweet_id.in_(done), annotation_tasks.c.status == PENDING).values(status=LABELLED))
        if tied:  # no majority yet: may be sent again for another opinion
            conn.execute(update(annotation_tasks).where(annotation_tasks.c.tweet_id.in_(sorted(tied)), annotation_tasks.c.status == PENDING).values(status="tie"))
    return conflicts


def store_answers(engine: Engine, answers: Sequence[Answer], *, origin: str, fingerprint: str, fmt: str) -> BatchSummary:
    """Store an export's answers in one transaction (see the module docstring)."""
    now = utcnow()
    summary = BatchSummary(source=SOURCE, origin=origin, fingerprint=fingerprint, format=fmt, rows_read=len(answers), started_at=now)
    try:
        with write_transaction(engine) as conn:
            previous = find_batch(conn, fingerprint)
            if previous is not None:
                return skipped_summary(SourceBatch(SOURCE, origin, fingerprint, fmt), previous)
            batch_id = conn.execute(ingest_batches.insert().values(source=SOURCE, origin=origin, fingerprint=fingerprint, format=fmt, started_at=now)).inserted_primary_key[0]
            summary.batch_id = batch_id
            ids = {a.tweet_id for a in answers if a.tweet_id}
            known: set[str] = set()
            seen_refs: set[str] = set()
            for part in chunked(sorted(ids), IN_CHUNK):
                known.update(conn.execute(select(tweets.c.id).where(tweets.c.id.in_(part))).scalars())
            for part in chunked(sorted({a.ref for a in answers}), IN_CHUNK):
                seen_refs.update(conn.execute(select(annotations.c.ref).where(annotations.c.ref.in_(part))).scalars())
            new, bad = [], []
            for answer in answers:
                problems = list(answer.problems)
                if answer.tweet_id and answer.tweet_id not in known:
                    problems.insert(0, f"unknown tweet id {answer.tweet_id[:100]!r} (not in the tweets table)")
                if problems:
                    bad.append({"batch_id": batch_id, "source": SOURCE, "location": answer.location, "kind": "invalid",
                                "tweet_id": answer.tweet_id if answer.tweet_id in known else None, "raw": answer.raw, "reasons": problems, "quarantined_at": now})
                    for reason in problems:
                        key = reason.split(" (")[0].split(":")[0]
                        summary.failures[key] = summary.failures.get(key, 0) + 1
                elif answer.ref in seen_refs:
                    summary.rows_duplicate += 1
                else:
                    seen_refs.add(answer.ref)
                    new.append({"ref": answer.ref, "tweet_id": answer.tweet_id, "annotator": answer.annotator, "label": answer.label,
                                "annotated_at": answer.annotated_at, "batch_id": batch_id, "imported_at": now})
            bulk_insert(conn, annotations, new)
            conflicts = _resolve(conn, batch_id, [r["tweet_id"] for r in new], origin, summary, now)
            bulk_insert(conn, quarantine, bad + conflicts)
            summary.rows_inserted, summary.rows_quarantined, summary.label_conflicts = len(new), len(bad), len(conflicts)
            summary.finished_at = utcnow()
            conn.execute(
                update(ingest_batches).where(ingest_batches.c.id == batch_id).values(
                    rows_read=summary.rows_read, rows_inserted=summary.rows_inserted, rows_duplicate=summary.rows_duplicate,
                    rows_quarantined=summary.rows_quarantined, label_conflicts=summary.label_conflicts, labels_inserted=summary.labels_inserted,
                    finished_at=summary.finished_at, status="imported",
                )
            )
    except IntegrityError:  # the same export imported by a racing run
        with engine.connect() as conn:
            previous = find_batch(conn, fingerprint)
        if previous is None:
            raise
        return skipped_summary(SourceBatch(SOURCE, origin, fingerprint, fmt), previous)
    return summary
