from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from newsner.annotations import Unit
from newsner.config import load_settings, settings_from_dict
from newsner.errors import SplitError
from newsner.partition import SPLITS
from newsner.publish import publish, push_to_hub
from tests.conftest import ROOT

_REPO = load_settings(ROOT / "newsner.toml")
SETTINGS = settings_from_dict({**_REPO.raw, "split": {**_REPO.raw.get("split", {}), "group_by": "article"}})
TEXT = "Tokayev met Putin in Moscow and Minsk."
PER1, PER2, LOC1 = (0, 7, "PER"), (12, 17, "PER"), (21, 27, "LOC")


def make_units(n_articles: int, start: int = 0) -> list[Unit]:
    units = []
    for a in range(start, start + n_articles):
        article = hashlib.sha256(f"article{a}".encode()).hexdigest()[:16]
        for s in range(3):
            anns = {"x": [PER1, LOC1], "y": [PER1, LOC1], "z": [PER1, PER2]} if s == 0 else {"x": [PER1], "y": [PER2]}
            records = {
                name: {"annotator": name, "spans": [{"start": b, "end": e, "label": lab} for b, e, lab in spans]}
                for name, spans in anns.items()
            }
            if s == 2:
                records["y"]["ground_truth"] = True
            units.append(Unit(f"{article}-{s}", article, TEXT, records))
    return units


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "kz-news-ner"
    publish(make_units(30), SETTINGS, out)
    return out


def test_load_dataset_offline(published: Path):
    from datasets import load_dataset

    ds = load_dataset(str(published))
    assert set(ds) == {"train", "validation", "test"}
    assert ds["train"].features["ner_tags"].feature.names == [
        "O",
        "B-PER",
        "I-PER",
        "B-ORG",
        "I-ORG",
        "B-LOC",
        "I-LOC",
        "B-MISC",
        "I-MISC",
    ]
    layer = load_dataset(str(published), "annotations")
    assert sum(len(layer[split]) for split in SPLITS) == 30 * (3 + 2 + 2)
    rows = {r["id"].split("-")[1]: r for r in ds["train"]}
    # majority: x and y agree on PER1 and LOC1, z only on PER1 -> both kept
    assert rows["0"]["spans"] == [{"start": 0, "end": 7, "label": "PER"}, {"start": 21, "end": 27, "label": "LOC"}]
    assert rows["0"]["tokens"] == ["Tokayev", "met", "Putin", "in", "Moscow", "and", "Minsk", "."]
    assert rows["0"]["ner_tags"] == [1, 0, 0, 0, 5, 0, 0, 0]
    # two annotators who disagree: no strict majority -> nothing kept
    assert rows["1"]["spans"] == []
    # ground truth wins
    assert rows["2"]["spans"] == [{"start": 12, "end": 17, "label": "PER"}]
    assert rows["0"]["n_annotators"] == 3 and rows["1"]["agreement"] == 0.0


def test_no_article_in_both_splits(published: Path):
    from datasets import load_dataset

    ds = load_dataset(str(published))
    articles = {split: set(ds[split]["article_id"]) for split in SPLITS}
    assert all(articles[split] for split in SPLITS)
    assert sum(len(found) for found in articles.values()) == len(set().union(*articles.values())) == 30


def test_adding_articles_moves_none(published: Path, tmp_path: Path):
    from datasets import load_dataset

    bigger = tmp_path / "bigger"
    publish(make_units(40), SETTINGS, bigger)
    before, after = load_dataset(str(published)), load_dataset(str(bigger))
    for split in SPLITS:
        assert set(before[split]["article_id"]) <= set(after[split]["article_id"])


def test_two_builds_are_byte_identical(published: Path, tmp_path: Path):
    again = tmp_path / "again"
    publish(make_units(30), SETTINGS, again)
    files = sorted(p.relative_to(published) for p in published.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for name in files:
        assert (published / name).read_bytes() == (again / name).read_bytes(), name


def test_card(published: Path):
    card = (published / "README.md").read_text()
    for needle in (
        "task_categories:\n- token-classification",
        "config_name: annotations",
        "'1': B-PER",
        "pretty_name:",
        "size_categories:",
        "## Agreement",
        "span F1, exact",
        "datasets` < 4",
        "more than half of the sentence's annotators",
    ):
        assert needle in card


def test_empty_split_is_a_clear_error(tmp_path: Path):
    with pytest.raises(
        SplitError,
        match=r"the (train|validation|test) split would be empty \(1 groups; test_fraction "
        r"0.2, validation_fraction 0.1\); annotate more articles",
    ):
        publish(make_units(1, start=3), SETTINGS, tmp_path / "one")


def test_paragraph_grouping_needs_sentences(tmp_path: Path):
    raw = dict(SETTINGS.raw)
    raw["split"] = {"group_by": "paragraph"}
    with pytest.raises(SplitError, match="needs corpus/sentences.jsonl"):
        publish(make_units(3), settings_from_dict(raw), tmp_path / "p")


def test_push_to_hub_dry_run_and_missing_token(published: Path, monkeypatch):
    files = push_to_hub(published, "org/kz-news-ner", dry_run=True)
    assert "README.md" in files and "data/train-00000-of-00001.parquet" in files
    monkeypatch.delenv("HF_TOKEN", raising=False)
    from newsner.errors import PublishError

    with pytest.raises(PublishError, match="set HF_TOKEN"):
        push_to_hub(published, "org/kz-news-ner")


def _load(path: Path, config: str | None, cache: Path):
    from datasets import load_dataset

    return load_dataset(str(path), config, cache_dir=str(cache))


def test_rebuild_and_reload_in_one_process_sees_the_new_rows(tmp_path: Path):
    """datasets names a local folder's cache after the card's YAML: a rebuild must change it."""
    out, cache = tmp_path / "ds", tmp_path / "cache"
    publish(make_units(30), SETTINGS, out)
    first = _load(out, "annotations", cache)
    publish(make_units(31), SETTINGS, out)
    second = _load(out, "annotations", cache)
    assert sum(map(len, second.values())) == sum(map(len, first.values())) + 7
    # same row counts, one label changed: the reload must still see it
    units = make_units(31)
    unit = units[0]
    for record in unit.annotations.values():
        record["spans"] = [dict(s, label="ORG") if s["label"] == "LOC" else s for s in record["spans"]]
    publish(units, SETTINGS, out)
    third = _load(out, None, cache)
    split = next(s for s in third if unit.sentence_id in third[s]["id"])
    row = third[split][third[split]["id"].index(unit.sentence_id)]
    assert {"start": 21, "end": 27, "label": "ORG"} in row["spans"]
    assert row["ner_tags"][4] == 3  # B-ORG


def test_loading_emits_no_warning_from_the_card(published: Path, tmp_path: Path):
    import logging
    import warnings

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("datasets")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _load(published, None, tmp_path / "cache")
            _load(published, "annotations", tmp_path / "cache")
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == []


def test_card_yaml_states_exactly_what_was_written(published: Path):
    import pyarrow.parquet as pq
    from datasets import Features
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(published / "README.md")
    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    for config, folder in (("default", "data"), ("annotations", "data/annotations")):
        for split in SPLITS:
            [path] = (published / folder).glob(f"{split}-*.parquet")
            written = Features.from_arrow_schema(pq.read_schema(path))
            assert infos[config].features == written, f"{config}: card features drifted from the parquet"
            assert infos[config].splits[split].num_examples == pq.ParquetFile(path).metadata.num_rows


def test_published_files_get_the_usual_permissions(tmp_path: Path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        publish(make_units(30), SETTINGS, tmp_path / "perm")
    finally:
        os.umask(old)
    modes = {
        str(p.relative_to(tmp_path / "perm")): stat.S_IMODE(p.stat().st_mode)
        for p in (tmp_path / "perm").rglob("*")
        if p.is_file()
    }
    assert {"agreement.json", "agreement.md", "README.md"} <= set(modes)
    assert {name: mode for name, mode in modes.items() if mode != 0o644} == {}


def test_card_shows_its_plots(published: Path):
    card = (published / "README.md").read_text()
    for image in ("f1_per_label.png", "annotator_pairs.png", "label_confusion.png"):
        assert f"]({image})" in card and (published / image).is_file()


def test_the_card_parses_round_trips_and_describes_every_column(published: Path):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard, DatasetCardData

    card = DatasetCard.load(published / "README.md")
    data = card.data.to_dict()
    assert DatasetCardData(**data).to_dict() == data  # the metadata round-trips
    for key, value in (
        ("task_categories", ["token-classification"]),
        ("task_ids", ["named-entity-recognition"]),
        ("language_creators", ["found"]),
        ("source_datasets", ["original"]),
        ("annotations_creators", ["expert-generated", "machine-generated"]),
    ):
        assert data[key] == value, key
    assert data["size_categories"] and data["license"] == SETTINGS.dataset.license
    for config in ("default", "annotations"):
        columns = load_dataset(str(published), config)["train"].column_names
        missing = [c for c in columns if f"| `{c}` |" not in card.text]
        assert missing == [], f"{config}: columns the card does not describe: {missing}"
    for section in ("## Columns", "## Personal data", "## Citation", "| validation |"):
        assert section in card.text


def test_the_card_lists_each_articles_source_and_rights(tmp_path: Path):
    units = make_units(30)
    first, second = units[0].article_id, units[3].article_id
    articles = [
        {
            "id": first,
            "title": "Protests | in Almaty",
            "text": "x",
            "source": "corpus/raw/a.txt",
            "paragraphs": [[0, 1]],
            "meta": {
                "publisher": "Example News",
                "date": "2022-01-05",
                "url": "https://example.org/a",
                "rights": "CC BY 4.0",
            },
        },
        {"id": second, "title": "Another", "text": "y", "source": "corpus/raw/b.txt", "paragraphs": [[0, 1]]},
        {"id": "f" * 16, "title": "Not annotated", "text": "z", "source": "c.txt", "paragraphs": [[0, 1]]},
    ]
    publish(units, SETTINGS, tmp_path / "ds", articles=articles)
    card = (tmp_path / "ds" / "README.md").read_text()
    assert (
        f"| `{first}` | Protests \\| in Almaty | Example News | 2022-01-05 | https://example.org/a | CC BY 4.0 | "
        f"`corpus/raw/a.txt` |"
    ) in card
    assert f"| `{second}` | Another |  |  |  | not stated | `corpus/raw/b.txt` |" in card
    assert "Not annotated" not in card
    assert "The annotations (spans, labels, splits, the per-annotator layer) are released under `cc-by-4.0`" in card
