"""The review loop on a real Label Studio: re-running review, decisions whose annotations change afterwards,
a newcomer's fair share of unstarted work, settling an intrusion, and lists read without paging past the end.

Annotations are posted through the real API with each person's own token (the browser tests in
test_browser.py and test_review_browser.py do the same through the labeling view)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from label_studio_sdk import LabelStudio

from newsner.cli import app
from newsner.pseudonyms import register
from newsner.studio.accounts import annotator_progress
from newsner.studio.client import connect
from newsner.studio.projects import annotator_projects, known_sentence_ids, review_project
from tests.studio_server import annotate, label_results
from tests.test_studio import _records, make_tasks, task_ids, write_tasks

pytestmark = pytest.mark.studio

TEXTS = [
    "Tokayev met Putin in Moscow on Monday.",
    "Protests spread from Zhanaozen to Almaty.",
    "Blinken spoke to Tokayev by phone.",
    "The CSTO sent troops to Kazakhstan.",
]


def span(text: str, needle: str, label: str) -> dict:
    return {"start": text.index(needle), "end": text.index(needle) + len(needle), "label": label}


def tasks_of(settings, name: str) -> dict[str, int]:
    """text -> task id in the annotator's project."""
    connection = connect(settings)
    project = annotator_projects(connection, settings.studio.project)[name]
    return {t.data["text"]: t.id for t in connection.client.tasks.list(project=project.id, include="id,data")}


def review_tasks(settings) -> dict[str, object]:
    connection = connect(settings)
    project = review_project(connection, settings.studio.project)
    return {t.data["text"]: t for t in connection.client.tasks.list(project=project.id, include="id,data,predictions")}


def test_review_is_idempotent_and_a_decision_whose_annotations_change_is_reported(
    studio_settings, studio, pool, runner
):
    write_tasks(Path("tasks.jsonl"), make_tasks(3, TEXTS[:3]))
    assert runner.invoke(app, ["push", "tasks.jsonl"]).exit_code == 0
    (one, a), (two, b) = [(p["name"], p) for p in pool.values()]
    for person, extra in ((a, []), (b, [span(TEXTS[0], "Moscow", "LOC")])):
        ids = tasks_of(studio_settings, person["name"])
        for text in TEXTS[:3]:
            spans = [span(text, "Tokayev", "PER")] if "Tokayev" in text else []
            annotate(studio, person["token"], ids[text], spans + (extra if text == TEXTS[0] else []), text=text)
    assert runner.invoke(app, ["pull"]).exit_code == 0

    first = runner.invoke(app, ["review"])
    assert first.exit_code == 0, first.output
    assert (
        "review: 1 sentences need a decision (disagreement 1); 1 new in the review project, 0 with new versions, "
        "0 unchanged; 0 decided so far"
    ) in first.output
    second = runner.invoke(app, ["review"])
    assert (
        "1 sentences need a decision (disagreement 1); 0 new in the review project, 0 with new versions, "
        "1 unchanged" in second.output
    )
    audit = runner.invoke(app, ["review", "--select", "all"])  # every multiply-annotated sentence
    assert "3 sentences need a decision (all 2, disagreement 1); 2 new" in audit.output
    [task] = [t for text, t in review_tasks(studio_settings).items() if text == TEXTS[0]]
    assert sorted(p.model_version for p in task.predictions) == sorted(["merge", one, two])

    # the maintainer decides (in the review project, starting from annotator 2's version)
    admin = studio.credentials()["admin"]["token"]
    versions = {p.model_version: p.id for p in task.predictions}
    client = LabelStudio(base_url=studio.url, api_key=admin)
    gold = [span(TEXTS[0], "Tokayev", "PER"), span(TEXTS[0], "Putin", "PER"), span(TEXTS[0], "Moscow", "LOC")]
    result = label_results(TEXTS[0], gold, prefix="g")
    client.annotations.create(task.id, result=result, parent_prediction=versions[two])
    pulled = runner.invoke(app, ["pull"])
    assert "adjudications 1 (new 1)" in pulled.output
    [decision] = _records(Path("annotation/adjudications.jsonl"))
    assert decision["based_on"] == two and decision["spans"] == sorted(gold, key=lambda s: (s["start"], s["end"]))

    # decided and unchanged: review leaves it alone
    again = runner.invoke(app, ["review"])
    assert (
        "0 new in the review project, 0 with new versions, 1 unchanged; 1 decided so far; 2 tasks in the project "
        "not selected this time"
    ) in again.output

    # annotator 1 changes their annotation after the decision: review says so and shows the new versions
    mine = next(r for r in _records() if r["annotator"] == one and r["text"] == TEXTS[0])
    LabelStudio(base_url=studio.url, api_key=a["token"]).annotations.update(
        mine["source"]["annotation_id"],
        result=[
            {
                "id": f"n{i}",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {"start": s["start"], "end": s["end"], "text": n, "labels": ["PER"]},
            }
            for i, (n, s) in enumerate((n, span(TEXTS[0], n, "PER")) for n in ("Tokayev", "Putin"))
        ],
    )
    assert runner.invoke(app, ["pull"]).exit_code == 0
    reopened = runner.invoke(app, ["review"])
    assert (
        f"1 decided before an annotator changed their version, shown again with the new versions (the reviewer "
        f"should look again): {decision['sentence_id']}"
    ) in reopened.output
    stale = runner.invoke(app, ["agree", "--no-plots", "-o", "out"])
    report = json.loads(Path("out/agreement.json").read_text())
    assert report["adjudication"]["stale_reviews"] == [decision["sentence_id"]]
    assert (
        "1** review decisions were made before an annotator changed their version"
        in Path("out/agreement.md").read_text()
    )
    assert stale.exit_code == 0
    # the decision is still the gold, and still records the versions the reviewer saw
    assert runner.invoke(app, ["pull"]).exit_code == 0
    assert _records(Path("annotation/adjudications.jsonl"))[0]["versions"] == decision["versions"]
    # the reviewer looks again and updates the decision: it now records today's versions
    client.annotations.update(decision["source"]["annotation_id"], result=result)
    assert runner.invoke(app, ["pull"]).exit_code == 0
    assert runner.invoke(app, ["agree", "--no-plots", "-o", "out"]).exit_code == 0
    assert json.loads(Path("out/agreement.json").read_text())["adjudication"]["stale_reviews"] == []


def test_an_annotator_cannot_decide_in_the_review_project(studio_settings, studio, pool, runner):
    write_tasks(Path("tasks.jsonl"), make_tasks(1, TEXTS[:1]))
    assert runner.invoke(app, ["push", "tasks.jsonl"]).exit_code == 0
    (one, a), (two, b) = [(p["name"], p) for p in pool.values()]
    for person, spans in ((a, []), (b, [span(TEXTS[0], "Moscow", "LOC")])):
        annotate(studio, person["token"], tasks_of(studio_settings, person["name"])[TEXTS[0]], spans, text=TEXTS[0])
    assert runner.invoke(app, ["pull"]).exit_code == 0
    assert runner.invoke(app, ["review"]).exit_code == 0
    [task] = review_tasks(studio_settings).values()
    annotate(studio, a["token"], task.id, [span(TEXTS[0], "Moscow", "LOC")], text=TEXTS[0])
    pulled = runner.invoke(app, ["pull"])
    assert "adjudications 0" in pulled.output
    assert (
        f"made by {one} in the review project; only the maintainer and reviewers (`newsner studio add-reviewer`) "
        f"decide there"
    ) in pulled.output
    assert not Path("annotation/adjudications.jsonl").exists()


def test_a_newcomer_gets_a_fair_share_of_unstarted_work_and_nothing_started_moves(
    studio_settings, studio, annotators, pool, runner
):
    write_tasks(Path("tasks.jsonl"), make_tasks(4, TEXTS))
    assert runner.invoke(app, ["push", "tasks.jsonl"]).exit_code == 0
    (one, a), (two, b) = [(p["name"], p) for p in pool.values()]
    started = {TEXTS[0]: a, TEXTS[1]: b}  # a submitted annotation
    for text, person in started.items():
        annotate(studio, person["token"], tasks_of(studio_settings, person["name"])[text], [], text=text)
    # a draft: annotator 2 began TEXTS[2] without submitting
    draft_task = tasks_of(studio_settings, two)[TEXTS[2]]
    connect(studio_settings).client._client_wrapper.httpx_client.request(
        f"api/tasks/{draft_task}/drafts",
        method="POST",
        json={"result": [], "lead_time": 1.0},
        headers={"Authorization": f"Token {b['token']}"},
    )

    newcomer = list(annotators)[2]  # an account on the server; joins the pool after everything was assigned
    [three], _ = register(studio_settings.root, [newcomer])
    before = task_ids(studio_settings)
    assert three not in before
    pushed = runner.invoke(app, ["push", "tasks.jsonl"])
    assert pushed.exit_code == 0, pushed.output
    assert "unstarted sentences moved to balance the work (2 to " + three in pushed.output
    after = task_ids(studio_settings)
    loads = sorted(len(p) for p in after.values())
    assert loads == [2, 3, 3], after  # 8 assignments over 3 people
    ids = {text: t["data"]["sentence_id"] for text, t in zip(TEXTS, make_tasks(4, TEXTS), strict=True)}
    assert ids[TEXTS[0]] in after[one] and ids[TEXTS[1]] in after[two] and ids[TEXTS[2]] in after[two]
    assert all(len(v) == 1 for project in after.values() for v in project.values())
    assignments = {r["sentence_id"]: r["annotators"] for r in _records(Path("annotation/assignments.jsonl"))}
    assert all(len(names) == 2 and len(set(names)) == 2 for names in assignments.values())
    assert {sid for sid, names in assignments.items() if three in names} == set(after[three])
    again = runner.invoke(app, ["push", "tasks.jsonl"])
    assert "moved" not in again.output and task_ids(studio_settings) == after  # stable


def test_an_intrusion_is_settled_and_the_sentence_returns_to_its_owners_queue(studio_settings, studio, pool, runner):
    write_tasks(Path("tasks.jsonl"), make_tasks(2, TEXTS[:2]))
    assert runner.invoke(app, ["push", "tasks.jsonl"]).exit_code == 0
    (one, a), (two, b) = [(p["name"], p) for p in pool.values()]
    victim_task = tasks_of(studio_settings, one)[TEXTS[0]]
    annotate(studio, b["token"], victim_task, [span(TEXTS[0], "Putin", "PER")], text=TEXTS[0])  # in 1's project
    project = annotator_projects(connect(studio_settings), studio_settings.studio.project)[one]
    annotate(studio, a["token"], tasks_of(studio_settings, one)[TEXTS[1]], [], text=TEXTS[1])  # her other sentence
    assert _next_task(studio, a["token"], project.id) is None  # her queue is empty: the stolen sentence is skipped

    pulled = runner.invoke(app, ["pull"])
    assert pulled.exit_code == 0, pulled.output
    report = json.loads(Path("annotation/pull-report.json").read_text())
    assert report["unreachable"] == {one: [make_tasks(1, TEXTS[:1])[0]["data"]["sentence_id"]]}
    progress = {row.annotator: row for row in annotator_progress(connect(studio_settings), studio_settings)}
    assert (progress[one].tasks, progress[one].done, progress[one].by_others) == (2, 1, 1)  # the stray is not hers
    settled = runner.invoke(app, ["studio", "settle"])
    assert settled.exit_code == 0, settled.output
    assert (
        "settle: 1 stray annotations removed from Label Studio (recorded in settled.jsonl), 0 already gone"
        in settled.output
    )
    [record] = _records(Path("annotation/settled.jsonl"))
    assert record["held"]["author"] == two and record["held"]["project_of"] == one
    assert _next_task(studio, a["token"], project.id) == victim_task  # back in the owner's queue
    assert runner.invoke(app, ["validate", "annotation/settled.jsonl"]).exit_code == 0
    assert (
        "settle: 0 stray annotations removed from Label Studio (recorded in settled.jsonl), 1 already gone"
        in runner.invoke(app, ["studio", "settle"]).output
    )
    assert runner.invoke(app, ["pull"]).exit_code == 0
    assert json.loads(Path("annotation/pull-report.json").read_text())["unreachable"] == {}
    progress = {row.annotator: row for row in annotator_progress(connect(studio_settings), studio_settings)}
    assert (progress[one].done, progress[one].by_others) == (1, 0)


def _next_task(studio, token: str, project_id: int) -> int | None:
    """The task Label All Tasks serves this person next in the project."""
    client = LabelStudio(base_url=studio.url, api_key=token)
    response = client._client_wrapper.httpx_client.request(f"api/projects/{project_id}/next", method="GET")
    return response.json().get("id") if response.status_code == 200 else None


def test_lists_are_read_without_asking_past_the_last_page(studio_settings, studio, pool, runner):
    write_tasks(Path("tasks.jsonl"), make_tasks(2, TEXTS[:2]))
    log = studio.log_path.read_text(errors="replace")
    assert runner.invoke(app, ["push", "tasks.jsonl"]).exit_code == 0
    assert runner.invoke(app, ["pull"]).exit_code == 0
    reviewed = runner.invoke(app, ["review"])
    assert reviewed.exit_code == 0, reviewed.output
    new = studio.log_path.read_text(errors="replace")[len(log) :]
    assert "Invalid page" not in new and " 404 " not in new, new[-2000:]
    connection = connect(studio_settings)
    assert all(
        len(v) == 1
        for v in known_sentence_ids(
            connection,
            annotator_projects(connection, studio_settings.studio.project)[pool[next(iter(pool))]["name"]].id,
        ).values()
    )
