"""Live pulls through the real command line and flows (issue 15): kill -9 in the middle of a
pagination and run again; the configured queries of the hourly ingest; ``tweetsent status``; and
the bearer token, kept in a Prefect Secret block, found nowhere else afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sentiment.settings import Settings
from sentiment.store import ingest_batches, open_db, pull_cursors, tweets
from tests.conftest import PG_URL
from tests.flows.test_crash_rerun import Command, finished_ok
from tests.live_servers import BlueskyServer, XServer

TOKEN = "xt-AAAAAAAAAAAAAAAAAAAAAPlanted0123456789token"


def db_rows(table, *where):
    with open_db(Settings()).connect() as conn:
        return [dict(r) for r in conn.execute(select(table).where(*where)).mappings()]


def stored_pages() -> int:
    with open_db(Settings()).connect() as conn:
        return conn.execute(select(func.coalesce(func.max(ingest_batches.c.pages), 0))).scalar_one()


@pytest.mark.parametrize("kind", ["x", "bluesky"])
def test_a_pull_killed_mid_pagination_then_rerun_stores_every_post_once(kind, db_env, cli, monkeypatch):
    on_postgresql = "TWEETSENT_DB_SCHEMA" in db_env
    if on_postgresql == (kind == "x") or (kind == "bluesky" and not on_postgresql and PG_URL):
        pytest.skip("one database per source: X on SQLite, Bluesky on PostgreSQL (SQLite when no PostgreSQL is configured)")
    server = XServer(token=TOKEN) if kind == "x" else BlueskyServer()
    with server:
        published = server.publish_many(300, text="delta flight {i}")
        server.hang(0.25, times=10_000)  # a slow API: ten posts a page, a quarter second a page
        env = {
            "TWEETSENT_X_API_URL": server.url, "TWEETSENT_BLUESKY_API_URL": server.url, "TWEETSENT_X_BEARER_TOKEN": TOKEN,
            "TWEETSENT_PULL_PAGE_SIZE": "10", "TWEETSENT_NO_SECRET_BLOCKS": "1",
        }
        killed = Command("ingest", "--source", f"{kind}:delta flight", **env)
        try:
            killed.wait_for(lambda: stored_pages() >= 4, "four stored pages", timeout=300)
            killed.kill_9()
        finally:
            killed.close()
        half = db_rows(ingest_batches)[0]
        assert half["status"] == "running" and 0 < half["rows_inserted"] < 300
        server.hang(0, times=10_000)
        finished_ok(cli, "ingest", "--source", f"{kind}:delta flight", **env)
        status = finished_ok(cli, "status", **env).stdout
    assert f"{kind}:delta flight" in status and "caught_up" in status
    batches = db_rows(ingest_batches)
    assert [b["status"] for b in batches] == ["interrupted", "caught_up"]
    assert sum(b["rows_inserted"] for b in batches) == 300 and sum(b["rows_duplicate"] for b in batches) == 0
    assert all(b["rows_read"] == b["rows_inserted"] + b["rows_duplicate"] + b["rows_quarantined"] for b in batches)
    ids = {r["source_id"] for r in db_rows(tweets)}
    assert ids == ({str(p) for p in published} if kind == "x" else set(published))
    assert db_rows(pull_cursors)[0]["posts_stored"] == 300


def test_the_hourly_ingest_pulls_the_configured_queries(db_env, monkeypatch):
    from flows.ingest import ingest

    with XServer(token=TOKEN) as x, BlueskyServer() as bsky:
        x.publish_many(30, text="delta flight {i}")
        bsky.publish_many(20, text="delta bags {i}")
        monkeypatch.setenv("TWEETSENT_X_API_URL", x.url)
        monkeypatch.setenv("TWEETSENT_BLUESKY_API_URL", bsky.url)
        monkeypatch.setenv("TWEETSENT_X_BEARER_TOKEN", TOKEN)
        monkeypatch.setenv("TWEETSENT_NO_SECRET_BLOCKS", "1")
        monkeypatch.setenv("TWEETSENT_PULL_SOURCES", "x:delta flight; bluesky:delta bags")
        summaries = ingest()
        assert [(s.origin, s.rows_inserted, s.status) for s in summaries] == [("x:delta flight", 30, "caught_up"), ("bluesky:delta bags", 20, "caught_up")]
        # one query failing does not stop the other; the run fails naming it
        monkeypatch.setenv("TWEETSENT_X_BEARER_TOKEN", "wrong")
        bsky.publish_many(5, text="delta bags {i}")
        with pytest.raises(Exception, match=r"1 pull failed.*X API: refused the bearer token.*TWEETSENT_X_BEARER_TOKEN"):
            ingest()
    assert len(db_rows(tweets)) == 55


def _everything_prefect_kept(flow_run_ids) -> str:
    """Logs, artifacts, parameters and states of the runs, as the Prefect API gives them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId

    parts = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(flow_run_ids))))
        for run in runs:
            parts.append(run.model_dump_json())
            parts += [t.model_dump_json() for t in client.read_task_runs()]
        parts += [log.message for log in client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=list(flow_run_ids))))]
        parts += [a.model_dump_json() for a in client.read_artifacts()]
    return "\n".join(parts)


def test_the_token_lives_in_the_secret_block_and_nowhere_else(db_env, cli, tmp_path):
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    Secret(value=TOKEN).save("tweetsent-x-bearer-token", overwrite=True)
    try:
        with XServer(token=TOKEN) as x, XServer(token="another-token") as other:
            x.publish_many(40, text="delta flight {i}")
            x.add_errors([{"title": "Not Found Error", "detail": "Could not find user with id: [7]."}])
            env = {"TWEETSENT_X_API_URL": x.url, "TWEETSENT_X_BEARER_TOKEN": ""}
            ok = finished_ok(cli, "ingest", "--source", "x:delta flight", **env)
            refused = cli("ingest", "--source", "x:delta flight", TWEETSENT_X_API_URL=other.url, TWEETSENT_X_BEARER_TOKEN="")
            debug = cli("--debug", "ingest", "--source", "x:delta flight", TWEETSENT_X_API_URL=other.url, TWEETSENT_X_BEARER_TOKEN="")
            status = finished_ok(cli, "status", "--json", **env)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert "refused the bearer token" in refused.stderr and "tweetsent-x-bearer-token" in refused.stderr
        assert len(db_rows(tweets)) == 40  # read with the token from the block, no environment variable
        with get_client(sync_client=True) as client:
            ids = [r.id for r in client.read_flow_runs()]
        kept = _everything_prefect_kept(ids)
        assert "refused the bearer token" in kept  # the failed run's message is there, the token is not
        with open_db(Settings()).connect() as conn:
            database = "\n".join(str(row) for table in ("tweets", "ingest_batches", "pull_cursors", "quarantine") for row in conn.exec_driver_sql(f"SELECT * FROM {table}"))
        home_files = "\n".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size < 5_000_000)
        places = {
            "command output": ok.stdout + ok.stderr + refused.stdout + refused.stderr + debug.stdout + debug.stderr + status.stdout,
            "Prefect logs, artifacts, runs": kept,
            "tweet database": database,
            "files under the test's folders (home, reports)": home_files,
        }
        database_url = PREFECT_API_DATABASE_CONNECTION_URL.value() or ""
        if database_url.startswith("sqlite"):
            path = database_url.split("///", 1)[1]
            from pathlib import Path

            places["Prefect's database file (block values are stored encrypted)"] = "".join(
                Path(p).read_bytes().decode("latin-1") for p in (path, path + "-wal") if Path(p).is_file()
            )
        for place, text in places.items():
            assert TOKEN not in text, f"the token was found in {place}"
        assert "Could not find user" in database  # the errors array was kept, without the token
    finally:
        from prefect.client.orchestration import get_client as client_of

        with client_of(sync_client=True) as client:
            client.delete_block_document(client.read_block_document_by_name("tweetsent-x-bearer-token", "secret").id)
