"""The labelling loop through the command line and the flows, with a real (tiny) model: export
with ``diverse`` (the encoder's embeddings), annotate by a rule from the generator's labels, import,
and a retrain that uses the human labels and records how many."""

from __future__ import annotations

import csv
import json

import pytest

from flows.ingest import ingest
from flows.nightly import score
from flows.retrain import retrain
from sentiment.data.records import tweet_id_for
from sentiment.data.sources.synthetic import SyntheticSpec, write_synthetic_csv
from sentiment.settings import Settings
from sentiment.store import model_versions, open_db
from tests.sentiment.annotation.test_label_files import full_export, human

pytestmark = pytest.mark.usefixtures("small_model")


def test_export_annotate_import_retrain(db_env, cli, tmp_path):
    ingest(source="synthetic")
    first = retrain()
    labelled = tmp_path / "new.csv"
    write_synthetic_csv(labelled, SyntheticSpec(count=150, seed=77))
    with labelled.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    truth = {tweet_id_for(r["id"], None)[0]: r["label"] for r in rows}
    unlabelled = tmp_path / "unlabelled.csv"
    with unlabelled.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[k for k in rows[0] if k != "label"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    ingest(paths=[str(unlabelled)])
    score()

    out = tmp_path / "batch.json"
    exported = cli("label", "export", "--count", "40", "--strategy", "diverse", "--out", str(out), "--json")
    assert exported.returncode == 0, exported.stderr[-2000:]
    result = json.loads(exported.stdout)
    tasks = json.loads(out.read_text())
    ids = [t["data"]["tweet_id"] for t in tasks]
    assert result["sent"] == 40 and len(set(ids)) == 40 and set(ids) <= set(truth), "only unlabelled tweets the champion scored"
    assert all(t["predictions"][0]["model_version"] == f"tweetsent-v{first['version_id']}" for t in tasks)

    path = tmp_path / "project-1-at-2026-12-04-10-00.json"
    path.write_text(json.dumps(full_export(tasks, lambda i, tid: [("ann@example.org", truth[tid])])))
    imported = cli("label", "import", str(path), "--json")
    assert imported.returncode == 0, imported.stderr[-2000:]
    summary = json.loads(imported.stdout)
    assert (summary["rows_read"], summary["rows_inserted"], summary["labels_inserted"], summary["rows_quarantined"]) == (40, 40, 40, 0)
    assert {t: lab for t, (lab, _) in human().items()} == {t: truth[t] for t in ids}
    again = json.loads(cli("label", "import", str(path), "--json").stdout)
    assert again["skipped"] and len(human()) == 40

    second = retrain()
    with open_db(Settings()).connect() as conn:
        snapshot = conn.execute(model_versions.select().where(model_versions.c.id == second["version_id"])).mappings().one()["data_snapshot"]
    assert snapshot["human_labels"] == 40 and snapshot["origins"]["human"] == 40
    status = cli("status")
    assert "human_labels" in status.stdout and f"{second['version_id']}" in status.stdout
    # a second export never sends a tweet that now has a human label
    again_out = tmp_path / "again.json"
    assert cli("label", "export", "--count", "30", "--strategy", "uncertainty", "--out", str(again_out)).returncode == 0
    assert not {t["data"]["tweet_id"] for t in json.loads(again_out.read_text())} & set(ids)
