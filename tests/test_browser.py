"""Two annotators in the real Label Studio UI (headless Chromium), then `newsner pull` and agreement.

What an annotator does is done with the mouse and keyboard: log in through the login form, open a task
from the data manager, click labels or press their hotkeys, drag over the words, relabel and delete
pre-labels, press "+", Submit and Update. Nothing is posted through the API on their behalf.
Set NEWSNER_SHOTS=folder to keep the screenshots.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.agreement import agreement_report
from newsner.annotations import group_units, read_annotations
from newsner.ids import sentence_id
from newsner.pseudonyms import load_key, pseudonym
from newsner.studio.client import connect
from newsner.studio.projects import annotator_projects
from newsner.studio.pull import pull_annotations
from newsner.studio.push import push_tasks

pytestmark = [pytest.mark.studio, pytest.mark.browser]
ARTICLE = "b" * 16


def task(text: str, predictions: list[tuple[str, str]]) -> dict:
    """A Label Studio task whose pre-labels mark each (needle, label)."""
    result = []
    for i, (needle, label) in enumerate(predictions):
        start = text.index(needle)
        result.append(
            {
                "id": f"p{i}",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "score": 0.6,
                "value": {"start": start, "end": start + len(needle), "text": needle, "labels": [label]},
            }
        )
    return {
        "data": {"text": text, "sentence_id": sentence_id(ARTICLE, len(text), text), "article_id": ARTICLE},
        "predictions": [{"model_version": "browser-test-1", "score": 0.6, "result": result}],
    }


def spans_of(text: str, wanted: list[tuple[str, str]]) -> list[dict]:
    spans = [{"start": text.index(n), "end": text.index(n) + len(n), "label": label} for n, label in wanted]
    return sorted(spans, key=lambda s: (s["start"], s["end"], s["label"]))


def tasks_by_text(settings, annotator: str) -> tuple[int, dict[str, int]]:
    connection = connect(settings)
    project = annotator_projects(connection, settings.studio.project)[annotator]
    tasks = connection.client.tasks.list(project=project.id, include="id,data")
    return project.id, {t.data["text"]: t.id for t in tasks}


S1 = "Vladimir Putin’s envoy met Kassym-Jomart Tokayev in Almaty."
S2 = "😀 Protests spread from Zhanaozen to Nur-Sultan, the CSTO said."


def test_two_annotators_label_independently_and_pull_credits_each(pair, browser):
    settings, [(email1, password1, one), (email2, password2, two)] = pair
    report = push_tasks(
        connect(settings),
        settings,
        [task(S1, [("Vladimir Putin", "PER"), ("Kassym-Jomart Tokayev", "ORG")]), task(S2, [("Zhanaozen", "LOC")])],
    )
    assert report.new == 4 and sorted(report.projects) == sorted([one, two])

    # annotator 1, own project: fix the wrong pre-label, add a span by hotkey + drag
    first = browser.annotator(email1, password1)
    project1, tasks1 = tasks_by_text(settings, one)
    first.open_task(project1, tasks1[S1])
    assert sorted(first.regions()) == ["ORG", "PER"], "the pre-labels are not shown"
    first.shot("1-annotator1-opens-S1")
    first.relabel("Kassym-Jomart Tokayev", "PER")
    first.choose_label("LOC", hotkey="3")
    first.drag("Almaty")
    first.shot("2-annotator1-before-submit")
    first.submit()
    first.open_task(project1, tasks1[S2])
    first.choose_label("LOC", hotkey="3")
    first.drag("Nur-Sultan")
    first.choose_label("ORG")
    first.drag("CSTO")
    first.submit()

    # annotator 2, own project: sees the pre-labels only, never annotator 1's work or e-mail
    second = browser.annotator(email2, password2)
    project2, tasks2 = tasks_by_text(settings, two)
    assert project2 != project1
    second.open_task(project2, tasks2[S1])
    second.shot("3-annotator2-opens-S1")
    assert sorted(second.regions()) == ["ORG", "PER"], "annotator 2 sees more than the pre-labels"
    page = second.page.content()
    assert email1 not in page and email1.split("@")[0] not in page, "annotator 1's identity is visible"
    second.delete_region("Kassym-Jomart Tokayev")
    second.choose_label("PER", hotkey="1")
    second.drag("Kassym-Jomart Tokayev")
    second.choose_label("LOC")
    second.drag("Almaty")
    second.submit()
    # "+" starts an empty annotation: annotator 2 labels only the CSTO there
    second.open_task(project2, tasks2[S2])
    second.new_annotation()
    assert second.regions() == []
    second.choose_label("ORG", hotkey="2")
    second.drag("CSTO")
    second.shot("4-annotator2-plus-annotation")
    second.submit()

    path, pulled = pull_annotations(connect(settings), settings, Path("annotation"))
    key = load_key(settings.root)
    assert (one, two) == (pseudonym(key, email1), pseudonym(key, email2))
    records = {(r["text"], r["annotator"]): r for r in map(json.loads, path.read_text().splitlines())}
    assert set(records) == {(S1, one), (S1, two), (S2, one), (S2, two)}
    full_s1 = spans_of(S1, [("Vladimir Putin", "PER"), ("Kassym-Jomart Tokayev", "PER"), ("Almaty", "LOC")])
    assert records[(S1, one)]["spans"] == full_s1
    assert records[(S1, two)]["spans"] == full_s1
    assert records[(S2, one)]["spans"] == spans_of(S2, [("Zhanaozen", "LOC"), ("Nur-Sultan", "LOC"), ("CSTO", "ORG")])
    assert records[(S2, two)]["spans"] == spans_of(S2, [("CSTO", "ORG")])
    assert records[(S2, one)]["spans"][0]["start"] == S2.index("Zhanaozen")  # code points, emoji before it
    assert pulled.held == []
    assert [(w["sentence_id"], w["annotator"]) for w in pulled.without_prelabels] == [
        (records[(S2, two)]["sentence_id"], two)
    ]
    assert pulled.rounds["new"] == 4
    assert records[(S1, one)]["source"]["project"] == project1 and records[(S1, two)]["source"]["project"] == project2


S3 = "Blinken spoke to Tokayev by phone on Friday."


def test_an_edit_of_someone_elses_annotation_is_held_and_left_out_of_agreement(pair, browser):
    settings, [(email1, password1, one), (email2, password2, two)] = pair
    push_tasks(connect(settings), settings, [task(S3, [("Blinken", "PER"), ("Tokayev", "PER")])])
    project1, tasks1 = tasks_by_text(settings, one)
    project2, tasks2 = tasks_by_text(settings, two)

    first = browser.annotator(email1, password1)
    first.open_task(project1, tasks1[S3])
    first.submit()  # accepts the pre-labels
    second = browser.annotator(email2, password2)
    second.open_task(project2, tasks2[S3])
    second.submit()
    _, before = pull_annotations(connect(settings), settings, Path("annotation"))
    assert before.held == [] and before.rounds["new"] == 2
    units = group_units(read_annotations("annotation/annotations.jsonl", settings))
    assert agreement_report(units, settings)["span_f1"]["exact"]["mean"] == 1.0

    # annotator 2 opens annotator 1's project (Community Edition lets them), removes a span, presses Update
    second.open_task(project1, tasks1[S3])
    second.shot("5-annotator2-in-annotator1-project")
    second.delete_region("Tokayev")
    status, _ = second.update()
    assert status == 200

    _, after = pull_annotations(connect(settings), settings, Path("annotation"))
    assert [(h["annotator"], h["reason"]) for h in after.held] == [
        (two, f"changed by {two} after its author {one} submitted it")
    ]
    assert after.rounds["kept"] == 1 and after.rounds["unchanged"] == 1
    held = [json.loads(line) for line in Path("annotation/held.jsonl").read_text().splitlines()]
    assert [(h["annotator"], h["held"]["author"], len(h["spans"])) for h in held] == [(two, one, 1)]
    records = read_annotations("annotation/annotations.jsonl", settings)
    mine = [r for r in records if r["annotator"] == one]
    assert [len(r["spans"]) for r in mine] == [2], "annotator 1 was credited with annotator 2's edit"
    assert agreement_report(group_units(records), settings)["span_f1"]["exact"]["mean"] == 1.0


def test_instructions_show_numbered_rules_bullets_borders_and_a_readable_heading(pair, browser):
    from tests.conftest import ROOT

    settings, [(email1, password1, one), _] = pair
    push_tasks(connect(settings), settings, [task(S3, [])], guidelines=ROOT / "annotation" / "guidelines.md")
    project1, _ = tasks_by_text(settings, one)
    first = browser.annotator(email1, password1)
    first.page.goto(f"{first.base}/projects/{project1}/data?labeling=1")  # Label All Tasks opens the instructions
    first.page.wait_for_selector(".newsner-guidelines ol li", timeout=30_000)
    first.shot("6-instructions")
    style = first.page.evaluate("""() => {
      const css = (sel, prop) => getComputedStyle(document.querySelector('.newsner-guidelines ' + sel))[prop];
      const h1 = document.querySelector('.newsner-guidelines h1');
      return {ol: css('ol', 'listStyleType'), ul: css('ul', 'listStyleType'), td: css('td', 'borderTopWidth'),
              h1: parseFloat(getComputedStyle(h1).lineHeight) / parseFloat(getComputedStyle(h1).fontSize)};
    }""")
    assert (style["ol"], style["ul"], style["td"]) == ("decimal", "disc", "1px")
    assert style["h1"] >= 1.1, "the heading's lines overlap"
