from __future__ import annotations

import json
import shutil
from pathlib import Path

from newsner.cli import app
from tests.conftest import ROOT


def project(root: Path) -> Path:
    """A project with this repository's raw articles, annotations and settings (nothing built yet)."""
    shutil.copytree(ROOT / "corpus" / "raw", root / "corpus" / "raw")
    (root / "annotation").mkdir()
    for file in ("annotations.jsonl", "pull-report.json"):
        shutil.copy(ROOT / "annotation" / file, root / "annotation" / file)
    shutil.copy(ROOT / "newsner.toml", root / "newsner.toml")
    return root


def test_run_builds_a_loadable_dataset(tmp_path: Path, runner, monkeypatch):
    shutil.copytree(ROOT / "corpus" / "raw", tmp_path / "corpus" / "raw")
    shutil.copy(ROOT / "newsner.toml", tmp_path / "newsner.toml")
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["run"])
    assert first.exit_code == 0, first.output
    assert "no annotation/annotations.jsonl yet" in first.output
    # two annotators: one accepts the pre-labels, the other drops the last span of every sentence
    records = []
    for line in Path("annotation/tasks.jsonl").read_text().splitlines():
        task = json.loads(line)
        spans = [
            {"start": r["value"]["start"], "end": r["value"]["end"], "label": r["value"]["labels"][0]}
            for r in task["predictions"][0]["result"]
        ]
        for who, kept in (("annotator-a", spans), ("annotator-b", spans[:-1])):
            records.append(
                {
                    "sentence_id": task["data"]["sentence_id"],
                    "article_id": task["data"]["article_id"],
                    "annotator": who,
                    "text": task["data"]["text"],
                    "spans": kept,
                }
            )
    Path("annotation/annotations.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    second = runner.invoke(app, ["run"])
    assert second.exit_code == 0, second.output
    from datasets import load_dataset

    ds = load_dataset(str(tmp_path / "dist" / "kz-news-ner"))
    assert [len(ds[split]) for split in ("train", "validation", "test")] == [17, 4, 13]
    assert ds["train"].features["ner_tags"].feature.names[:3] == ["O", "B-PER", "I-PER"]
    assert json.loads(Path("reports/agreement.json").read_text())["n_units"] == 34
    assert "Warning**: split by paragraph" in (tmp_path / "dist" / "kz-news-ner" / "README.md").read_text()


def test_run_and_the_single_commands_write_the_same_bytes(tmp_path: Path, runner, monkeypatch):
    chained, single = project(tmp_path / "run"), project(tmp_path / "single")
    monkeypatch.chdir(chained)
    assert runner.invoke(app, ["run"]).exit_code == 0
    monkeypatch.chdir(single)
    for command in (
        ["ingest", "corpus/raw", "-o", "corpus/articles.jsonl"],
        ["split", "corpus/articles.jsonl", "-o", "corpus/sentences.jsonl"],
        ["prelabel", "corpus/sentences.jsonl", "-o", "annotation/tasks.jsonl"],
        ["agree", "annotation/annotations.jsonl", "-o", "reports", "--predictions", "annotation/tasks.jsonl"],
        ["publish", "annotation/annotations.jsonl", "-o", "dist/kz-news-ner"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
    files = sorted(p.relative_to(chained) for p in chained.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(single) for p in single.rglob("*") if p.is_file())
    assert len(files) > 15
    assert [f for f in files if (chained / f).read_bytes() != (single / f).read_bytes()] == []


def test_every_step_started_from_another_folder_uses_the_project_paths_that_run_uses(
    tmp_path: Path, runner, monkeypatch
):
    """`--config other/newsner.toml <step>` with no paths reads and writes where `run` does (the folder of the
    settings file), not under the working folder: the same files, byte for byte."""

    chained, steps = project(tmp_path / "run"), project(tmp_path / "steps")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert runner.invoke(app, ["run", "--config", "../run/newsner.toml"]).exit_code == 0
    config = ["--config", "../steps/newsner.toml"]
    for command in (
        ["ingest"],
        ["split"],
        ["prelabel"],
        ["agree", "--predictions", "../steps/annotation/tasks.jsonl"],
        ["publish"],
    ):
        result = runner.invoke(app, [*command, *config])
        assert result.exit_code == 0, (command, result.output)
    assert list(elsewhere.iterdir()) == []  # nothing written under the working folder
    files = sorted(p.relative_to(chained) for p in chained.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(steps) for p in steps.rglob("*") if p.is_file())
    assert Path("dist/kz-news-ner/README.md") in files
    assert [f for f in files if (chained / f).read_bytes() != (steps / f).read_bytes()] == []
