"""Adjudication in the real Label Studio UI: two annotators disagree in their own projects; the maintainer
logs in through the login form, opens the review project, sees both versions as tabs named by pseudonym
(and no e-mail), starts from one, fixes a span by drag and submits; pull, agree and publish give that gold.

Everything a person does is done with the mouse and keyboard in headless Chromium (Debian's chromium,
Playwright from PyPI). Set NEWSNER_SHOTS=folder to keep the screenshots.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.cli import app
from newsner.ids import sentence_id
from newsner.pseudonyms import REVIEWER_PREFIX, load_key, pseudonym
from newsner.studio.accounts import login_details
from newsner.studio.client import connect
from newsner.studio.projects import review_project
from newsner.studio.push import push_tasks
from tests.studio_server import annotate
from tests.test_browser import ARTICLE, spans_of, task, tasks_by_text

pytestmark = [pytest.mark.studio, pytest.mark.browser]

DISPUTED = "Vladimir Putin’s envoy met Kassym-Jomart Tokayev in Almaty on Monday."
AGREED = "Protests spread from Zhanaozen to Almaty."
THIRD = "The CSTO sent troops to Kazakhstan."  # annotated through the API: three splits need three paragraphs


def label(person, project_id: int, task_id: int, wanted: list[tuple[str, str]]) -> None:
    person.open_task(project_id, task_id)
    for needle, name in wanted:
        person.choose_label(name)
        person.drag(needle)
    person.submit()


def test_reviewer_turns_a_disagreement_into_gold_in_the_browser(pair, browser, runner, studio, annotators):
    settings, [(email1, password1, one), (email2, password2, two)] = pair
    push_tasks(connect(settings), settings, [task(DISPUTED, []), task(AGREED, []), task(THIRD, [])])
    for email, name in ((email1, one), (email2, two)):
        annotate(
            studio,
            annotators[email]["token"],
            tasks_by_text(settings, name)[1][THIRD],
            spans_of(THIRD, [("CSTO", "ORG"), ("Kazakhstan", "LOC")]),
            text=THIRD,
        )

    # the two annotators, each in their own project: they disagree on DISPUTED, agree on AGREED
    first = browser.annotator(email1, password1)
    project1, tasks1 = tasks_by_text(settings, one)
    label(first, project1, tasks1[DISPUTED], [("Vladimir Putin", "PER"), ("Kassym-Jomart Tokayev", "PER")])
    label(first, project1, tasks1[AGREED], [("Zhanaozen", "LOC"), ("Almaty", "LOC")])
    second = browser.annotator(email2, password2)
    project2, tasks2 = tasks_by_text(settings, two)
    label(second, project2, tasks2[DISPUTED], [("Vladimir Putin", "PER"), ("Tokayev", "PER"), ("Almaty", "LOC")])
    label(second, project2, tasks2[AGREED], [("Zhanaozen", "LOC"), ("Almaty", "LOC")])

    assert runner.invoke(app, ["pull"]).exit_code == 0
    before = runner.invoke(app, ["agree", "--no-plots", "-o", "before"])
    assert before.exit_code == 0, before.output
    agreement_before = json.loads(Path("before/agreement.json").read_text())
    assert agreement_before["n_annotators"] == 2

    # the review project holds the one disputed sentence
    result = runner.invoke(app, ["review"])
    assert result.exit_code == 0, result.output
    assert "1 sentences need a decision (disagreement 1); 1 new in the review project" in result.output
    again = runner.invoke(app, ["review"])
    assert "0 new in the review project, 0 with new versions, 1 unchanged" in again.output  # idempotent

    # the maintainer: login details from newsner, then the real login form
    login = login_details(settings, "admin@newsner.local", studio)
    assert login.role == "maintainer" and login.projects == [f"{settings.studio.project} / review"]
    reviewer = browser.annotator(login.email, login.password)
    project = review_project(connect(settings), settings.studio.project)
    [first_task] = connect(settings).client.tasks.list(project=project.id, include="id")
    reviewer.open_task(project.id, first_task.id)  # a click in the task list (Label All Tasks hides the tabs)
    reviewer.shot("review-1-opens")
    shown = reviewer.tabs()
    key = load_key(settings.root)
    me = pseudonym(key, login.email, REVIEWER_PREFIX)
    # the reviewer's own draft, each annotator's version by pseudonym (Label Studio shortens the middle), the merge
    assert len(shown) == 4 and shown[-1] == "merge", shown
    assert shown[0].startswith(me[:8]) and shown[0].endswith(me[-6:]), shown
    assert [s[-6:] for s in shown[1:3]] == [n[-6:] for n in sorted([one, two])], shown  # in pseudonym order
    page = reviewer.page.content()
    assert email1 not in page and email2 not in page, "an annotator's e-mail is in the review page"
    assert "@" not in reviewer.page.inner_text("body"), "an e-mail is shown in the review page"
    assert sorted(reviewer.regions()) == ["PER"], "the draft should start from the merge (Vladimir Putin)"

    # start from annotator 1's version, add the span they missed, submit
    reviewer.duplicate_version(one[-6:])
    assert sorted(reviewer.regions()) == ["PER", "PER"]
    reviewer.choose_label("LOC")
    reviewer.drag("Almaty")
    reviewer.shot("review-2-decided")
    stored = reviewer.submit()
    assert stored["parent_prediction"] is not None

    pulled = runner.invoke(app, ["pull"])
    assert pulled.exit_code == 0, pulled.output
    assert "adjudications 1 (new 1)" in pulled.output
    [decision] = [json.loads(line) for line in Path("annotation/adjudications.jsonl").read_text().splitlines()]
    gold = spans_of(DISPUTED, [("Vladimir Putin", "PER"), ("Kassym-Jomart Tokayev", "PER"), ("Almaty", "LOC")])
    assert decision["spans"] == gold
    assert (decision["how"], decision["reviewer"], decision["based_on"]) == ("review", me, one)
    assert sorted(decision["versions"]) == sorted([one, two])
    assert me not in Path("annotation/annotations.jsonl").read_text()

    # agreement: still two annotators, the same pairwise figures; each annotator against the gold
    after = runner.invoke(app, ["agree", "--no-plots", "-o", "after"])
    assert after.exit_code == 0, after.output
    agreement = json.loads(Path("after/agreement.json").read_text())
    assert agreement["n_annotators"] == 2 and agreement["annotators"] == sorted([one, two])
    assert agreement["span_f1"] == agreement_before["span_f1"]
    assert agreement["adjudication"]["sentences"] == {"review": 1, "ground_truth": 0, "majority": 2, "single": 0}
    vs_gold = agreement["adjudication"]["annotators_vs_gold"]
    assert vs_gold[one]["micro"] == {"precision": 1.0, "recall": 0.8571, "f1": 0.9231, "predicted": 6, "gold": 7}
    assert vs_gold[two]["micro"] == {"precision": 0.8571, "recall": 0.8571, "f1": 0.8571, "predicted": 7, "gold": 7}

    # one article, three paragraphs: a seed that puts them in three splits
    from newsner.partition import SPLITS, assign_split

    groups = [f"{ARTICLE}:{i}" for i in range(3)]
    seed = next(f"s{i}" for i in range(1000) if {assign_split(g, f"s{i}", 0.34, 0.33) for g in groups} == set(SPLITS))
    toml = Path("newsner.toml")
    toml.write_text(
        toml.read_text()
        .replace("[split]", f'[split]\nseed = "{seed}"\ntest_fraction = 0.34\nvalidation_fraction = 0.33', 1)
        .replace("test_fraction = 0.2\n", "")
        .replace('seed = "newsner"\n', "")
    )
    Path("corpus").mkdir()
    Path("corpus/sentences.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "id": sentence_id(ARTICLE, len(text), text),
                    "article_id": ARTICLE,
                    "index": i,
                    "text": text,
                    "start": len(text),
                    "end": 2 * len(text),
                    "paragraph": i,
                }
            )
            + "\n"
            for i, text in enumerate([DISPUTED, AGREED, THIRD])
        )
    )
    published = runner.invoke(app, ["publish", "--tasks", "none.jsonl", "-o", "dist/ds"])
    assert published.exit_code == 0, published.output
    import datasets

    rows = {row["text"]: row for split in datasets.load_dataset("dist/ds").values() for row in split}
    assert rows[DISPUTED]["spans"] == gold
    card = Path("dist/ds/README.md").read_text()
    assert "Gold: **1** sentences decided by a reviewer, 0 by a ground-truth annotation, 2 by majority" in card
    assert f"| {one} | 3 | 1.000 | 0.857 | 0.923 |" in card and f"| {two} | 3 | 0.857 | 0.857 | 0.857 |" in card
