"""Export → annotate (by a rule from the gold labels) → import, through Label Studio's file formats
(full JSON, JSON-MIN, CSV) and this tool's CSV, on SQLite and PostgreSQL. The champion here is a
database row with seeded scores: picking and importing do not load a model (``diverse`` does;
tests/flows/test_labelling_flows.py covers it with a real one)."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
from sqlalchemy import func, select

from sentiment.annotation.formats import read_answers
from sentiment.clock import utcnow
from sentiment.data.ingest import prepare_batch, store_batch
from sentiment.data.sources import read_synthetic
from sentiment.reporting.drift import count_new_labels
from sentiment.settings import Settings
from sentiment.store import annotation_tasks, labels, model_versions, open_db, quarantine, scores, tweets
from sentiment.usecases.labelling import export_for_annotation, import_annotations

LABELS = ("negative", "neutral", "positive")


TRUTH: dict[str, str] = {}


@pytest.fixture
def scored(db_env, monkeypatch):
    """300 synthetic tweets, all scored by a champion row; 50 keep their gold label, the rest are
    unlabelled (their generator labels are what the annotators "say", see :func:`gold`)."""
    monkeypatch.setenv("TWEETSENT_NO_SECRET_BLOCKS", "1")
    settings = Settings()
    engine = open_db(settings)
    store_batch(engine, prepare_batch(read_synthetic(300, 5), LABELS, 1000))
    now = utcnow()
    with engine.begin() as conn:
        TRUTH.clear()
        TRUTH.update(conn.execute(select(labels.c.tweet_id, labels.c.label).where(labels.c.origin == "gold")).tuples().all())
        conn.execute(labels.delete().where(labels.c.tweet_id.not_in(sorted(TRUTH)[:50])))
        vid = conn.execute(model_versions.insert().values(created_at=now, base_checkpoint="x", artifact_path="/nowhere", label_set=",".join(LABELS),
                                                          hyperparameters={}, data_snapshot={}, status="champion")).inserted_primary_key[0]
        rng = random.Random(1)
        rows = []
        for tid in conn.execute(select(tweets.c.id).order_by(tweets.c.id)).scalars():
            raw = [rng.random() for _ in LABELS]
            probs = [p / sum(raw) for p in raw]
            best = max(range(3), key=probs.__getitem__)
            rows.append({"tweet_id": tid, "model_version_id": vid, "label": LABELS[best], "confidence": probs[best], "probabilities": dict(zip(LABELS, probs)), "scored_at": now})
        conn.execute(scores.insert(), rows)
    return settings


def gold() -> dict[str, str]:
    """The generator's label of every tweet: what annotators answer by rule."""
    return dict(TRUTH)


def kept_gold() -> list[str]:
    with open_db(Settings()).connect() as conn:
        return sorted(conn.execute(select(labels.c.tweet_id).where(labels.c.origin == "gold")).scalars())


def human() -> dict[str, tuple[str, str]]:
    with open_db(Settings()).connect() as conn:
        return {t: (lab, a) for t, lab, a in conn.execute(select(labels.c.tweet_id, labels.c.label, labels.c.annotator).where(labels.c.origin == "human"))}


def full_export(tasks: list[dict], answer) -> list[dict]:
    """What Label Studio's JSON export gives after annotators answered by ``answer(i, tweet_id)``
    (a list of (annotator, choice or None for cancelled))."""
    out = []
    for i, task in enumerate(tasks):
        annotations = []
        for j, (who, choice) in enumerate(answer(i, task["data"]["tweet_id"])):
            result = [] if choice in (None, "") else [{"id": f"r{i}{j}", "from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [choice]}, "origin": "manual"}]
            annotations.append({"id": 1000 + 10 * i + j, "completed_by": {"id": j + 1, "email": who}, "result": result, "was_cancelled": choice is None,
                                "ground_truth": False, "created_at": f"2026-12-04T10:{i % 60:02d}:{j:02d}.000000Z", "updated_at": "2026-12-04T11:00:00Z", "lead_time": 3.2, "task": i + 1})
        out.append({"id": i + 1, "data": task["data"], "annotations": annotations, "predictions": task.get("predictions", []), "project": 7})
    return out


def test_export_picks_the_least_sure_and_never_sends_a_tweet_twice(scored, tmp_path):
    one = export_for_annotation(scored, 40, "uncertainty", tmp_path / "one.json")
    tasks = json.loads((tmp_path / "one.json").read_text())
    assert one["sent"] == 40 and len(tasks) == 40
    assert set(tasks[0]) == {"data", "predictions"} and set(tasks[0]["data"]) == {"text", "tweet_id"}
    prediction = tasks[0]["predictions"][0]
    assert prediction["model_version"].startswith("tweetsent-v") and prediction["result"][0]["value"]["choices"][0] in LABELS
    assert '<Choices name="sentiment" toName="text"' in (tmp_path / "one.xml").read_text()
    assert list(csv.DictReader(io.StringIO((tmp_path / "one.csv").read_text())))[0].keys() >= {"tweet_id", "text", "label"}
    random_one = export_for_annotation(scored, 40, "random", tmp_path / "rnd.json")
    assert random_one["mean_margin"] > one["mean_margin"]  # uncertainty picks the closest calls
    sent = [t["data"]["tweet_id"] for t in tasks] + [t["data"]["tweet_id"] for t in json.loads((tmp_path / "rnd.json").read_text())]
    assert len(sent) == len(set(sent)), "a pending tweet is never sent again"
    with open_db(scored).connect() as conn:
        assert conn.execute(select(func.count()).select_from(annotation_tasks).where(annotation_tasks.c.status == "pending")).scalar_one() == 80


def test_round_trip_through_label_studio_json(scored, tmp_path):
    export_for_annotation(scored, 30, "uncertainty", tmp_path / "batch.json")
    tasks = json.loads((tmp_path / "batch.json").read_text())
    truth = gold()
    flip = {"negative": "positive", "positive": "negative", "neutral": "negative"}

    def answer(i, tid):
        if i == 0:
            return [("ann@x.org", truth[tid]), ("bob@x.org", flip[truth[tid]])]  # a tie: a conflict, no label
        if i == 1:
            return [("ann@x.org", None)]  # cancelled
        if i == 2:
            return [("ann@x.org", "Sarcastic")]  # not a choice of the config
        if i == 3:
            return [("ann@x.org", flip[truth[tid]]), ("bob@x.org", flip[truth[tid]]), ("cy@x.org", truth[tid])]  # a majority
        return [("ann@x.org", truth[tid].upper()), ("bob@x.org", truth[tid])]  # case does not matter

    export = full_export(tasks, answer) + [{"id": 99, "data": {"text": "?", "tweet_id": "x:424242"}, "annotations": [{"id": 5, "completed_by": 1, "result": [{"from_name": "sentiment", "type": "choices", "value": {"choices": ["neutral"]}}]}]}]
    # a gold-labelled tweet (sent for review) on which the annotator disagrees with the gold label
    reviewed = kept_gold()[0]
    export.append({"id": 98, "data": {"text": "?", "tweet_id": reviewed}, "annotations": [{"id": 6, "completed_by": 2, "result": [{"from_name": "sentiment", "type": "choices", "value": {"choices": [flip[truth[reviewed]]]}}]}]})
    path = tmp_path / "project-7-at-2026-12-04.json"
    path.write_text(json.dumps(export))
    before = utcnow()
    summary = import_annotations(scored, path)
    with open_db(scored).connect() as conn:
        assert count_new_labels(conn, LABELS, before) == summary.labels_inserted  # human labels count towards the retrain trigger
    answers = sum(len(t["annotations"]) for t in export)
    assert summary.rows_read == answers == summary.rows_inserted + summary.rows_duplicate + summary.rows_quarantined
    assert summary.rows_quarantined == 3  # cancelled, unknown choice, unknown tweet id
    assert summary.labels_inserted == 28  # 30 tweets less the tie, the cancelled and the unknown choice; the reviewed one
    got = human()
    ids = [t["data"]["tweet_id"] for t in tasks]
    assert ids[0] not in got and ids[1] not in got and ids[2] not in got
    assert got[ids[3]][0] == flip[truth[ids[3]]] and got[ids[3]][1] == "ann@x.org, bob@x.org"
    assert all(got[t][0] == truth[t] for t in ids[4:])
    with open_db(scored).connect() as conn:
        reasons = [r[0] for r in conn.execute(select(quarantine.c.reasons).order_by(quarantine.c.id))]
        pending = conn.execute(select(func.count()).select_from(annotation_tasks).where(annotation_tasks.c.status == "pending")).scalar_one()
    flat = " | ".join(" ".join(r) for r in reasons)
    assert "cancelled annotation" in flat and "unknown choice 'Sarcastic'" in flat and "unknown tweet id 'x:424242'" in flat
    assert "annotators disagree" in flat and "disagrees with gold" in flat
    assert summary.label_conflicts == 2 and pending == 2  # the cancelled and the unknown choice stay pending; the tie may go again
    # the same export again: nothing changes
    again = import_annotations(scored, path)
    assert again.skipped and human() == got
    # a later export repeating these answers and adding one for the tie: only the new answer counts
    export[0]["annotations"].append({"id": 2000, "completed_by": {"email": "cy@x.org"}, "result": [{"from_name": "sentiment", "type": "choices", "value": {"choices": [truth[ids[0]]]}}], "was_cancelled": False, "created_at": "2026-12-05T09:00:00Z"})
    later = tmp_path / "later.json"
    later.write_text(json.dumps(export))
    third = import_annotations(scored, later)
    assert (third.rows_inserted, third.rows_duplicate, third.labels_inserted) == (1, answers - 3, 1)
    assert human()[ids[0]][0] == truth[ids[0]]


def test_json_min_and_csv_exports(scored, tmp_path):
    export_for_annotation(scored, 10, "uncertainty", tmp_path / "b.json")
    tasks = json.loads((tmp_path / "b.json").read_text())
    truth = gold()
    minimal = [{"id": i + 1, "text": t["data"]["text"], "tweet_id": t["data"]["tweet_id"], "sentiment": truth[t["data"]["tweet_id"]].capitalize(),
                "annotator": 3, "annotation_id": 50 + i, "created_at": "2026-12-04T10:00:00Z", "updated_at": "2026-12-04T10:00:00Z", "lead_time": 2.5}
               for i, t in enumerate(tasks[:5])]
    minimal.append({"id": 77, "text": "not annotated", "tweet_id": tasks[5]["data"]["tweet_id"]})  # exported with "all tasks": not an answer
    (tmp_path / "min.json").write_text(json.dumps(minimal))
    summary = import_annotations(scored, tmp_path / "min.json")
    assert (summary.format, summary.rows_read, summary.rows_inserted) == ("label_studio_json_min", 5, 5)
    # Label Studio's CSV export has the same columns; this tool's CSV has a label column
    ours = list(csv.DictReader(io.StringIO((tmp_path / "b.csv").read_text())))
    for row in ours:
        row["label"], row["annotator"] = truth[row["tweet_id"]], "sam"
    ours[0]["label"] = ""  # not done yet
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ours[0]))
    writer.writeheader()
    writer.writerows(ours)
    (tmp_path / "filled.csv").write_text(buffer.getvalue())
    filled = import_annotations(scored, tmp_path / "filled.csv")
    assert filled.format == "csv" and filled.rows_quarantined == 1 and filled.rows_inserted == 9
    assert len(human()) == 10  # five from JSON-MIN, nine from the CSV, four of them the same tweets
    # the CSV's answers for tweets already labelled in JSON-MIN agree with them: no conflict
    assert filled.label_conflicts == 0


def test_read_answers_takes_what_label_studio_writes():
    label_studio_csv = '"annotation_id","annotator","created_at","id","lead_time","sentiment","text","tweet_id","updated_at"\n9,1,"2026-12-04T10:00:00Z",4,1.5,"Negative","late again","x:17","2026-12-04T10:00:00Z"\n'
    answers, fmt = read_answers(label_studio_csv, "x.csv", LABELS)
    assert fmt == "csv" and (answers[0].tweet_id, answers[0].label, answers[0].annotator, answers[0].ref) == ("x:17", "negative", "1", "ls:4:9")
    multi = '[{"id": 1, "tweet_id": "x:1", "sentiment": {"choices": ["negative", "neutral"]}, "annotator": 1, "annotation_id": 3}]'
    assert read_answers(multi, "m.json", LABELS)[0][0].problems == ["2 choices in one answer (expected one)"]


def test_json_min_from_a_project_with_its_own_control_name_and_more_data():
    rows = '[{"id": 3, "text": "late", "tweet_id": "x:5", "airline": "Delta", "mood": "Negative", "annotator": "a@b.c", "annotation_id": 9}]'
    (answer,), fmt = read_answers(rows, "min.json", LABELS)
    assert fmt == "label_studio_json_min" and answer.label == "negative" and answer.problems == []
