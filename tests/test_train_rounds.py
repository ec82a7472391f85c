"""A first small round, as an ML engineer runs it: `newsner train` with its defaults on this repository's own
annotations, model selection on validation only, and the saved pipeline used by spaCy's own CLI in a fresh
process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsner.cli import app
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(project: Path) -> Path:
    for folder in ("corpus", "annotation"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("exports"))
    return project


def test_the_defaults_learn_on_the_committed_first_round(repo: Path, runner):
    import spacy

    started = time.monotonic()
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 60
    metrics = json.loads((repo / "models/ner/metrics.json").read_text())
    assert metrics["validation"]["f1"] > 0 and metrics["best_step"] > 0, "the saved model saw no update"
    assert metrics["eval_frequency"] < metrics["steps"] // 4, "too few evaluations for a small round"
    assert f"eval_frequency = {metrics['eval_frequency']}\n" in (repo / "models/ner/config.cfg").read_text()
    nlp = spacy.load(repo / "models/ner")
    texts = [json.loads(line)["text"] for line in (repo / "corpus/sentences.jsonl").read_text().splitlines()]
    assert sum(len(doc.ents) for doc in nlp.pipe(texts)) > 10
    tasks = runner.invoke(app, ["prelabel", "-o", "round2.jsonl", "--model", "models/ner"])
    assert tasks.exit_code == 0, tasks.output
    first = json.loads(Path("round2.jsonl").read_text().splitlines()[0])
    assert first["predictions"][0]["model_version"].startswith(f"{metrics['model']}")
    assert metrics["model"].startswith("en_kz_news_ner-0.1.0+")


def test_the_model_is_chosen_on_validation_never_on_test(repo: Path):
    """The test split's gold is made wrong on purpose (every entity MISC): had the test split chosen the
    model, the scores seen during training would be test scores, and the saved model's validation score
    would not be the best one seen."""
    from newsner.annotations import group_units, read_annotations
    from newsner.config import load_settings
    from newsner.io import read_records
    from newsner.rows import assign_splits
    from newsner.train import TrainOptions, train_model

    settings = load_settings()
    units = group_units(read_annotations(repo / "annotation/annotations.jsonl", settings))
    sentences = read_records(repo / "corpus/sentences.jsonl")
    split_of = assign_splits(units, settings, sentences)
    for unit in units:
        if split_of[unit.sentence_id] == "test":
            for record in unit.annotations.values():
                record["spans"] = [{**span, "label": "MISC"} for span in record["spans"]]
    seen: list[dict] = []
    metrics = train_model(
        units,
        settings,
        repo / "m",
        sentences=sentences,
        on_progress=seen.append,
        options=TrainOptions(max_steps=60, max_epochs=0, patience=0),
    ).metrics
    assert metrics["validation"]["f1"] == round(max(p["f1"] for p in seen), 4)
    assert metrics["test"]["f1"] < metrics["validation"]["f1"]


def test_spacy_train_and_evaluate_use_the_saved_config_and_the_export_in_a_fresh_process(repo: Path, runner):
    assert runner.invoke(app, ["train", "--max-steps", "20"]).exit_code == 0
    exported = runner.invoke(app, ["export", "spacy", "-o", "exp"])
    assert exported.exit_code == 0 and "train 17 / validation 4 / test 13 sentences" in exported.output
    spacy_cli = [sys.executable, "-m", "spacy"]
    trained = subprocess.run(
        [
            *spacy_cli,
            "train",
            "models/ner/config.cfg",
            "--paths.train",
            "exp/train.spacy",
            "--paths.dev",
            "exp/validation.spacy",
            "--training.max_steps",
            "10",
            "-o",
            "again",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert (repo / "again/model-best/meta.json").is_file()
    evaluated = subprocess.run(
        [*spacy_cli, "evaluate", "models/ner", "exp/test.spacy", "--output", "scores.json"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    scores = json.loads((repo / "scores.json").read_text())
    metrics = json.loads((repo / "models/ner/metrics.json").read_text())
    assert round(scores["ents_f"], 4) == metrics["test"]["f1"]


def test_different_training_data_gives_a_different_model_version(repo: Path, runner):
    assert runner.invoke(app, ["train", "--max-steps", "5", "-o", "models/a"]).exit_code == 0
    path = repo / "annotation/annotations.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    changed = json.loads(lines[0])
    changed["spans"] = []
    path.write_text(json.dumps(changed, ensure_ascii=False) + "\n" + "".join(lines[1:]))
    assert runner.invoke(app, ["train", "--max-steps", "5", "-o", "models/b"]).exit_code == 0
    versions = [json.loads((repo / f"models/{name}/metrics.json").read_text())["model"] for name in "ab"]
    assert versions[0] != versions[1] and all(v.startswith("en_kz_news_ner-0.1.0+") for v in versions)


def test_a_label_without_examples_is_a_warning_or_with_strict_an_error(repo: Path, runner):
    toml = repo / "newsner.toml"
    toml.write_text(
        toml.read_text().replace(
            'entities = ["PER", "ORG", "LOC", "MISC"]', 'entities = ["PER", "ORG", "LOC", "MISC", "EVENT"]'
        )
    )
    warned = runner.invoke(app, ["train", "--max-steps", "5"])
    assert warned.exit_code == 0, warned.output
    assert "warning: no training example of EVENT: the model cannot learn it from this data" in warned.output
    strict = runner.invoke(app, ["train", "--max-steps", "5", "--strict", "-o", "models/strict"])
    assert strict.exit_code == 1 and "Error: no training example of EVENT" in strict.output


def test_the_architecture_is_a_setting_and_base_weights_need_their_own(repo: Path, runner):
    refused = runner.invoke(app, ["train", "--width", "128", "--max-steps", "5"])
    assert refused.exit_code == 1
    assert (
        "Error: the base pipeline's weights fit only its own tok2vec (width 96); to train another architecture "
        "(width 128), add --from-scratch"
    ) in refused.output
    wider = runner.invoke(
        app, ["train", "--from-scratch", "--width", "128", "--depth", "2", "--hidden-width", "32", "--max-steps", "5"]
    )
    assert wider.exit_code == 0, wider.output
    config = (repo / "models/ner/config.cfg").read_text()
    assert "width = 128" in config and "depth = 2" in config and "hidden_width = 32" in config
