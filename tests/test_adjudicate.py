"""Adjudication without a server: which decision wins, what the review project holds, and how pull reads
hand-made Label Studio export JSON (reviewers decide, annotators and reviewers stay apart)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.adjudicate import adjudicate, is_stale, version_digest, versions
from newsner.agreement import agreement_report
from newsner.annotations import Unit
from newsner.cli import app
from newsner.config import load_settings
from newsner.errors import ValidationError
from newsner.review import MERGE, review_predictions, review_task, select_for_review
from newsner.steps import read_units
from newsner.studio.people import People
from newsner.studio.records import PullReport, normalise_export, normalise_review_export
from tests.studio_server import label_results

TEXT = "Tokayev met Putin in Moscow."
TOK, PUT, MOS = (
    {"start": 0, "end": 7, "label": "PER"},
    {"start": 12, "end": 17, "label": "PER"},
    {"start": 21, "end": 27, "label": "LOC"},
)


def record(annotator: str, spans: list[dict], sid: str = "s1", **extra) -> dict:
    return {"sentence_id": sid, "article_id": "a" * 16, "annotator": annotator, "text": TEXT, "spans": spans, **extra}


def unit(*records: dict, adjudication: dict | None = None) -> Unit:
    return Unit("s1", "a" * 16, TEXT, {r["annotator"]: r for r in records}, adjudication=adjudication)


def decision(spans: list[dict], how: str = "review", seen: dict | None = None) -> dict:
    return {
        "sentence_id": "s1",
        "article_id": "a" * 16,
        "text": TEXT,
        "spans": spans,
        "how": how,
        "reviewer": "reviewer-000000000001",
        "based_on": None,
        "versions": seen or {},
    }


A, B, C = "annotator-aaaaaaaaaaaa", "annotator-bbbbbbbbbbbb", "annotator-cccccccccccc"


def test_a_review_decision_beats_ground_truth_which_beats_the_majority():
    majority = unit(record(A, [TOK, PUT]), record(B, [TOK]), record(C, [TOK, PUT, MOS]))
    assert adjudicate(majority) == ([TOK, PUT], "majority", None)
    flagged = unit(record(A, [TOK, PUT]), record(B, [MOS], ground_truth=True, updated_at="2026"), record(C, [TOK]))
    assert adjudicate(flagged) == ([MOS], "ground_truth", None)
    reviewed = unit(record(A, [TOK, PUT]), record(B, [MOS], ground_truth=True), adjudication=decision([PUT]))
    assert adjudicate(reviewed) == ([PUT], "review", None)
    assert adjudicate(unit(record(A, [MOS]))) == ([MOS], "single", None)


def test_a_review_decision_is_stale_when_a_version_changed_since():
    current = unit(record(A, [TOK]), record(B, [TOK, PUT]))
    seen = versions(current)
    assert not is_stale(unit(record(A, [TOK]), record(B, [TOK, PUT]), adjudication=decision([TOK], seen=seen)))
    assert is_stale(unit(record(A, [TOK, MOS]), record(B, [TOK, PUT]), adjudication=decision([TOK], seen=seen)))
    assert not is_stale(unit(record(A, [TOK, MOS]), adjudication=decision([TOK], how="ground_truth")))
    assert version_digest(record(A, [PUT, TOK])) == version_digest(record(B, [TOK, PUT]))  # order does not matter


def test_review_selects_disagreements_worst_first_and_audits_the_same_sentences_each_time():
    units = [
        Unit(f"s{i}", "a" * 16, TEXT, {A: record(A, spans_a, f"s{i}"), B: record(B, spans_b, f"s{i}")})
        for i, (spans_a, spans_b) in enumerate([([TOK], [TOK]), ([TOK, PUT], [TOK]), ([TOK], [MOS]), ([PUT], [PUT])])
    ]
    units.append(Unit("s9", "a" * 16, TEXT, {A: record(A, [TOK], "s9")}))  # one annotator: nothing to decide
    chosen = select_for_review(units)
    assert [(c.unit.sentence_id, c.reason, c.agreement) for c in chosen] == [
        ("s2", "disagreement", 0.0),
        ("s1", "disagreement", 0.6667),
    ]
    assert [c.unit.sentence_id for c in select_for_review(units, select="all")] == ["s2", "s1", "s0", "s3"]
    audited = [c.unit.sentence_id for c in select_for_review(units, audit_fraction=1.0)]
    assert audited == ["s2", "s1", "s0", "s3"]
    assert select_for_review(units, audit_fraction=0.5, seed="x") == select_for_review(
        units, audit_fraction=0.5, seed="x"
    )


def test_a_review_task_shows_each_version_by_pseudonym_and_a_merge_to_start_from():
    chosen = select_for_review([unit(record(A, [TOK, PUT]), record(B, [TOK]), record(C, [TOK, MOS]))])[0]
    task = review_task(chosen, "2026-11-30T00:00:00.000000Z")
    assert [p["model_version"] for p in task["predictions"]] == [MERGE, C, B, A]  # shown: A, B, C, merge
    merge = task["predictions"][0]
    assert [r["value"]["text"] for r in merge["result"]] == ["Tokayev"]
    assert merge["score"] == chosen.agreement
    by_name = {p["model_version"]: p for p in task["predictions"]}
    assert [r["value"]["text"] for r in by_name[A]["result"]] == ["Tokayev", "Putin"]
    assert by_name[A]["score"] == 0.5833  # F1 2/3 with B, 2/4 with C: mean 0.5833
    assert task["data"]["versions"] == versions(chosen.unit) and task["data"]["reason"] == "disagreement"
    assert "@" not in json.dumps(task)
    assert review_predictions(chosen.unit) == task["predictions"]


# hand-made Label Studio 1.23.2 export JSON, shaped as the snapshot export writes it
MAINTAINER, REVIEWER, ANN_A, ANN_B = 1, 5, 2, 3
PEOPLE = People(
    names={1: "annotator-111111111111", 2: A, 3: B, 5: "annotator-555555555555"},
    maintainer=1,
    reviewer_names={
        1: "reviewer-111111111111",
        2: "reviewer-aaaaaaaaaaaa",
        3: "reviewer-bbbbbbbbbbbb",
        5: "reviewer-555555555555",
    },
    reviewers={"reviewer-555555555555"},
)


def ls_annotation(
    aid: int, user: int, spans: list[dict], *, updated: str = "2026-11-30T10:00:00.000000Z", **extra
) -> dict:
    result = label_results(TEXT, spans)
    return {
        "id": aid,
        "completed_by": {"id": user, "email": f"user{user}@example.org"},
        "updated_by": user,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": updated,
        "updated_at": updated,
        "lead_time": 2.0,
        "parent_prediction": None,
        "parent_annotation": None,
        **extra,
    }


def review_export(*annotations: dict, seen: dict | None = None, at: str = "2026-11-30T09:00:00.000000Z") -> list:
    return [
        {
            "id": 40,
            "data": {
                "text": TEXT,
                "sentence_id": "s1",
                "article_id": "a" * 16,
                "versions": seen or {A: "x"},
                "versions_at": at,
                "agreement": 0.5,
                "reason": "disagreement",
            },
            "predictions": [
                {"id": 70, "model_version": MERGE},
                {"id": 71, "model_version": A},
                {"id": 72, "model_version": B},
            ],
            "annotations": list(annotations),
            "drafts": [],
        }
    ]


def test_pull_reads_review_decisions_and_holds_an_annotators_attempt():
    report = PullReport()
    pulled = normalise_review_export(
        review_export(
            ls_annotation(100, REVIEWER, [TOK, PUT], parent_prediction=71),
            ls_annotation(101, ANN_A, [MOS], updated="2026-11-30T11:00:00.000000Z"),
        ),
        PEOPLE,
        9,
        report,
        {},
    )
    [made] = pulled.decisions
    assert made == {
        "sentence_id": "s1",
        "article_id": "a" * 16,
        "text": TEXT,
        "spans": [TOK, PUT],
        "how": "review",
        "reviewer": "reviewer-555555555555",
        "based_on": A,
        "versions": {A: "x"},
        "decided_at": "2026-11-30T10:00:00.000000Z",
        "source": {"project": 9, "task_id": 40, "annotation_id": 100},
    }
    assert [h["reason"] for h in report.held] == [
        f"made by {A} in the review project; only the maintainer and reviewers (`newsner studio add-reviewer`) "
        f"decide there"
    ]


def test_a_decision_saved_before_the_versions_changed_keeps_what_the_reviewer_saw():
    old = {"sentence_id": "s1", "versions": {A: "old"}, "source": {"annotation_id": 100}}
    tasks = review_export(
        ls_annotation(100, MAINTAINER, [TOK], updated="2026-11-30T08:00:00.000000Z"),
        seen={A: "new"},
        at="2026-11-30T09:00:00.000000Z",
    )
    [made] = normalise_review_export(tasks, PEOPLE, 9, PullReport(), {"s1": old}).decisions
    assert made["versions"] == {A: "old"} and made["reviewer"] == "reviewer-111111111111" and made["based_on"] is None
    [unknown] = normalise_review_export(tasks, PEOPLE, 9, PullReport(), {}).decisions
    assert unknown["versions"] == {}  # nothing recorded: reported as stale, never passed off as current


def test_the_maintainers_ground_truth_in_an_annotator_project_is_a_decision_never_an_annotation():
    tasks = [
        {
            "id": 7,
            "data": {"text": TEXT, "sentence_id": "s1", "article_id": "a" * 16},
            "predictions": [],
            "drafts": [],
            "annotations": [
                ls_annotation(1, ANN_A, [TOK]),
                ls_annotation(2, MAINTAINER, [TOK, PUT], ground_truth=True),
            ],
        }
    ]
    report = PullReport()
    pulled = normalise_export(tasks, PEOPLE, A, 4, report)
    assert [r["annotator"] for r in pulled.records] == [A]
    assert [(d["how"], d["reviewer"], d["spans"]) for d in pulled.decisions] == [
        ("ground_truth", "reviewer-111111111111", [TOK, PUT])
    ]
    assert report.held == [] and report.unreachable == {}


def test_read_units_attaches_decisions_and_reports_orphans(project: Path):
    Path("annotation").mkdir()
    Path("annotation/annotations.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in (record(A, [TOK]), record(B, [TOK, PUT])))
    )
    Path("annotation/adjudications.jsonl").write_text(
        json.dumps(decision([TOK, PUT])) + "\n" + json.dumps({**decision([MOS]), "sentence_id": "s2"}) + "\n"
    )
    settings = load_settings()
    units = read_units(Path("annotation/annotations.jsonl"), settings)
    assert units[0].adjudication["spans"] == [TOK, PUT] and units.orphan_adjudications == ["s2"]
    report = agreement_report(units, settings)
    assert report["n_annotators"] == 2 and report["adjudication"]["orphan_adjudications"] == ["s2"]
    assert report["adjudication"]["sentences"]["review"] == 1
    assert report["adjudication"]["annotators_vs_gold"][A]["micro"]["recall"] == 0.5
    Path("annotation/adjudications.jsonl").write_text(json.dumps({**decision([TOK]), "text": TEXT + " "}) + "\n")
    with pytest.raises(ValidationError, match="the adjudication was made on another text than the annotations"):
        read_units(Path("annotation/annotations.jsonl"), settings)


def test_validate_knows_adjudications_by_file_name_and_refuses_an_email_as_reviewer(project: Path, runner):
    Path("annotation").mkdir()
    path = Path("annotation/adjudications.jsonl")
    path.write_text(json.dumps(decision([TOK])) + "\n" + json.dumps({**decision([TOK]), "reviewer": "x@y.org"}) + "\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "annotation/adjudications.jsonl:2: [$.reviewer]" in result.output
    assert "annotation/adjudications.jsonl:2: [$] duplicate 's1', first on line 1" in result.output


@pytest.mark.parametrize(
    "text, start, end, shown, expected",
    [
        ("Angela Merkel visited Paris.", 0, 13, "Angela Merkel", (0, 13, "ok")),
        ("😀 Angela Merkel visited Paris.", 2, 15, "Angela Merkel", (2, 15, "ok")),  # code points (Label Studio 1.23)
        ("😀 Angela Merkel visited Paris.", 3, 16, "Angela Merkel", (2, 15, "utf16")),  # UTF-16 units: repaired
        ("Angela  Merkel visited Paris.", 0, 14, "Angela Merkel", (0, 14, "ok")),  # display text folds spaces
        ("Merkel\r\nvisited Paris.", 0, 15, "Merkel\\n\\nvisited", (0, 15, "ok")),  # a literal \n per line break
        ("Angela Merkel visited Paris.", 0, 13, "Paris", None),  # neither reading matches: rejected
        ("Angela Merkel visited Paris.", 20, 40, None, None),  # outside the text
    ],
)
def test_check_span_trusts_the_text_not_the_offsets_or_the_display_text(text, start, end, shown, expected):
    from newsner.studio.records import check_span

    assert check_span(text, start, end, shown) == expected


def test_the_reviewer_note_is_styled_like_the_guidelines():
    """Label Studio's stylesheet strips list numbers; only the guidelines' scoped stylesheet restores them,
    so the reviewer's numbered steps must sit inside its wrapper (seen in the labeling view)."""
    import re

    from newsner.config import load_settings
    from newsner.studio.instructions import INSTRUCTION_CLASS
    from newsner.studio.review import review_options
    from tests.conftest import ROOT

    html = review_options(load_settings(ROOT / "newsner.toml"), ROOT / "annotation" / "guidelines.md")[
        "expert_instruction"
    ]
    assert html.count("<style>") == 1 and html.startswith("<style>")
    blocks = re.findall(rf'<div class="{INSTRUCTION_CLASS}">(.*?)</div>', html, re.DOTALL)
    assert len(blocks) == 2 and "<ol>" in blocks[0] and "Duplicate Annotation" in blocks[0]
    assert "Annotation guidelines" in blocks[1]
