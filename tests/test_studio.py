"""Against a real Label Studio server started by the test session (tests/studio_server.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsner.cli import app
from newsner.segment import sentence_id
from newsner.studio.client import connect
from newsner.studio.push import find_project, known_sentence_ids, push_tasks
from newsner.studio.pull import pull_annotations
from tests.studio_server import annotate

pytestmark = pytest.mark.studio


def make_tasks(n: int, texts: list[str] | None = None) -> list[dict]:
    article = "a" * 16
    tasks = []
    for i in range(n):
        text = texts[i] if texts else f"Tokayev met Putin in Moscow on day {i}."
        sid = sentence_id(article, i * 100, text)
        tasks.append({"data": {"text": text, "sentence_id": sid, "article_id": article},
                      "predictions": [{"model_version": "test-1", "result": []}]})
    return tasks


def write_tasks(path: Path, tasks: list[dict]) -> Path:
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks))
    return path


def task_ids(settings) -> dict[str, list[int]]:
    connection = connect(settings)
    project = find_project(connection, settings.studio["project"])
    return known_sentence_ids(connection, project.id)


def test_push_twice_gives_the_same_tasks(studio_settings, runner):
    write_tasks(Path("tasks.jsonl"), make_tasks(12))
    first = runner.invoke(app, ["push", "tasks.jsonl", "--batch-size", "5"])
    assert first.exit_code == 0, first.output
    assert "12 new tasks imported in 3 batches, 0 already there, 0 invalid" in first.output
    second = runner.invoke(app, ["push", "tasks.jsonl"])
    assert second.exit_code == 0, second.output
    assert "0 new tasks imported in 0 batches, 12 already there" in second.output
    ids = task_ids(studio_settings)
    assert len(ids) == 12 and all(len(v) == 1 for v in ids.values())


def test_push_killed_after_first_batch_then_rerun(studio_settings):
    tasks = make_tasks(400)
    write_tasks(Path("tasks.jsonl"), tasks)
    command = [sys.executable, "-m", "newsner.cli", "push", "tasks.jsonl", "--batch-size", "20"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline:
        try:
            count = len(task_ids(studio_settings))
        except Exception:  # project not created yet
            count = 0
        if count >= 20:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    interrupted = len(task_ids(studio_settings))
    assert 20 <= interrupted < 400, "the push was not interrupted part-way; the test proves nothing"
    rerun = subprocess.run(command, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    ids = task_ids(studio_settings)
    assert set(ids) == {t["data"]["sentence_id"] for t in tasks}
    assert all(len(v) == 1 for v in ids.values())


def test_invalid_tasks_are_not_pushed(studio_settings, runner):
    tasks = make_tasks(2)
    tasks[1]["predictions"][0]["result"] = [{"id": "x", "from_name": "label", "to_name": "text", "type": "labels",
                                             "value": {"start": 0, "end": 7, "text": "Tokayev", "labels": ["CITY"]}}]
    write_tasks(Path("tasks.jsonl"), tasks)
    result = runner.invoke(app, ["push", "tasks.jsonl"])
    assert result.exit_code == 1
    assert "invalid task 2: [$.predictions[0].result[0]] label 'CITY' is not in the label set" in result.output
    assert len(task_ids(studio_settings)) == 1


def test_wrong_api_key_names_the_url_not_the_key(studio_settings, runner, monkeypatch, studio):
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "wrong-secret-key-123")
    write_tasks(Path("tasks.jsonl"), make_tasks(1))
    result = runner.invoke(app, ["push", "tasks.jsonl"])
    assert result.exit_code == 1
    assert f"Label Studio at {studio.url} refused the API key (HTTP 401)" in result.output
    assert "wrong-secret-key-123" not in result.output


def _pushed(settings, texts: list[str]) -> tuple[object, dict[str, int]]:
    connection = connect(settings)
    push_tasks(connection, settings, make_tasks(len(texts), texts))
    project = find_project(connection, settings.studio["project"])
    tasks = {t.data["text"]: t.id for t in connection.client.tasks.list(project=project.id, include="id,data")}
    return connection, tasks


def test_unicode_offsets_code_points_and_utf16_both_come_back_right(studio_settings, studio, annotators):
    text = "🙂 Café owners in Zürich 🇰🇿 met Kassym-Jomart Tokayev."
    connection, tasks = _pushed(studio_settings, [text])
    start = text.index("Kassym")
    end = start + len("Kassym-Jomart Tokayev")
    utf16 = lambda i: len(text[:i].encode("utf-16-le")) // 2  # noqa: E731
    one, two = list(annotators.values())[:2]
    annotate(studio, one["token"], tasks[text], [{"start": start, "end": end, "label": "PER"}], text=text)
    annotate(studio, two["token"], tasks[text],
             [{"start": utf16(start), "end": utf16(end), "label": "PER", "shown": "Kassym-Jomart Tokayev"}], text=text)
    path, report = pull_annotations(connection, studio_settings, Path("annotation"))
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["spans"] for r in records] == [[{"start": start, "end": end, "label": "PER"}]] * 2
    assert report.counts["spans_repaired_utf16"] == 1


def test_three_annotators_one_skips(studio_settings, studio, annotators, runner):
    text = "Putin spoke to Tokayev from Moscow."
    connection, tasks = _pushed(studio_settings, [text])
    tokens = [a["token"] for a in annotators.values()]
    annotate(studio, tokens[0], tasks[text], [{"start": 0, "end": 5, "label": "PER"}], text=text)
    annotate(studio, tokens[1], tasks[text], [{"start": 15, "end": 22, "label": "PER"}], text=text)
    annotate(studio, tokens[2], tasks[text], [], text=text, cancelled=True)
    result = runner.invoke(app, ["pull", "-o", "annotation"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in Path("annotation/annotations.jsonl").read_text().splitlines()]
    assert len(records) == 2 and len({r["annotator"] for r in records}) == 2
    report = json.loads(Path("annotation/pull-report.json").read_text())
    assert report["counts"]["cancelled"] == 1
    assert report["annotations"] == 2
    # no key and no e-mail anywhere outside the raw exports, nor in the output
    secrets = [studio.credentials()["admin"]["token"], *[a["token"] for a in annotators.values()], *annotators]
    for path in Path("annotation").rglob("*"):
        if path.is_file() and "exports" not in path.parts:
            content = path.read_text()
            assert not any(s in content for s in secrets), path
            assert "@" not in content, path
    assert not any(s in result.output for s in secrets)
    assert list(Path("annotation/exports").glob("*.json"))


def test_pull_with_server_down_leaves_annotations_untouched(studio_settings, studio, annotators, runner):
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


def test_pull_keeps_annotations_the_server_lacks_unless_replace(studio_settings, studio, annotators, runner):
    text = "Tokayev thanked the CSTO."
    connection, tasks = _pushed(studio_settings, [text])
    annotate(studio, list(annotators.values())[0]["token"], tasks[text], [{"start": 0, "end": 7, "label": "PER"}], text=text)
    earlier = {"sentence_id": "f" * 16, "article_id": "e" * 16, "annotator": "annotator-0ld0ld00", "text": "Putin spoke.",
               "spans": [{"start": 0, "end": 5, "label": "PER"}]}
    Path("annotation").mkdir()
    Path("annotation/annotations.jsonl").write_text(json.dumps(earlier) + "\n")
    kept = runner.invoke(app, ["pull", "-o", "annotation"])
    assert kept.exit_code == 0, kept.output
    assert "previous_annotations_kept 1" in kept.output
    records = [json.loads(line) for line in Path("annotation/annotations.jsonl").read_text().splitlines()]
    assert earlier in records and len(records) == 2
    replaced = runner.invoke(app, ["pull", "-o", "annotation", "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert "previous_annotations_dropped 1" in replaced.output
    records = [json.loads(line) for line in Path("annotation/annotations.jsonl").read_text().splitlines()]
    assert [r["text"] for r in records] == [text]
