"""The ingest flow and the command line, against a real Prefect API and a real database."""

from __future__ import annotations

import json

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy import select
from typer.testing import CliRunner

from flows.cli.main import app
from flows.ingest import ingest
from sentiment.settings import Settings
from sentiment.store import ingest_batches, open_db, quarantine, table_counts
from tests.malformed import BAD, GOOD, write_malformed

runner = CliRunner()


@pytest.fixture(autouse=True)
def _prefect_home(tmp_path, monkeypatch):
    # The command line points PREFECT_HOME at tweetsent's home when unset; the harness is already
    # configured, so keep the test's environment as it is.
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))


async def _latest_artifact(key: str):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with get_client() as client:
        found = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=1)
    return found[0] if found else None


def test_flow_ingests_a_file_and_the_synthetic_source(db_env, tmp_path):
    path = write_malformed(tmp_path / "malformed.csv")
    summaries = ingest(paths=[str(path)], source="synthetic")
    assert [s.source for s in summaries] == ["generic", "synthetic"]
    file_summary, synthetic_summary = summaries
    assert (file_summary.rows_inserted, file_summary.rows_quarantined) == (len(GOOD), len(BAD))
    assert synthetic_summary.rows_read == Settings().synthetic_count
    assert synthetic_summary.rows_inserted + synthetic_summary.rows_duplicate + synthetic_summary.rows_quarantined == synthetic_summary.rows_read
    with open_db(Settings()).connect() as conn:
        counts = table_counts(conn)
    assert counts["ingest_batches"] == 2
    assert counts["tweets"] == len(GOOD) + synthetic_summary.rows_inserted

    import asyncio

    artifact = asyncio.run(_latest_artifact("ingest-summary"))
    assert artifact is not None and "| read | inserted |" in artifact.data
    # a second run is a skip for both inputs
    again = ingest(paths=[str(path)], source="synthetic")
    assert [s.skipped for s in again] == [True, True]


def test_replay_takes_one_day_per_run(db_env, tmp_path):
    from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv

    path = tmp_path / "days.csv"
    write_synthetic_csv(path, SyntheticSpec(count=300, seed=5, days=3))
    days = []
    for _ in range(4):
        summaries = ingest(source=f"replay:{path}")
        days.append([s.origin.rsplit("replay of ", 1)[-1].rstrip(")") for s in summaries])
    assert days == [["2026-01-05"], ["2026-01-06"], ["2026-01-07"], []]
    with open_db(Settings()).connect() as conn:
        batches = conn.execute(select(ingest_batches.c.rows_inserted)).scalars().all()
    assert sum(batches) == 300


def test_cli_ingest_status_and_quarantine(db_env, tmp_path):
    path = write_malformed(tmp_path / "malformed.csv")
    result = runner.invoke(app, ["ingest", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("[") :])[0]
    assert summary["rows_read"] == len(GOOD) + len(BAD)

    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    info = json.loads(status.stdout)
    assert info["tables"]["tweets"] == len(GOOD)
    assert info["quarantine"] == {"invalid": len(BAD), "conflict": 0}
    assert info["last_batches"][0]["rows_quarantined"] == len(BAD)

    listed = runner.invoke(app, ["quarantine", "--json", "--kind", "invalid"])
    rows = json.loads(listed.stdout)
    assert len(rows) == len(BAD)
    assert all(row["reasons"] for row in rows)

    text = runner.invoke(app, ["status"])
    assert "tweets" in text.stdout and "quarantine: 8 invalid rows" in text.stdout


def test_cli_reports_bad_input_clearly_and_leaves_no_batch(db_env, tmp_path):
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
    assert "nope.csv: no such file or folder" in missing.stderr
    unknown = tmp_path / "sales.csv"
    unknown.write_text("region,amount\nnorth,3\n")
    bad = runner.invoke(app, ["ingest", str(unknown)])
    assert bad.exit_code == 2
    assert "unknown layout" in bad.stderr and "['region', 'amount']" in bad.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text('id,text\n1,"never closed\n2,fine\n')
    assert runner.invoke(app, ["ingest", str(broken)]).exit_code == 2
    with open_db(Settings()).connect() as conn:
        assert table_counts(conn)["ingest_batches"] == 0
        assert conn.execute(select(quarantine)).first() is None
    bad_source = runner.invoke(app, ["ingest", "--source", "twitter"])
    assert bad_source.exit_code == 2 and "unknown source" in bad_source.stderr


def test_cli_bad_setting_is_a_clear_error(db_env, monkeypatch):
    monkeypatch.setenv("TWEETSENT_LABELS", "positive")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert "bad setting" in result.stderr and "at least two classes" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TWEETSENT_RESAMPLE_EACH_EPOCH", "maybe", "TWEETSENT_RESAMPLE_EACH_EPOCH='maybe' (or resample_each_epoch in the TWEETSENT_CONFIG file): Input should be a valid boolean"),
        ("TWEETSENT_EPOCHS", "0", "TWEETSENT_EPOCHS='0' (or epochs in the TWEETSENT_CONFIG file): Input should be greater than or equal to 1"),
    ],
)
def test_cli_bad_setting_names_the_variable_and_the_value(db_env, monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert f"bad setting: {expected}" in result.stderr and "errors.pydantic.dev" not in result.stderr
