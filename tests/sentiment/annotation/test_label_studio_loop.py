"""The labelling loop through a real Label Studio (slow; skips without .venv-ls, see
tests/label_studio_server.py): export creates the project and imports the tasks, annotators answer
(by a rule from the generator's labels), ``label import --from-label-studio`` stores the human
labels; a second pull changes nothing; a second export adds only new tweets to the project."""

from __future__ import annotations

import pytest

from sentiment.annotation import label_studio as ls
from sentiment.settings import Settings
from sentiment.usecases.labelling import export_for_annotation, import_annotations
from tests.label_studio_server import label_studio_fixture  # noqa: F401
from tests.sentiment.annotation.test_label_files import gold, human, scored  # noqa: F401

pytestmark = pytest.mark.slow


def test_export_annotate_import_through_label_studio(scored, label_studio, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("TWEETSENT_LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("TWEETSENT_LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.setenv("TWEETSENT_LABEL_STUDIO_PROJECT", f"tweetsent test {tmp_path.name}")
    settings = Settings()
    sent = export_for_annotation(settings, 12, "uncertainty", tmp_path / "a.json")
    assert sent["label_studio_new_tasks"] == 12 and sent["label_studio_project"].startswith(label_studio.url)

    client = ls.connect(label_studio.url, label_studio.api_key)
    project_id = int(sent["label_studio_project"].rsplit("/", 1)[1])
    tasks = ls.export_annotations(client, project_id)
    assert len(tasks) == 12 and all(t["predictions"] for t in tasks)  # the champion's pre-annotation came along
    truth = gold()
    for task in tasks[:10]:
        ls.annotate(client, project_id, task["id"], truth[task["data"]["tweet_id"]])
    pulled = import_annotations(settings, from_label_studio=True)
    assert (pulled.rows_read, pulled.rows_inserted, pulled.labels_inserted, pulled.rows_quarantined) == (10, 10, 10, 0)
    got = human()
    assert {t: lab for t, (lab, _) in got.items()} == {t["data"]["tweet_id"]: truth[t["data"]["tweet_id"]] for t in tasks[:10]}
    again = import_annotations(settings, from_label_studio=True)
    assert again.skipped or (again.rows_inserted, again.labels_inserted) == (0, 0)
    assert human() == got

    more = export_for_annotation(settings, 5, "random", tmp_path / "b.json")
    assert more["label_studio_new_tasks"] == 5
    assert len(ls.export_annotations(client, project_id)) == 17
