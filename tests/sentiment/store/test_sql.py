"""Views and named queries: the pipeline fills a database, then ``tweetsent sql``, the real ``psql``
and ``sqlite3`` clients agree on every view and query, SQLite and PostgreSQL agree with each other,
and hostile parameter values change nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import torch
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from flows.cli.main import app
from sentiment.data import ingest as lib
from sentiment.store import registry
from sentiment.store import queries as sqlqueries
from sentiment.data.datasets import split_labelled, texts_for
from sentiment.store.schema import TABLES, quarantine
from sentiment.store.database import dispose_engines, init_db
from sentiment.store.engine import make_engine, normalize_url
from sentiment.reporting.metrics import compute_metrics
from sentiment.model.classifier import SentimentClassifier
from sentiment.model.scoring import score_unscored
from sentiment.data.sources import plan_inputs, read_file, read_synthetic
from sentiment.model.training import TrainConfig, fine_tune
from sentiment.data.validation import validate_records
from tests.conftest import PG_URL
from tests.malformed import write_malformed

LABELS = ("negative", "neutral", "positive")
LABEL_SET = ",".join(LABELS)
runner = CliRunner()

#: Parameters each named query is run with in the agreement tests (the rest take their defaults).
QUERY_PARAMS = {
    "negative_mentions": {"keyword": "flight"},
    "confident_mistakes": {"limit": "40"},
    "share_change": {},
    "model_compare": {"a": "1", "b": "2"},
}
#: Columns that hold the time a run happened (or a path under its temporary folder): they differ
#: between the SQLite and the PostgreSQL run, everything else must be equal.
RUN_COLUMNS = {"scored_at", "first_seen", "last_seen", "decided_at", "artifact_path", "train_seconds"}
#: model_leaderboard.created_at is when the version was registered (run time); elsewhere created_at
#: is the tweet's own time.
RUN_COLUMNS_BY_QUERY = {"model_leaderboard": {"created_at"}}


def sqlite3_cli() -> str:
    """The sqlite3 command-line client, installed with apt-get where that is possible."""
    found = shutil.which("sqlite3")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "sqlite3"], capture_output=True, timeout=300)
        found = shutil.which("sqlite3")
    if found is None:
        pytest.skip("the sqlite3 command-line client is not installed and cannot be (apt-get install sqlite3 needs root)")
    return found


def psql_cli() -> str:
    found = shutil.which("psql")
    if found is None:
        pytest.skip("the psql command-line client is not installed (apt-get install postgresql-client)")
    return found


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
    batches = [read_synthetic(300, 13)] + [read_file(plan_inputs([folder / name])[0]) for name in ("malformed.csv", "conflict.csv")]
    return [lib.clean_batch(lib.dedupe_batch(b, validate_records(b.records, LABELS, 1000))) for b in batches]


def fill(engine, models_dir: Path, trained: SentimentClassifier, untrained: SentimentClassifier, prepared: list[lib.PreparedBatch]) -> None:
    """Store the prepared batches, freeze the test set, evaluate and register two model versions
    (the fine-tuned one becomes champion), score every tweet with both."""
    for batch in prepared:
        lib.store_batch(engine, batch)
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


@pytest.fixture(scope="module")
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


def _backends():
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TWEETSENT_TEST_PG_URL is not set"))]


@pytest.fixture(scope="module")
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


# --- running a query three ways ---------------------------------------------------------------


def via_tweetsent(name: str, params: dict[str, str], fmt: str = "csv") -> str:
    args = ["sql", name, "--format", fmt]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _literal(value) -> str:
    return str(value) if isinstance(value, (int, float)) else "'" + str(value).replace("'", "''") + "'"


def via_sqlite3(env: dict[str, str], query: sqlqueries.NamedQuery, values: dict) -> str:
    database = env["TWEETSENT_DB_URL"].removeprefix("sqlite:///")
    # Parameters go into the CLI's binding table, so the query file runs exactly as written.
    script = ".parameter init\n"
    for key, value in values.items():
        script += f"INSERT INTO temp.sqlite_parameters (key, value) VALUES ({_literal(':' + key)}, {_literal(value)});\n"
    script += query.sql + ";\n"
    done = subprocess.run([sqlite3_cli(), "-bail", "-csv", "-header", database], input=script, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout


def via_psql(env: dict[str, str], query: sqlqueries.NamedQuery, values: dict) -> str:
    url = normalize_url(env["TWEETSENT_DB_URL"]).replace("postgresql+psycopg://", "postgresql://", 1)
    # psql 15 cannot bind server-side; its :'name' interpolation quotes the value as a literal.
    quoted = {p.name for p in query.params if p.type in ("text", "date")}
    sql = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", lambda m: f":'{m[1]}'" if m[1] in quoted else m[0], query.sql)
    args = [psql_cli(), "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-d", url]
    for key, value in values.items():
        args += ["-v", f"{key}={value}"]
    environ = {**os.environ, "PGOPTIONS": f"-c search_path={env['TWEETSENT_DB_SCHEMA']}"}
    done = subprocess.run(args, input=sql + ";\n", capture_output=True, text=True, timeout=120, env=environ)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$")


def _cell(value: str):
    """A CSV cell as a comparable value: SQLite prints 15 significant digits and '0.5', PostgreSQL
    numeric '0.5000', and timestamps differ in their separator and trailing zeros."""
    if value == "":
        return None
    if _TIMESTAMP.match(value):
        return datetime.fromisoformat(value)
    try:
        return float(value)
    except ValueError:
        return value


def parse_csv(output: str) -> tuple[list[str], list[tuple]]:
    reader = csv.reader(io.StringIO(output))
    header = next(reader)
    return header, [tuple(_cell(v) for v in row) for row in reader]


def _sort_key(row: tuple) -> str:
    return json.dumps([round(v, 6) if isinstance(v, float) else str(v) for v in row])


def assert_same_rows(a: list[tuple], b: list[tuple], what: str, ordered: bool) -> None:
    assert len(a) == len(b), f"{what}: {len(a)} rows against {len(b)}"
    if not ordered:
        a, b = sorted(a, key=_sort_key), sorted(b, key=_sort_key)
    for left, right in zip(a, b):
        for x, y in zip(left, right):
            if isinstance(x, float) and isinstance(y, float):
                # 1e-4: a 4-decimal ROUND may fall either side of a half on binary floats.
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1.01e-4), f"{what}: {left} != {right}"
            else:
                assert x == y, f"{what}: {left} != {right}"


def check_three_way(env: dict[str, str], client) -> dict[str, list[tuple]]:
    outputs = {}
    for name, query in sqlqueries.catalogue().items():
        params = QUERY_PARAMS.get(name, {})
        values = sqlqueries.bind_values(query, params)
        ours_header, ours = parse_csv(via_tweetsent(name, params))
        theirs_header, theirs = parse_csv(client(env, query, values))
        assert ours_header == theirs_header, name
        assert ours, f"{name} returned no rows: the check would prove nothing"
        assert_same_rows(ours, theirs, f"{name} (tweetsent sql vs {client.__name__})", ordered=query.kind == "query")
        outputs[name] = (ours_header, ours)
    return outputs


def test_tweetsent_sql_and_sqlite3_agree_on_every_view_and_query(filled, use_db):
    use_db(filled["sqlite"])
    check_three_way(filled["sqlite"], via_sqlite3)


@pytest.mark.skipif(not PG_URL, reason="TWEETSENT_TEST_PG_URL is not set")
def test_tweetsent_sql_and_psql_agree_and_postgresql_agrees_with_sqlite(filled, use_db):
    use_db(filled["postgresql"])
    on_pg = check_three_way(filled["postgresql"], via_psql)
    use_db(filled["sqlite"])
    for name, query in sqlqueries.catalogue().items():
        header, pg_rows = on_pg[name]
        header_sqlite, sqlite_rows = parse_csv(via_tweetsent(name, QUERY_PARAMS.get(name, {})))
        assert header == header_sqlite
        keep = [i for i, c in enumerate(header) if c not in RUN_COLUMNS | RUN_COLUMNS_BY_QUERY.get(name, set())]
        project = lambda rows: [tuple(r[i] for i in keep) for r in rows]  # noqa: E731
        assert_same_rows(project(sqlite_rows), project(pg_rows), f"{name}: SQLite vs PostgreSQL", ordered=query.kind == "query")


@pytest.mark.parametrize("backend", _backends())
def test_views_answer_what_they_promise(filled, use_db, backend):
    use_db(filled[backend])
    rows = lambda name, **params: json.loads(via_tweetsent(name, params, fmt="json"))  # noqa: E731
    scored = rows("scored_tweets")
    assert len(scored) == 304 and len({r["tweet_id"] for r in scored}) == 304  # 300 synthetic + 4 good file rows, once each
    champion = [r for r in rows("model_leaderboard") if r["status"] == "champion"]
    assert len(champion) == 1 and {r["model_version_id"] for r in scored} == {champion[0]["model_version_id"]}
    for r in scored:
        assert math.isclose(r["p_negative"] + r["p_neutral"] + r["p_positive"], 1.0, abs_tol=1e-4)
        assert r["correct"] == (None if r["gold_label"] is None else int(r["gold_label"] == r["predicted"]))
    daily = rows("daily_sentiment")
    assert sum(r["tweets"] for r in daily) == 304
    for r in daily:
        assert r["negative"] + r["neutral"] + r["positive"] == r["tweets"]
        assert math.isclose(r["negative_share"] + r["neutral_share"] + r["positive_share"], 1.0, abs_tol=3e-4)
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", r["day"])
    summary = {(r["reason"], r["source"], r["kind"]): r["quarantined"] for r in rows("quarantine_summary")}
    # A row with several reasons counts once under each of them.
    engine = make_engine(filled[backend]["TWEETSENT_DB_URL"], filled[backend].get("TWEETSENT_DB_SCHEMA"))
    with engine.connect() as conn:
        stored = conn.execute(select(quarantine.c.reasons, quarantine.c.source, quarantine.c.kind)).all()
    engine.dispose()
    assert summary == Counter((reason, source, kind) for reasons, source, kind in stored for reason in reasons)
    assert any(len(reasons) == 3 for reasons, _, _ in stored) and [v for k, v in summary.items() if k[2] == "conflict"] == [1]
    mistakes = rows("confident_mistakes", limit="1000")
    assert mistakes == sorted(mistakes, key=lambda r: (-r["confidence"], r["tweet_id"]))
    assert len(mistakes) == sum(1 for r in scored if r["correct"] == 0)
    hits = rows("negative_mentions", keyword="FLIGHT", since="2006-01-01", until="9999-12-31", limit="1000")
    assert hits and all("flight" in r["text"].lower() for r in hits)
    assert len(hits) == sum(1 for r in scored if r["predicted"] == "negative" and "flight" in r["text"].lower())
    first_day = min(r["day"] for r in daily)
    assert all(r["day"] == first_day for r in rows("negative_mentions", keyword="flight", until=first_day, limit="1000"))


# --- errors and hostile values ----------------------------------------------------------------


def database_fingerprint(env: dict[str, str]) -> dict[str, str]:
    """sha256 of every row of every table (and the list of tables and views)."""
    engine = make_engine(env["TWEETSENT_DB_URL"], env.get("TWEETSENT_DB_SCHEMA"))
    out = {}
    with engine.connect() as conn:
        from sqlalchemy import inspect

        inspector = inspect(conn)
        out["__objects__"] = json.dumps(sorted(inspector.get_table_names()) + sorted(inspector.get_view_names()))
        for table in TABLES:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(json.dumps([list(r) for r in rows], default=str).encode()).hexdigest()
    engine.dispose()
    return out


HOSTILE = [
    "'",
    "''; DROP TABLE tweets; --",
    "x'); DELETE FROM scores; --",
    "' OR '1'='1",
    '"; DROP TABLE labels; --',
    "%_!\\",
    "flight' UNION SELECT id, id, id, id, 1.0, 1.0, id, id FROM ingest_batches --",
    "déjà vu ✈️ 😡 \u202e اختبار 测试",
    "x" * 10_000,
    ":keyword :limit $1 %s %(keyword)s ?",
]


@pytest.mark.parametrize("backend", _backends())
def test_hostile_parameter_values_change_nothing(filled, use_db, backend):
    env = filled[backend]
    use_db(env)
    before = database_fingerprint(env)
    for value in HOSTILE:
        result = runner.invoke(app, ["sql", "negative_mentions", "--param", f"keyword={value}", "--format", "json"])
        assert result.exit_code == 0, (value[:80], result.output)
        found = json.loads(result.stdout)
        assert all(value.lower() in r["text"].lower() for r in found)  # only real matches, no injected rows
    # Values that are not of the parameter's type, or that no database can hold, are refused cleanly.
    refused = [
        ["--param", "keyword=a\x00b"],
        ["--param", "keyword=x", "--param", "limit=1; DROP TABLE tweets"],
        ["--param", "keyword=x", "--param", "since=2026-01-01' OR '1'='1"],
        ["--param", "keyword=x", "--param", "until=9999-99-99"],
        ["--param", "keyword=" + "y" * 10_001],
        ["--param", "keyword=x", "--param", "tweets; DROP TABLE tweets=1"],
    ]
    for args in refused:
        result = runner.invoke(app, ["sql", "negative_mentions", *args])
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.stderr and "Traceback" not in result.output
    assert database_fingerprint(env) == before


def test_unknown_names_and_parameters_are_clear_errors(filled, use_db):
    use_db(filled["sqlite"])
    result = runner.invoke(app, ["sql", "no_such_query"])
    assert result.exit_code == 2
    assert "unknown query 'no_such_query'" in result.stderr and "negative_mentions" in result.stderr and "scored_tweets" in result.stderr
    result = runner.invoke(app, ["sql", "../../etc/passwd"])
    assert result.exit_code == 2 and "unknown query" in result.stderr
    result = runner.invoke(app, ["sql", "negative_mentions", "--param", "keyword=x", "--param", "keywrd=y"])
    assert result.exit_code == 2 and "no parameter 'keywrd'" in result.stderr and "keyword, since, until, limit" in result.stderr
    result = runner.invoke(app, ["sql", "negative_mentions"])
    assert result.exit_code == 2 and "needs --param keyword=VALUE" in result.stderr
    result = runner.invoke(app, ["sql", "negative_mentions", "--param", "keyword"])
    assert result.exit_code == 2 and "key=value" in result.stderr
    result = runner.invoke(app, ["sql", "scored_tweets", "--format", "xml"])
    assert result.exit_code == 2 and "table, csv or json" in result.stderr
    result = runner.invoke(app, ["sql", "--list"])
    assert result.exit_code == 0
    for name, query in sqlqueries.catalogue().items():
        assert f"{name}  [{query.kind}]  {query.description}" in result.stdout
    assert "--param keyword (text, required)" in result.stdout and "--param limit (integer, default 100)" in result.stdout
    table = runner.invoke(app, ["sql", "model_leaderboard"])
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split()[:3] == ["model_version_id", "label_set", "status"]


def test_every_query_file_documents_itself():
    for name, query in sqlqueries.catalogue().items():
        assert query.description, f"{name} has no description"
        for param in query.params:
            assert param.help, f"{name}: parameter {param.name} is not explained"
    assert {"negative_mentions", "confident_mistakes", "share_change"} <= set(sqlqueries.catalogue())
    assert {"scored_tweets", "daily_sentiment", "model_leaderboard", "quarantine_summary"} <= set(sqlqueries.catalogue())
