"""Batch scoring: every tweet a model version has not scored yet, streamed in chunks.

Each chunk is read by keyset (``tweets.id > last id``, no OFFSET), scored, and written in its own
transaction with "insert, ignore if (tweet, model version) exists". Memory stays bounded by the
chunk size; a run that dies half-way keeps its finished chunks and a re-run continues where it
stopped; two overlapping runs cannot score a tweet twice, because the unique constraint on
``scores(tweet_id, model_version_id)`` decides, not timing.

Scale-out: :func:`unscored_ranges` cuts the unscored tweets into keyset ranges ``(after, upto]``
of ``chunk`` tweets each, the same chunks a single process reads one after the other, and
:func:`score_range` scores one range. Ranges are independent, so any number of processes or
machines (Dask workers) can score them in parallel and get exactly the single-process results.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from sentiment.clock import utcnow
from sentiment.model.folders import first_line, model_folder_problem
from sentiment.store import scores, tweets, write_transaction

logger = logging.getLogger(__name__)

#: progress(scored so far, total to score at start, tweets/s)
ScoreProgress = Callable[[int, int, float], None]
STANDARD_COLUMNS = {"negative": "p_negative", "neutral": "p_neutral", "positive": "p_positive"}


@dataclass
class ScoreSummary:
    model_version_id: int
    to_score: int
    scored: int
    already_scored_by_others: int
    seconds: float
    tweets_per_s: float

    @classmethod
    def of(cls, model_version_id: int, to_score: int, scored: int, skipped: int, seconds: float) -> ScoreSummary:
        """A summary whose rate counts every tweet handled (stored here or already by another run)."""
        return cls(model_version_id, to_score, scored, skipped, seconds, (scored + skipped) / seconds if seconds > 0 else 0.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_unscored(engine: Engine, model_version_id: int) -> int:
    scored = select(scores.c.tweet_id).where(scores.c.model_version_id == model_version_id)
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(tweets).where(tweets.c.id.not_in(scored))).scalar_one()


def _unscored(model_version_id: int, *columns):
    return select(*columns).outerjoin(scores, and_(scores.c.tweet_id == tweets.c.id, scores.c.model_version_id == model_version_id)).where(scores.c.id.is_(None))


def unscored_chunks(engine: Engine, model_version_id: int, chunk: int, after: str = "", upto: str | None = None) -> Iterator[list[tuple[str, str]]]:
    """(tweet id, clean_text) chunks in id order that ``model_version_id`` has not scored, with
    ``after < id <= upto`` (``upto=None``: no upper bound)."""
    last = after
    while True:
        query = _unscored(model_version_id, tweets.c.id, tweets.c.clean_text).where(tweets.c.id > last)
        if upto is not None:
            query = query.where(tweets.c.id <= upto)
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(query.order_by(tweets.c.id).limit(chunk))]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def unscored_ranges(engine: Engine, model_version_id: int, chunk: int) -> list[tuple[str, str | None]]:
    """Keyset ranges ``(after, upto]`` of ``chunk`` unscored tweets each, in id order; the last
    range is open-ended (``upto=None``), so tweets that arrive meanwhile are scored too.

    Only the boundary ids are read (one small query per range, never the texts), so planning a
    million tweets costs a few hundred ids of memory.
    """
    ranges: list[tuple[str, str | None]] = []
    last = ""
    with engine.connect() as conn:
        while True:
            query = _unscored(model_version_id, tweets.c.id).where(tweets.c.id > last).order_by(tweets.c.id).offset(chunk - 1).limit(1)
            boundary = conn.execute(query).scalar_one_or_none()
            if boundary is None:
                break
            ranges.append((last, boundary))
            last = boundary
        if conn.execute(_unscored(model_version_id, tweets.c.id).where(tweets.c.id > last).limit(1)).first() is not None or not ranges:
            ranges.append((last, None))
    return ranges


def score_rows(ids: list[str], probabilities, labels: tuple[str, ...], model_version_id: int) -> list[dict[str, Any]]:
    now = utcnow()
    out = []
    for tid, probs in zip(ids, probabilities):
        best = int(probs.argmax())
        row = {
            "tweet_id": tid,
            "model_version_id": model_version_id,
            "label": labels[best],
            "confidence": float(probs[best]),
            "p_negative": None,
            "p_neutral": None,
            "p_positive": None,
            "probabilities": {label: round(float(p), 6) for label, p in zip(labels, probs)},
            "scored_at": now,
        }
        for label, p in zip(labels, probs):
            if label in STANDARD_COLUMNS:
                row[STANDARD_COLUMNS[label]] = float(p)
        out.append(row)
    return out


def write_scores(engine: Engine, rows: list[dict[str, Any]]) -> int:
    """Insert, skipping (tweet, version) pairs that exist; returns rows actually inserted."""
    if not rows:
        return 0
    with write_transaction(engine) as conn:
        return insert_scores(conn, rows)


def insert_scores(conn, rows: list[dict[str, Any]]) -> int:
    """:func:`write_scores` inside the caller's transaction (the stream stores a micro-batch's
    tweets and their scores together)."""
    if not rows:
        return 0
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    # RETURNING lists only the rows this statement inserted, whatever a concurrent run committed.
    statement = insert(scores).on_conflict_do_nothing(index_elements=["tweet_id", "model_version_id"]).returning(scores.c.tweet_id)
    return len(conn.execute(statement, rows).all())


def score_chunk(engine: Engine, classifier, model_version_id: int, rows: list[tuple[str, str]], batch_size: int) -> int:
    """Score and store one chunk of (tweet id, clean_text); returns rows actually inserted."""
    probs = classifier.predict_proba([r[1] for r in rows], batch_size=batch_size)
    return write_scores(engine, score_rows([r[0] for r in rows], probs, classifier.labels, model_version_id))


def score_range(
    engine: Engine, classifier, model_version_id: int, after: str, upto: str | None, chunk: int = 2048, batch_size: int = 64
) -> ScoreSummary:
    """Score the unscored tweets with ``after < id <= upto`` (one range of :func:`unscored_ranges`)."""
    started = time.perf_counter()
    seen = scored = 0
    for rows in unscored_chunks(engine, model_version_id, chunk, after=after, upto=upto):
        scored += score_chunk(engine, classifier, model_version_id, rows, batch_size)
        seen += len(rows)
    seconds = time.perf_counter() - started
    return ScoreSummary.of(model_version_id, seen, scored, seen - scored, seconds)


def combine_summaries(model_version_id: int, parts: list[ScoreSummary], seconds: float) -> ScoreSummary:
    """One summary for ranges scored in parallel; the rate is over the wall-clock ``seconds``."""
    seen = sum(p.to_score for p in parts)
    scored = sum(p.scored for p in parts)
    return ScoreSummary.of(model_version_id, seen, scored, seen - scored, seconds)


def scoring_threads(score_threads: int, local_workers: int) -> int:
    """PyTorch threads for one scoring process: ``score_threads`` when set, else the usable cores
    shared by ``local_workers`` processes on this machine (0 or 1: all of them)."""
    from sentiment.model.classifier import usable_cores

    if score_threads > 0:
        return score_threads
    return max(1, usable_cores() // max(1, local_workers))


_CACHE_LOCK = threading.Lock()
_CLASSIFIERS: dict[tuple[str, str, str, int, str], Any] = {}
_CACHE_SIZE = 2


def _model_name(folder: Path) -> str:
    """``v3`` for the registry's ``.../v0003`` folders, else the folder's name."""
    name = folder.name
    return f"v{int(name[1:])}" if name[:1] == "v" and name[1:].isdigit() else name


def load_classifier(folder: str | Path, device: str = "cpu", quantize: str = "off", precision: str = "fp32"):
    """The classifier saved in ``folder``; a missing or damaged file is a one-line
    :class:`~sentiment.errors.UserError` naming it (``model v3: /…/model.safetensors is damaged
    (…)``), which retrying cannot fix."""
    from sentiment.errors import UserError
    from sentiment.model.classifier import SentimentClassifier

    folder = Path(folder)
    problem = model_folder_problem(folder)
    if problem:
        raise UserError(f"model {_model_name(folder)}", problem, hint="retrain, or promote another version with `tweetsent promote N`")
    try:
        return SentimentClassifier.load(folder, device=device, quantize=quantize, precision=precision)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a file that reads but does not fit (wrong shapes, a bad config)
        if isinstance(exc, UserError):
            raise
        raise UserError(f"model {_model_name(folder)}", f"{folder} cannot be loaded ({type(exc).__name__}: {first_line(exc)})") from exc


def cached_classifier(folder: str | Path, device: str = "cpu", quantize: str = "off", threads: int = 0, precision: str = "fp32"):
    """The classifier saved in ``folder``, loaded once per process and kept (the latest two).

    A worker process scores many ranges with the same model version: loading it (and quantizing
    it, casting it) per range would cost more than scoring the range. A damaged folder raises
    a one-line ``UserError`` (see :func:`load_classifier`).
    """
    from sentiment.model.classifier import configure_cpu_threads

    key = (str(folder), device, quantize, threads, precision)
    with _CACHE_LOCK:
        if key not in _CLASSIFIERS:
            if device != "cuda":
                configure_cpu_threads(threads)
            _CLASSIFIERS[key] = load_classifier(folder, device=device, quantize=quantize, precision=precision)
            # A long-lived process (``tweetsent serve``, a Dask worker) outlives champions: keep
            # only the latest few models, not one per version ever scored.
            while len(_CLASSIFIERS) > _CACHE_SIZE:
                _CLASSIFIERS.pop(next(iter(_CLASSIFIERS)))
        return _CLASSIFIERS[key]


def score_unscored(
    engine: Engine,
    classifier,
    model_version_id: int,
    chunk: int = 2048,
    batch_size: int = 64,
    progress: ScoreProgress | None = None,
    max_chunks: int | None = None,
) -> ScoreSummary:
    """Score every tweet ``model_version_id`` has not scored yet (``max_chunks`` stops early: tests)."""
    total = count_unscored(engine, model_version_id)
    started = time.perf_counter()
    scored = skipped = 0
    for n, rows in enumerate(unscored_chunks(engine, model_version_id, chunk)):
        if max_chunks is not None and n >= max_chunks:
            break
        inserted = score_chunk(engine, classifier, model_version_id, rows, batch_size)
        scored += inserted
        skipped += len(rows) - inserted
        rate = (scored + skipped) / (time.perf_counter() - started)
        logger.info("scored %d/%d tweets (%.1f tweets/s)", scored + skipped, total, rate)
        if progress is not None:
            progress(scored + skipped, total, rate)
    seconds = time.perf_counter() - started
    return ScoreSummary.of(model_version_id, total, scored, skipped, seconds)
