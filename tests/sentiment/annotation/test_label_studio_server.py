"""sentiment.annotation.label_studio against a real Label Studio (tests/label_studio_server.py starts one;
skipped where .venv-ls is not installed): a project, tasks in once, annotations made through the API out
in the full JSON export, and keys refused without being shown."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from sentiment.annotation.formats import labelling_config, read_answers, task_for
from sentiment.annotation.label_studio import LabelStudioError, annotate, connect, ensure_project, export_annotations, import_tasks
from tests.label_studio_server import label_studio_fixture  # noqa: F401 - the `label_studio` fixture

pytestmark = pytest.mark.slow

LABELS = ("negative", "neutral", "positive")
TWEETS = {f"17000000000000000{i}": f"tweet number {i}, about flights" for i in range(5)}
ANSWERS = {"170000000000000000": "positive", "170000000000000002": "neutral", "170000000000000004": "negative"}


def _tasks() -> list[dict]:
    return [task_for(tweet_id, text, "negative", 0.4, "champion-1") for tweet_id, text in TWEETS.items()]


def _title(name: str) -> str:
    return f"tweetsent {name} {uuid.uuid4().hex[:8]}"  # the server lives for the whole session


def test_ensure_project_finds_the_project_it_made_and_updates_its_config(label_studio):
    client = connect(label_studio.url, label_studio.api_key)
    title = _title("ensure")
    first = ensure_project(client, title, labelling_config(LABELS))
    assert ensure_project(client, title, labelling_config(LABELS)) == first
    assert ensure_project(client, title + " (other)", labelling_config(LABELS)) != first  # titles match exactly

    wider = labelling_config((*LABELS, "irrelevant"))
    assert ensure_project(client, title, wider) == first
    assert client.projects.get(first).label_config.strip() == wider.strip()  # the server trims it


def test_tasks_go_in_once_and_annotations_come_back_in_the_full_export(label_studio):
    client = connect(label_studio.url, label_studio.api_key)
    project = ensure_project(client, _title("loop"), labelling_config(LABELS))

    assert import_tasks(client, project, _tasks()) == 5
    assert import_tasks(client, project, _tasks()) == 0  # the same tweets again: nothing new
    assert import_tasks(client, project, _tasks()[:2] + _tasks()[:2]) == 0

    task_ids = {task["data"]["tweet_id"]: task["id"] for task in export_annotations(client, project)}
    assert sorted(task_ids) == sorted(TWEETS)
    for tweet_id, choice in ANSWERS.items():
        annotate(client, project, task_ids[tweet_id], choice)

    exported = export_annotations(client, project)
    assert len(exported) == 5
    got = {}
    for task in exported:
        assert {"id", "data", "annotations"} <= set(task)
        for annotation in task["annotations"]:
            assert annotation["was_cancelled"] is False
            assert {"id", "completed_by", "result", "created_at", "updated_at"} <= set(annotation)
            got[task["data"]["tweet_id"]] = annotation["result"][0]["value"]["choices"]
    assert got == {tweet_id: [choice] for tweet_id, choice in ANSWERS.items()}

    # the same importer reads a downloaded file and the server's export
    answers, _ = read_answers(json.dumps(exported), "label-studio", LABELS)
    assert {(a.tweet_id, a.label) for a in answers if not a.problems} == set(ANSWERS.items())


def test_a_wrong_key_is_refused_without_being_shown(label_studio):
    wrong = "0123456789abcdef" + label_studio.api_key[16:][::-1]
    with pytest.raises(LabelStudioError) as caught:
        connect(label_studio.url, wrong)
    text = str(caught.value)
    assert wrong not in text and label_studio.api_key not in text
    assert label_studio.url in text and "TWEETSENT_LABEL_STUDIO_API_KEY" in text and "tweetsent-label-studio-api-key" in text
    assert "\n" not in text


def test_a_server_that_is_not_there_names_the_url_setting(label_studio):
    gone = label_studio.url.rsplit(":", 1)[0] + ":9"  # discard port: nothing listens
    with pytest.raises(LabelStudioError, match="TWEETSENT_LABEL_STUDIO_URL") as caught:
        connect(gone, label_studio.api_key)
    assert label_studio.api_key not in str(caught.value)


def test_a_personal_access_token_works_too(label_studio):
    """Label Studio 1.18+'s own kind of key: a JWT refresh token, traded for access tokens by the SDK."""
    request = urllib.request.Request(f"{label_studio.url}/api/token/", method="POST", headers={"Authorization": f"Token {label_studio.api_key}"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as response:
        token = json.loads(response.read())["token"]
    client = connect(label_studio.url, token)
    project = ensure_project(client, _title("pat"), labelling_config(LABELS))
    assert import_tasks(client, project, _tasks()[:1]) == 1
