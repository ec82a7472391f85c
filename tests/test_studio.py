"""Against a real Label Studio server started by the test session (tests/studio_server.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from newsner.cli import app
from newsner.ids import sentence_id
from newsner.pseudonyms import REVIEWER_PREFIX, load_key, pseudonym, register
from newsner.studio.client import connect
from newsner.studio.projects import annotator_projects, known_sentence_ids
from newsner.studio.pull import pull_annotations
from newsner.studio.push import push_tasks
from newsner.studio.server import LocalStudio
from tests.studio_server import _free_port, annotate, copy_template

pytestmark = pytest.mark.studio


def make_tasks(n: int, texts: list[str] | None = None) -> list[dict]:
    article = "a" * 16
    tasks = []
    for i in range(n):
        text = texts[i] if texts else f"Tokayev met Putin in Moscow on day {i}."
        sid = sentence_id(article, i * 100, text)
        tasks.append(
            {
                "data": {"text": text, "sentence_id": sid, "article_id": article},
                "predictions": [{"model_version": "test-1", "result": []}],
            }
        )
    return tasks


def write_tasks(path: Path, tasks: list[dict]) -> Path:
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks))
    return path


def task_ids(settings) -> dict[str, dict[str, list[int]]]:
    """annotator -> sentence_id -> task ids in their project."""
    connection = connect(settings)
    return {
        name: known_sentence_ids(connection, project.id)
        for name, project in annotator_projects(connection, settings.studio.project).items()
    }


def test_push_twice_gives_the_same_tasks(studio_settings, pool, runner):
    write_tasks(Path("tasks.jsonl"), make_tasks(12))
    first = runner.invoke(app, ["push", "tasks.jsonl", "--batch-size", "5"])
    assert first.exit_code == 0, first.output
    assert (
        "2 annotator projects (2 created); 24 new tasks imported in 6 batches, 0 already there, 0 invalid"
        in first.output
    )
    second = runner.invoke(app, ["push", "tasks.jsonl"])
    assert second.exit_code == 0, second.output
    assert "2 annotator projects (0 created); 0 new tasks imported in 0 batches, 24 already there" in second.output
    ids = task_ids(studio_settings)
    assert sorted(ids) == sorted(a["name"] for a in pool.values())
    assert all(len(project) == 12 and all(len(v) == 1 for v in project.values()) for project in ids.values())


def test_push_without_annotators_says_what_to_do(studio_settings, runner):
    write_tasks(Path("tasks.jsonl"), make_tasks(1))
    result = runner.invoke(app, ["push", "tasks.jsonl"])
    assert result.exit_code == 1
    assert (
        "Error: no annotators yet: add them with `newsner studio add-annotator EMAIL...`, then push again"
        in result.output
    )


def test_push_killed_after_first_batch_then_rerun(studio_settings, pool):
    tasks = make_tasks(200)
    write_tasks(Path("tasks.jsonl"), tasks)
    command = [sys.executable, "-m", "newsner.cli", "push", "tasks.jsonl", "--batch-size", "20"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline:
        try:
            count = sum(len(p) for p in task_ids(studio_settings).values())
        except Exception:  # projects not created yet
            count = 0
        if count >= 20:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    interrupted = sum(len(p) for p in task_ids(studio_settings).values())
    assert 20 <= interrupted < 400, "the push was not interrupted part-way; the test proves nothing"
    rerun = subprocess.run(command, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    ids = task_ids(studio_settings)
    assert len(ids) == 2
    for project in ids.values():
        assert set(project) == {t["data"]["sentence_id"] for t in tasks}
        assert all(len(v) == 1 for v in project.values())


def test_invalid_tasks_are_not_pushed(studio_settings, pool, runner):
    tasks = make_tasks(2)
    tasks[1]["predictions"][0]["result"] = [
        {
            "id": "x",
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "value": {"start": 0, "end": 7, "text": "Tokayev", "labels": ["CITY"]},
        }
    ]
    write_tasks(Path("tasks.jsonl"), tasks)
    result = runner.invoke(app, ["push", "tasks.jsonl"])
    assert result.exit_code == 1
    assert "invalid task 2: [$.predictions[0].result[0]] label 'CITY' is not in the label set" in result.output
    assert [len(p) for p in task_ids(studio_settings).values()] == [1, 1]


def test_wrong_api_key_names_the_url_not_the_key(studio_settings, runner, monkeypatch, studio):
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "wrong-secret-key-123")
    write_tasks(Path("tasks.jsonl"), make_tasks(1))
    result = runner.invoke(app, ["push", "tasks.jsonl"])
    assert result.exit_code == 1
    assert f"Label Studio at {studio.url} refused the API key (HTTP 401)" in result.output
    assert "wrong-secret-key-123" not in result.output


def _pushed(settings, texts: list[str]) -> tuple[object, dict[str, dict[str, int]]]:
    """Push the texts; return the connection and annotator -> text -> task id in their project."""
    connection = connect(settings)
    push_tasks(connection, settings, make_tasks(len(texts), texts))
    tasks = {}
    for name, project in annotator_projects(connection, settings.studio.project).items():
        tasks[name] = {
            t.data["text"]: t.id for t in connection.client.tasks.list(project=project.id, include="id,data")
        }
    return connection, tasks


def _records(path: Path = Path("annotation/annotations.jsonl")) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_unicode_offsets_code_points_and_utf16_both_come_back_right(studio_settings, studio, pool):
    text = "🙂 Café owners in Zürich 🇰🇿 met Kassym-Jomart Tokayev."
    connection, tasks = _pushed(studio_settings, [text])
    start = text.index("Kassym")
    end = start + len("Kassym-Jomart Tokayev")
    utf16 = lambda i: len(text[:i].encode("utf-16-le")) // 2  # noqa: E731
    one, two = pool.values()
    annotate(studio, one["token"], tasks[one["name"]][text], [{"start": start, "end": end, "label": "PER"}], text=text)
    annotate(
        studio,
        two["token"],
        tasks[two["name"]][text],
        [{"start": utf16(start), "end": utf16(end), "label": "PER", "shown": "Kassym-Jomart Tokayev"}],
        text=text,
    )
    path, report = pull_annotations(connection, studio_settings, Path("annotation"))
    assert [r["spans"] for r in _records(path)] == [[{"start": start, "end": end, "label": "PER"}]] * 2
    assert report.counts["spans_repaired_utf16"] == 1


def test_skips_are_counted_and_no_secret_or_email_leaves_the_server(studio_settings, studio, annotators, pool, runner):
    text = "Putin spoke to Tokayev from Moscow."
    connection, tasks = _pushed(studio_settings, [text])
    one, two = pool.values()
    annotate(studio, one["token"], tasks[one["name"]][text], [{"start": 0, "end": 5, "label": "PER"}], text=text)
    annotate(studio, two["token"], tasks[two["name"]][text], [], text=text, cancelled=True)
    result = runner.invoke(app, ["pull", "-o", "annotation"])
    assert result.exit_code == 0, result.output
    records = _records()
    assert [r["annotator"] for r in records] == [one["name"]]
    report = json.loads(Path("annotation/pull-report.json").read_text())
    assert report["counts"]["cancelled"] == 1
    assert report["annotations"] == 1
    # no key and no e-mail anywhere outside the raw exports (nor the pseudonym key), nor in the output
    secrets = [
        studio.credentials()["admin"]["token"],
        *[a["token"] for a in annotators.values()],
        *annotators,
        load_key(studio_settings.root).decode(),
    ]
    for path in Path("annotation").rglob("*"):
        if path.is_file() and "exports" not in path.parts:
            content = path.read_text()
            assert not any(s in content for s in secrets), path
            assert "@" not in content, path
    assert not any(s in result.output for s in secrets)
    assert len(list(Path("annotation/exports").glob("*.json"))) == 2


def test_annotation_made_in_someone_elses_project_is_held(studio_settings, studio, pool):
    text = "Tokayev thanked the CSTO."
    connection, tasks = _pushed(studio_settings, [text])
    one, two = pool.values()
    annotate(studio, one["token"], tasks[one["name"]][text], [{"start": 0, "end": 7, "label": "PER"}], text=text)
    # annotator 2 opens annotator 1's project and adds an annotation of their own there
    annotate(studio, two["token"], tasks[one["name"]][text], [{"start": 20, "end": 24, "label": "ORG"}], text=text)
    path, report = pull_annotations(connection, studio_settings, Path("annotation"))
    assert [(r["annotator"], len(r["spans"])) for r in _records(path)] == [(one["name"], 1)]
    assert [(h["annotator"], h["reason"]) for h in report.held] == [
        (two["name"], f"made by {two['name']} in the project of {one['name']}")
    ]
    held = _records(Path("annotation/held.jsonl"))
    assert held[0]["held"] == {"reason": report.held[0]["reason"], "author": two["name"], "project_of": one["name"]}


def test_maintainer_ground_truth_is_an_adjudication_never_an_annotation(studio_settings, studio, pool):
    text = "Blinken spoke on CNN."
    connection, tasks = _pushed(studio_settings, [text])
    one = next(iter(pool.values()))
    annotate(studio, one["token"], tasks[one["name"]][text], [{"start": 0, "end": 7, "label": "PER"}], text=text)
    annotate(
        studio,
        studio.credentials()["admin"]["token"],
        tasks[one["name"]][text],
        [{"start": 0, "end": 7, "label": "PER"}, {"start": 17, "end": 20, "label": "ORG"}],
        text=text,
        ground_truth=True,
    )
    _, report = pull_annotations(connection, studio_settings, Path("annotation"))
    assert report.held == []
    assert [r["annotator"] for r in _records()] == [one["name"]]  # only the annotator is an annotator
    [decision] = _records(Path("annotation/adjudications.jsonl"))
    key = load_key(studio_settings.root)
    assert decision["how"] == "ground_truth"
    assert decision["reviewer"] == pseudonym(key, "admin@newsner.local", REVIEWER_PREFIX)
    assert decision["spans"] == [{"start": 0, "end": 7, "label": "PER"}, {"start": 17, "end": 20, "label": "ORG"}]
    assert report.decisions["new"] == 1


def test_maintainer_annotation_without_the_flag_is_held_saying_what_to_do(studio_settings, studio, pool):
    text = "Blinken spoke on CNN."
    connection, tasks = _pushed(studio_settings, [text])
    one = next(iter(pool.values()))
    annotate(
        studio,
        studio.credentials()["admin"]["token"],
        tasks[one["name"]][text],
        [{"start": 0, "end": 7, "label": "PER"}],
        text=text,
    )
    _, report = pull_annotations(connection, studio_settings, Path("annotation"))
    reviewer = pseudonym(load_key(studio_settings.root), "admin@newsner.local", REVIEWER_PREFIX)
    assert [h["reason"] for h in report.held] == [
        f"made by the maintainer's account ({reviewer}) in the project of {one['name']}, without the ground-truth "
        f"flag: decide in the review project (`newsner review`), or flag it ground truth; `newsner studio settle` "
        f"removes it"
    ]
    assert _records() == []
    assert report.unreachable == {one["name"]: [sentence_id("a" * 16, 0, text)]}


def test_pull_with_server_down_leaves_annotations_untouched(studio_settings, studio, pool, runner):
    text = "Blinken spoke on CNN."
    _pushed(studio_settings, [text])
    assert runner.invoke(app, ["pull", "-o", "annotation"]).exit_code == 0
    before = Path("annotation/annotations.jsonl").read_bytes()
    studio.stop()
    try:
        result = runner.invoke(app, ["pull", "-o", "annotation"])
        assert result.exit_code == 1
        assert f"Error: cannot reach Label Studio at {studio.url}" in result.output
        assert "Traceback" not in result.output
        assert Path("annotation/annotations.jsonl").read_bytes() == before
    finally:
        studio.start(timeout=300)
    assert runner.invoke(app, ["pull", "-o", "annotation"]).exit_code == 0


def test_pull_keeps_annotations_the_server_lacks_unless_replace(studio_settings, studio, pool, runner):
    text = "Tokayev thanked the CSTO."
    connection, tasks = _pushed(studio_settings, [text])
    one = next(iter(pool.values()))
    annotate(studio, one["token"], tasks[one["name"]][text], [{"start": 0, "end": 7, "label": "PER"}], text=text)
    earlier = {
        "sentence_id": "f" * 16,
        "article_id": "e" * 16,
        "annotator": "annotator-0ld0ld00",
        "text": "Putin spoke.",
        "spans": [{"start": 0, "end": 5, "label": "PER"}],
    }
    Path("annotation").mkdir(exist_ok=True)
    Path("annotation/annotations.jsonl").write_text(json.dumps(earlier) + "\n")
    kept = runner.invoke(app, ["pull", "-o", "annotation"])
    assert kept.exit_code == 0, kept.output
    assert "(new 1, changed 0, unchanged 0, kept 1, dropped 0)" in kept.output
    records = _records()
    assert earlier in records and len(records) == 2
    replaced = runner.invoke(app, ["pull", "-o", "annotation", "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert "(new 0, changed 0, unchanged 1, kept 0, dropped 1)" in replaced.output
    assert [r["text"] for r in _records()] == [text]


def test_same_person_same_pseudonym_on_a_fresh_server_and_rounds_stay_distinct(
    studio_settings, studio, pool, studio_template, tmp_path_factory
):
    """Round 1 on the session's server, round 2 on a fresh server whose user ids are handed out differently."""
    one, two = pool.values()
    first_text, second_text = "Putin met Tokayev.", "Blinken called Tokayev."
    connection, tasks = _pushed(studio_settings, [first_text])
    annotate(
        studio, one["token"], tasks[one["name"]][first_text], [{"start": 0, "end": 5, "label": "PER"}], text=first_text
    )
    annotate(
        studio,
        two["token"],
        tasks[two["name"]][first_text],
        [{"start": 10, "end": 17, "label": "PER"}],
        text=first_text,
    )
    pull_annotations(connection, studio_settings, Path("annotation"))

    fresh = LocalStudio(state_dir=copy_template(studio_template, tmp_path_factory.mktemp("fresh")), port=_free_port())
    fresh.start(timeout=300)
    try:
        newcomer = fresh.add_annotator("ann.new@example.org")  # takes the user id annotator 1 has on the first server
        accounts = {"ann.new@example.org": newcomer, **{email: fresh.add_annotator(email) for email in pool}}
        assert newcomer["id"] == one["id"] and accounts[next(iter(pool))]["id"] != one["id"]
        names, added = register(studio_settings.root, ["ann.new@example.org"])
        settings = replace(studio_settings, studio=replace(studio_settings.studio, url=fresh.url))
        second = connect(settings, url=fresh.url, key=fresh.credentials()["admin"]["token"])
        push_tasks(second, settings, make_tasks(1, [second_text]))
        key = load_key(studio_settings.root)
        for email, account in accounts.items():
            project = annotator_projects(second, settings.studio.project).get(pseudonym(key, email))
            tasks = list(second.client.tasks.list(project=project.id, include="id,data")) if project else []
            for task in tasks:  # only the people assigned the round-2 sentence have it
                annotate(fresh, account["token"], task.id, [{"start": 0, "end": 7, "label": "PER"}], text=second_text)
        _, report = pull_annotations(second, settings, Path("annotation"))
    finally:
        fresh.stop()
    records = _records()
    annotators_by_text = {}
    for record in records:
        annotators_by_text.setdefault(record["text"], set()).add(record["annotator"])
    assert annotators_by_text[first_text] == {one["name"], two["name"]}  # round 1 untouched
    assert names[0] in annotators_by_text[second_text]
    assert annotators_by_text[second_text] <= {one["name"], two["name"], names[0]}  # old people keep their names
    assert names[0] not in (one["name"], two["name"]), "a new person took an existing pseudonym"
    assert report.rounds["kept"] == 2 and report.rounds["new"] == len(annotators_by_text[second_text]) == 2
    assert report.new_annotators == sorted(annotators_by_text[second_text] - {one["name"], two["name"]})


def test_add_annotator_on_a_team_server_registers_existing_accounts_only(
    studio_settings, annotators, monkeypatch, runner, studio
):
    # a Label Studio on 127.0.0.1 that newsner did not start (Docker, say) is a team server: no invite with the
    # local admin's token, the accounts must exist (it used to try the local invite path and fail with HTTP 401)
    email = list(annotators)[2]
    ok = runner.invoke(app, ["studio", "add-annotator", email.upper()])
    assert ok.exit_code == 0, ok.output
    name = pseudonym(load_key(studio_settings.root), email)
    assert json.loads(Path("annotation/annotators.json").read_text())["annotators"] == [name]
    missing = runner.invoke(app, ["studio", "add-annotator", "nobody@example.org"])
    assert missing.exit_code == 1
    assert f"Error: no account on {studio.url} for nobody@example.org; invite them" in missing.output


def _next_task_text(studio, token: str, project_id: int) -> str:
    """What Label All Tasks serves an annotator next (the label stream's own endpoint)."""
    import httpx

    response = httpx.get(
        f"{studio.url}/api/projects/{project_id}/next", headers={"Authorization": f"Token {token}"}, timeout=30
    )
    response.raise_for_status()
    return response.json()["data"]["text"]


@pytest.mark.parametrize(
    "sampling, first", [("uncertainty", "Sentence scored 0.2."), ("sequential", "Sentence scored 0.9.")]
)
def test_sampling_setting_decides_what_the_label_stream_serves_first(studio_settings, studio, pool, sampling, first):
    settings = replace(studio_settings, studio=replace(studio_settings.studio, sampling=sampling))
    scores = [0.9, 0.5, 0.2, 0.7]
    tasks = make_tasks(4, [f"Sentence scored {s}." for s in scores])
    for task, score in zip(tasks, scores, strict=True):
        task["predictions"][0]["score"] = score
    connection = connect(settings)
    push_tasks(connection, settings, tasks)
    one = next(iter(pool.values()))
    project = annotator_projects(connection, settings.studio.project)[one["name"]]
    assert _next_task_text(studio, one["token"], project.id) == first


def test_a_new_model_reaches_unannotated_tasks_only(studio_settings, studio, pool, runner):
    texts = ["Putin met Tokayev.", "Blinken called Tokayev."]
    connection, tasks = _pushed(studio_settings, texts)
    one, two = pool.values()
    annotate(
        studio, one["token"], tasks[one["name"]][texts[0]], [{"start": 0, "end": 5, "label": "PER"}], text=texts[0]
    )
    retrained = make_tasks(2, texts)
    for task in retrained:
        task["predictions"][0]["model_version"] = "trained-2"
        task["predictions"][0]["result"] = [
            {
                "id": "t1",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {"start": 0, "end": 5, "text": task["data"]["text"][:5], "labels": ["PER"]},
                "score": 0.8,
            }
        ]
    write_tasks(Path("tasks.jsonl"), retrained)
    for added in (3, 0):  # the second push finds every version in place: nothing more
        result = runner.invoke(app, ["push", "tasks.jsonl"])
        assert result.exit_code == 0, result.output
        assert "0 new tasks imported" in result.output
        assert (
            f"new pre-labels added to {added} unannotated tasks (1 annotated tasks left as they were)" in result.output
        )
    versions = {}
    for name, project in annotator_projects(connection, studio_settings.studio.project).items():
        for task in connection.client.tasks.list(project=project.id, include="id,data,predictions_model_versions"):
            found = task.predictions_model_versions
            versions[(name, task.data["text"])] = sorted(found.split(",") if isinstance(found, str) else found)
        assert connection.client.projects.get(project.id).model_version == "trained-2"
    assert versions[(one["name"], texts[0])] == ["test-1"], "an annotated task got new pre-labels"
    assert versions[(one["name"], texts[1])] == ["test-1", "trained-2"]
    assert versions[(two["name"], texts[0])] == ["test-1", "trained-2"]
    assert sum(len(v) for v in task_ids(studio_settings).values()) == 4, "a task was duplicated"
