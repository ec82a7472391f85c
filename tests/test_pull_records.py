"""`pull` on hand-made Label Studio export JSON: what the server hands back becomes records, held records
and counts, without a server (the same functions run on the real server's exports in test_studio.py)."""

from __future__ import annotations

from newsner.studio.people import People
from newsner.studio.records import PullReport, normalise_export

ANN, OTHER, MAINTAINER = "annotator-aaaaaaaaaaaa", "annotator-bbbbbbbbbbbb", "annotator-cccccccccccc"
PEOPLE = People(
    names={1: ANN, 2: OTHER, 3: MAINTAINER},
    maintainer=3,
    reviewer_names={3: "reviewer-cccccccccccc"},
)
TEXT = "Tokayev met 🇰🇿 envoys in Almaty."


def label(start: int, end: int, text: str, name: str = "LOC") -> dict:
    return {
        "id": f"r{start}",
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text, "labels": [name]},
    }


def task(task_id: int, annotations: list[dict], **extra) -> dict:
    return {
        "id": task_id,
        "data": {"text": TEXT, "sentence_id": f"s{task_id}", "article_id": "a1"},
        "annotations": annotations,
        "predictions": [{"result": [label(0, 7, "Tokayev", "PER")]}],
        **extra,
    }


def annotation(annotation_id: int, user: int, result: list[dict], **extra) -> dict:
    return {"id": annotation_id, "completed_by": user, "result": result, "parent_prediction": 7, **extra}


def test_an_owners_annotation_becomes_one_record_with_its_provenance():
    almaty = TEXT.index("Almaty")
    export = [
        task(
            1,
            [
                annotation(
                    11,
                    1,
                    [label(almaty, almaty + 6, "Almaty"), label(0, 7, "Tokayev", "PER")],
                    lead_time=12.34567,
                    created_at="2026-11-01T10:00:00Z",
                    updated_at="2026-11-01T10:01:00Z",
                )
            ],
        )
    ]
    report = PullReport()
    pulled = normalise_export(export, PEOPLE, ANN, project_id=4, report=report, known_sentences={"s1"})
    assert pulled.held == [] and pulled.decisions == [] and report.problems == []
    assert pulled.records == [
        {
            "sentence_id": "s1",
            "article_id": "a1",
            "annotator": ANN,
            "text": TEXT,
            "spans": [{"start": 0, "end": 7, "label": "PER"}, {"start": almaty, "end": almaty + 6, "label": "LOC"}],
            "ground_truth": False,
            "lead_time": 12.346,
            "created_at": "2026-11-01T10:00:00Z",
            "updated_at": "2026-11-01T10:01:00Z",
            "source": {"project": 4, "task_id": 1, "annotation_id": 11},
        }
    ]
    assert report.tasks == 1


def test_utf16_offsets_are_repaired_and_a_span_off_the_text_is_rejected_and_named():
    almaty = TEXT.index("Almaty")
    # the flag is two code points but four UTF-16 code units: a browser's offsets after it are 2 too high
    utf16 = label(almaty + 2, almaty + 8, "Almaty")
    wrong = label(0, 7, "Nursultan", "PER")
    report = PullReport()
    [record] = normalise_export([task(1, [annotation(11, 1, [utf16, wrong])])], PEOPLE, ANN, 4, report).records
    assert record["spans"] == [{"start": almaty, "end": almaty + 6, "label": "LOC"}]
    assert report.counts["spans_repaired_utf16"] == 1 and report.counts["spans_rejected"] == 1
    assert report.problems == ["task 1: annotation 11: span [0, 7) 'Nursultan' does not match the task text; rejected"]


def test_work_that_cannot_be_credited_is_held_or_counted_never_silently_dropped():
    export = [
        task(1, [annotation(11, 2, [label(0, 7, "Tokayev", "PER")])]),  # someone else, in ANN's project
        task(2, [annotation(21, 1, [], updated_by=2)]),  # ANN's, changed afterwards by someone else
        task(3, [annotation(31, 99, [])]),  # an account the server no longer knows
        task(4, [annotation(41, 1, [], was_cancelled=True)], drafts=[{"id": 5}]),  # skipped, plus a draft
        task(5, [annotation(51, 3, [label(0, 7, "Tokayev", "PER")])]),  # the maintainer, no ground-truth flag
        {"id": 6, "data": {"text": "no sentence id"}, "annotations": []},  # not a newsner task
    ]
    report = PullReport()
    pulled = normalise_export(export, PEOPLE, ANN, 4, report, known_sentences={"s1", "s2", "s3", "s4"})
    assert pulled.records == []
    held = {h["task_id"]: h for h in report.held}
    assert held[1]["reason"] == f"made by {OTHER} in the project of {ANN}"
    assert held[2]["reason"] == f"changed by {OTHER} after its author {ANN} submitted it"
    assert held[5]["reason"].startswith("made by the maintainer's account (reviewer-cccccccccccc) in the project of")
    assert [r["held"]["project_of"] for r in pulled.held] == [ANN, ANN, ANN]
    assert report.counts["annotations_without_known_author"] == 1
    assert report.counts["cancelled"] == 1 and report.counts["drafts"] == 1
    assert report.counts["tasks_without_sentence_id"] == 1
    assert report.counts["orphan_tasks"] == 1  # task 5's sentence is not in the corpus
    assert report.unreachable == {ANN: ["s1", "s5"]}  # labelled by others: ANN's queue skips them
    assert any(p.startswith("task 3: annotation 31 has no known author") for p in report.problems)


def test_the_maintainers_ground_truth_is_a_decision_and_the_latest_of_two_annotations_wins():
    export = [
        task(
            1,
            [
                annotation(11, 1, [label(0, 7, "Tokayev", "PER")], updated_at="2026-11-02T00:00:00Z"),
                annotation(12, 1, [], updated_at="2026-11-01T00:00:00Z"),
            ],
        ),
        task(2, [annotation(21, 3, [label(0, 7, "Tokayev", "PER")], ground_truth=True)]),
    ]
    report = PullReport()
    pulled = normalise_export(export, PEOPLE, ANN, 4, report)
    [record] = pulled.records
    assert record["source"]["annotation_id"] == 11 and record["spans"] == [{"start": 0, "end": 7, "label": "PER"}]
    assert report.counts["same_annotator_duplicates_resolved"] == 1
    [decision] = pulled.decisions
    assert decision["sentence_id"] == "s2" and decision["how"] == "ground_truth"
    assert decision["reviewer"] == "reviewer-cccccccccccc"
    assert pulled.held == []
