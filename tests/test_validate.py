from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from newsner.cli import app
from newsner.config import load_settings
from newsner.validate import validate_file
from tests.conftest import ROOT

EXAMPLES = ROOT / "schemas" / "examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def write(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


@pytest.mark.parametrize(
    "name, filename, mutate, problem",
    [
        ("sentence", "sentences.jsonl", lambda r: r.pop("article_id"), "[$] 'article_id' is required but missing"),
        ("sentence", "sentences.jsonl", lambda r: r.update(end=3), "[$.text] length 28 differs from end - start = 3"),
        ("sentence", "sentences.jsonl", lambda r: r.update(index=-1), "[$.index] -1 is less than the minimum of 0"),
        (
            "task",
            "tasks.jsonl",
            lambda r: r["predictions"][0]["result"][0]["value"].update(text="Tokay"),
            "[$.predictions[0].result[0].value.text] 'Tokay' differs from text[0:7] = 'Tokayev'",
        ),
        (
            "task",
            "tasks.jsonl",
            lambda r: r["predictions"][0]["result"][1]["value"].update(labels=["CITY"]),
            "[$.predictions[0].result[1]] label 'CITY' is not in the label set ['LOC', 'MISC', 'ORG', 'PER']",
        ),
        (
            "annotation",
            "annotations.jsonl",
            lambda r: r["spans"][0].update(start=9, end=9),
            "[$.spans[0]] start 9 is not before end 9",
        ),
        (
            "annotation",
            "annotations.jsonl",
            lambda r: r["spans"][0].update(end=99),
            "[$.spans[0]] span [0, 99) lies outside the text (length 28)",
        ),
        (
            "annotation",
            "annotations.jsonl",
            lambda r: r.update(annotator="jane@example.org"),
            "[$.annotator] looks like an e-mail address; use a pseudonym",
        ),
        (
            "article",
            "articles.jsonl",
            lambda r: r.update(text=r["text"] + "!"),
            "[$.id] {id} is not the content hash of the text (expected {expected})",
        ),
    ],
)
def test_common_errors_verbatim(tmp_path: Path, name, filename, mutate, problem):
    record = example(name)
    mutate(record)
    path = write(tmp_path / filename, [example(name), record])
    _, problems = validate_file(path, settings=load_settings(ROOT / "newsner.toml"))
    if "{id}" in problem:
        from newsner.ids import content_id

        problem = problem.format(id=record["id"], expected=content_id(record["text"]))
    assert problems[0] == f"{path}:2: {problem}"


def test_duplicate_ids(tmp_path: Path):
    path = write(tmp_path / "sentences.jsonl", [example("sentence"), example("sentence")])
    _, problems = validate_file(path)
    assert problems == [f"{path}:2: [$] duplicate '{example('sentence')['id']}', first on line 1"]


def test_duplicate_pairs_are_listed_in_line_order_among_other_problems(tmp_path: Path):
    a = example("annotation")
    other = {**a, "annotator": "annotator-2"}
    broken = {**other, "spans": [{**a["spans"][0], "end": 999}]}
    path = write(tmp_path / "annotations.jsonl", [a, other, broken, a, other])
    _, problems = validate_file(path)
    key = (a["sentence_id"], a["annotator"])
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:3", f"{path}:3", f"{path}:4", f"{path}:5"]
    assert problems[2] == f"{path}:4: [$] duplicate {key!r}, first on line 1"
    assert problems[3].endswith(f"duplicate {(a['sentence_id'], 'annotator-2')!r}, first on line 2")


def test_bad_json_line(tmp_path: Path):
    path = tmp_path / "sentences.jsonl"
    path.write_text(json.dumps(example("sentence")) + "\n{oops\n")
    _, problems = validate_file(path)
    assert problems == [f"{path}:2: not valid JSON (Expecting property name enclosed in double quotes at column 2)"]


def test_committed_records_validate(runner, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "all valid" in result.output


def test_broken_copy_fails_with_file_and_line(tmp_path: Path, runner, monkeypatch):
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    shutil.copy(ROOT / "newsner.toml", tmp_path)
    lines = (tmp_path / "corpus" / "sentences.jsonl").read_text().splitlines()
    broken = json.loads(lines[4])
    broken["text"] = broken["text"].upper()
    lines[4] = json.dumps(broken)
    (tmp_path / "corpus" / "sentences.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 1
    assert f"{tmp_path}/corpus/sentences.jsonl:5: [$.id] {broken['id']} is not the content hash" in result.output
    assert "Error: 1 problem(s) in 2 file(s)" in result.output


def test_unknown_file_name_needs_schema(tmp_path: Path, runner):
    path = write(tmp_path / "mine.jsonl", [example("sentence")])
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "cannot tell the record type from the file name" in result.output
    result = runner.invoke(app, ["validate", str(path), "--schema", "sentence", "--config", str(ROOT / "newsner.toml")])
    assert result.exit_code == 0, result.output


def test_a_validation_error_raised_on_a_worker_reaches_the_caller_whole():
    import pickle

    from newsner.errors import ValidationError

    error = pickle.loads(pickle.dumps(ValidationError("task for sentence x: bad", ["[$.id] bad"])))
    assert isinstance(error, ValidationError) and str(error) == "task for sentence x: bad"
    assert error.problems == ["[$.id] bad"]
