"""Inbox files: moved to <inbox>/done/ once ingested (or kept, by a setting); never stored twice."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select

from flows.ingest import ingest
from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv
from sentiment.settings import Settings
from sentiment.store import ingest_batches, open_db, tweets


def _counts(settings) -> tuple[int, int]:
    with open_db(settings).connect() as conn:
        return (conn.execute(select(func.count()).select_from(tweets)).scalar_one(), conn.execute(select(func.count()).select_from(ingest_batches)).scalar_one())


def test_ingested_inbox_files_move_to_done_and_a_copy_is_not_stored_again(db_env, tmp_path):
    settings = Settings()
    settings.ensure_home()
    write_synthetic_csv(settings.inbox / "a.csv", SyntheticSpec(count=30, seed=1))
    write_synthetic_csv(tmp_path / "b.csv", SyntheticSpec(count=20, seed=2))
    shutil.copy(tmp_path / "b.csv", settings.inbox / "b.csv")
    summaries = ingest()
    assert sorted(s.rows_inserted for s in summaries) == [20, 30]
    assert sorted(p.name for p in settings.inbox.iterdir()) == ["done"]
    assert sorted(p.name for p in (settings.inbox / "done").iterdir()) == ["a.csv", "b.csv"]
    shutil.copy(tmp_path / "b.csv", settings.inbox / "b.csv")  # the same file dropped again
    (again,) = ingest()
    assert again.skipped and _counts(settings) == (50, 2)
    assert sorted(p.name for p in (settings.inbox / "done").iterdir()) == ["a.csv", "b.1.csv", "b.csv"]
    assert ingest() == []  # an empty inbox (done/ is not reported as skipped)


def test_kept_inbox_files_stay_and_are_skipped_the_next_time(db_env, monkeypatch):
    monkeypatch.setenv("TWEETSENT_INBOX_KEEP_PROCESSED", "true")
    settings = Settings()
    settings.ensure_home()
    write_synthetic_csv(settings.inbox / "a.csv", SyntheticSpec(count=30, seed=1))
    (first,) = ingest()
    (second,) = ingest()
    assert first.rows_inserted == 30 and second.skipped and _counts(settings) == (30, 1)
    assert [p.name for p in settings.inbox.iterdir()] == ["a.csv"]
