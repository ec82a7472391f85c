from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.cli import app
from newsner.export import export, read_conll
from newsner.rows import dataset_rows
from newsner.tokens import class_names
from tests.test_publish import SETTINGS, make_units


@pytest.fixture(scope="module")
def units():
    return make_units(30)


def test_spacy_export_trains_a_blank_ner(units, tmp_path: Path):
    import spacy
    from spacy.tokens import DocBin
    from spacy.training import Example

    paths, report = export("spacy", units, SETTINGS, tmp_path)
    assert [p.name for p in paths] == ["train.spacy", "validation.spacy", "test.spacy"]
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(tmp_path / "train.spacy").get_docs(nlp.vocab))
    assert len(docs) == report.rows["train"]
    rows, _ = dataset_rows(units, SETTINGS)
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs] == [
        [(s["start"], s["end"], s["label"]) for s in r["spans"]] for r in rows["train"]
    ]
    ner = nlp.add_pipe("ner")
    for label in SETTINGS.entities:
        ner.add_label(label)
    examples = [Example(nlp.make_doc(d.text), d) for d in docs]
    optimizer = nlp.initialize(lambda: examples)
    losses = {}
    for _ in range(3):
        nlp.update(examples, sgd=optimizer, losses=losses)
    assert losses["ner"] > 0 and losses["ner"] == losses["ner"]  # trained, finite


def test_conll_export_reads_back_into_the_same_tags(tmp_path: Path):
    units = make_units(30)
    units[0].text = units[0].text.replace("met ", "met  ")  # a whitespace token, which CoNLL cannot hold
    for record in units[0].annotations.values():
        record["spans"] = [
            {**s, "start": s["start"] + (s["start"] > 11), "end": s["end"] + (s["start"] > 11)} for s in record["spans"]
        ]
    units[0]._span_sets.clear()
    export("conll", units, SETTINGS, tmp_path)
    rows, _ = dataset_rows(units, SETTINGS)
    names = class_names(SETTINGS.entities)
    for split in ("train", "validation", "test"):
        text = (tmp_path / f"{split}.conll").read_text()
        assert text.startswith("-DOCSTART- -X- -X- O\n\n")
        expected = [
            (
                [t for t in r["tokens"] if not t.isspace()],
                [names[g] for t, g in zip(r["tokens"], r["ner_tags"], strict=True) if not t.isspace()],
            )
            for r in rows[split]
        ]
        assert read_conll(tmp_path / f"{split}.conll") == expected
    assert any(" " in r["tokens"] for split in ("train", "validation", "test") for r in rows[split])


def test_export_cli_and_unknown_format(project: Path, runner, units):
    records = [
        {"sentence_id": u.sentence_id, "article_id": u.article_id, "annotator": a, "text": u.text, "spans": r["spans"]}
        for u in units
        for a, r in u.annotations.items()
    ]
    Path("annotations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    Path("newsner.toml").write_text(
        Path("newsner.toml").read_text().replace('group_by = "paragraph"', 'group_by = "article"')
    )
    result = runner.invoke(app, ["export", "conll", "annotations.jsonl", "-o", "out"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in Path("out").iterdir()) == ["test.conll", "train.conll", "validation.conll"]
    bad = runner.invoke(app, ["export", "brat", "annotations.jsonl", "-o", "out"])
    assert bad.exit_code == 2  # a usage error: the kind is a typed choice
    assert "Invalid value for 'kind'" in bad.output and "'brat' is not one of 'spacy', 'conll'" in bad.output
