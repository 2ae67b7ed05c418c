"""Fixtures for the ``tweetsent sql`` tests: a database filled by the pipeline, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import torch
from sqlalchemy import create_engine, text

from sentiment.data import ingest as lib
from sentiment.data.datasets import split_labelled, texts_for
from sentiment.data.records import SourceBatch
from sentiment.data.sources import plan_inputs, read_file, read_synthetic
from sentiment.data.sources.live.jetstream import event_record, parse_message
from sentiment.data.validation import validate_records
from sentiment.model.classifier import SentimentClassifier
from sentiment.model.scoring import score_unscored
from sentiment.model.training import TrainConfig, fine_tune
from sentiment.reporting.metrics import compute_metrics
from sentiment.store import evaluation_slices, registry, tweets
from sentiment.store.database import dispose_engines, init_db
from sentiment.store.engine import make_engine, normalize_url
from tests.conftest import PG_URL
from tests.jetstream_server import post_event, uri
from tests.malformed import write_malformed

LABELS = ("negative", "neutral", "positive")
LABEL_SET = ",".join(LABELS)

# --- filling a database with the pipeline ----------------------------------------------------

CONFLICT_AND_MULTI_REASON = (
    b"id,text,created_at,label\n"
    b"101,thanks for nothing,2026-01-05T10:00:00Z,negative\n"  # gold label conflict with the malformed file's row 101
    b"301,,yesterday-ish,angry\n"  # three reasons at once
)


def prepare_inputs(folder: Path) -> list[lib.PreparedBatch]:
    """Synthetic tweets, the malformed file and a label conflict, validated and cleaned (once: the
    same batches go into every database)."""
    write_malformed(folder / "malformed.csv")
    (folder / "conflict.csv").write_bytes(CONFLICT_AND_MULTI_REASON)
    batches = [read_synthetic(300, 13)] + [read_file(plan_inputs([folder / name])[0]) for name in ("malformed.csv", "conflict.csv")] + [streamed_posts()]
    return [lib.clean_batch(lib.dedupe_batch(b, validate_records(b.records, LABELS, 1000))) for b in batches]


def streamed_posts() -> SourceBatch:
    """Six posts as the Jetstream stream stores them, written a minute ago (for live_sentiment)."""
    records = []
    for n, words in enumerate(["delta lost my bag", "thanks delta, great crew", "delta gate 5?", "worst delay ever delta", "love delta", "delta ok"]):
        event = post_event(n, words)
        event["commit"]["record"]["createdAt"] = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        records.append(event_record(parse_message(json.dumps({**event, "time_us": 1_800_000_000_000_000 + n})), "delta"))
    return SourceBatch(source="bluesky", origin="jetstream:test", fingerprint="jetstream-test", format="jetstream_v1", records=records)


STREAMED_DELETED = uri(0)


def fill(engine, models_dir: Path, trained: SentimentClassifier, untrained: SentimentClassifier, prepared: list[lib.PreparedBatch]) -> None:
    """Store the prepared batches, freeze the test set, evaluate and register two model versions
    (the fine-tuned one becomes champion), score every tweet with both."""
    for batch in prepared:
        lib.store_batch(engine, batch)
    with engine.begin() as conn:  # its author deleted one of the streamed posts
        conn.execute(tweets.update().where(tweets.c.id == STREAMED_DELETED).values(deleted_at=datetime(2026, 12, 4)))
    split = split_labelled(engine, LABELS, 0.15, 0.1, 13)
    for classifier in (trained, untrained):
        version_id, folder = registry.create_version(
            engine, base_checkpoint="tiny", label_set=LABEL_SET, hyperparameters={}, data_snapshot=split.snapshot(), models_dir=models_dir
        )
        classifier.save(folder)
        metrics = compute_metrics([r["label"] for r in split.test], classifier.predict(texts_for(split.test), batch_size=32), LABELS)
        registry.record_results(engine, version_id, metrics.to_dict(), 1.0)
        registry.promote_if_better(engine, version_id)
        score_unscored(engine, classifier, version_id, chunk=128, batch_size=32)
        # slices as the audit stores them; the second version is worse on two of them
        table = [("length", "short", 0.61), ("length", "long", 0.55), ("url", "with URL", 0.58), ("url", "no URL", 0.6)]
        worse = version_id % 2 == 0
        with engine.begin() as conn:
            conn.execute(evaluation_slices.insert(), [
                {"model_version_id": version_id, "test_set_id": None, "grp": g, "slice": name, "n": 40, "macro_f1": f1 - (0.1 if worse and g == "length" else 0),
                 "low": f1 - 0.15, "high": f1 + 0.1, "worst": False, "created_at": datetime(2026, 12, 1)} for g, name, f1 in table
            ])


# Session scope: the (slow) filling runs once and both test_sql.py and test_sql_parameters.py read the result.


@pytest.fixture(scope="session")
def classifiers(tiny_checkpoint, tmp_path_factory):
    """A tiny model fine-tuned for one epoch on the synthetic tweets, and an untrained one."""
    torch.manual_seed(5)
    untrained = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32)
    torch.manual_seed(7)
    trained = SentimentClassifier.from_checkpoint(str(tiny_checkpoint), LABELS, max_length=32)
    rows = [r for r in read_synthetic(300, 13).records]
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    fine_tune(trained, texts[:160], labels[:160], texts[160:200], labels[160:200], TrainConfig(epochs=1, batch_size=16, learning_rate=1e-3, log_every_s=0))
    return trained, untrained


@pytest.fixture(scope="session")
def filled(classifiers, tmp_path_factory):
    """backend -> TWEETSENT_* variables of a database filled by :func:`fill` (the same data in each)."""
    root = tmp_path_factory.mktemp("filled")
    (root / "inputs").mkdir()
    prepared = prepare_inputs(root / "inputs")
    envs: dict[str, dict[str, str]] = {}
    schemas = []
    for backend in ["sqlite"] + (["postgresql"] if PG_URL else []):
        home = root / backend
        if backend == "sqlite":
            env = {"TWEETSENT_HOME": str(home), "TWEETSENT_DB_URL": f"sqlite:///{home / 'tweetsent.db'}"}
        else:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            schemas.append(schema)
            env = {"TWEETSENT_HOME": str(home), "TWEETSENT_DB_URL": PG_URL, "TWEETSENT_DB_SCHEMA": schema}
        engine = make_engine(env["TWEETSENT_DB_URL"], env.get("TWEETSENT_DB_SCHEMA"))
        init_db(engine)
        fill(engine, home / "models", *classifiers, prepared)
        engine.dispose()
        envs[backend] = env
    yield envs
    dispose_engines()
    if schemas:
        admin = create_engine(normalize_url(PG_URL))
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def use_db(monkeypatch):
    """Point the TWEETSENT_* variables at one filled database."""

    def use(env: dict[str, str]) -> None:
        for key in ("TWEETSENT_DB_URL", "TWEETSENT_DB_SCHEMA", "TWEETSENT_HOME", "TWEETSENT_LABELS", "TWEETSENT_CONFIG"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)

    yield use
    dispose_engines()
