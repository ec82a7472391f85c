"""Project settings: `newsner.toml`, validated against `schemas/config.schema.json`, with defaults."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner.errors import ConfigError
from newsner.schemas import load_schema, schema_errors

DEFAULT_CONFIG = "newsner.toml"

DEFAULT_FROM_SPACY = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
}


@dataclass(frozen=True)
class DatasetSettings:
    """[dataset]: what the published dataset is called and under which terms."""

    name: str
    language: str
    license: str
    pretty_name: str | None = None
    description: str | None = None
    annotators_note: str | None = None


@dataclass(frozen=True)
class LabelSettings:
    """[labels]: the entity labels, the optional sentence categories, and spaCy's labels mapped onto ours."""

    entities: list[str]
    categories: list[str]
    from_spacy: dict[str, str]


@dataclass(frozen=True)
class PrelabelSettings:
    """[prelabel]: the spaCy pipeline and how it runs."""

    model: str
    context: str
    scores: str
    batch_size: int
    n_process: int
    align: bool


@dataclass(frozen=True)
class StudioSettings:
    """[studio]: the Label Studio server and the projects newsner keeps there."""

    url: str
    project: str
    annotators_per_task: int
    batch_size: int
    sampling: str


@dataclass(frozen=True)
class ReviewSettings:
    """[review]: what `newsner review` puts in the review project."""

    select: str
    audit_fraction: float


@dataclass(frozen=True)
class SplitSettings:
    """[split]: how sentences are grouped and assigned to train, validation and test."""

    test_fraction: float
    validation_fraction: float
    group_by: str
    seed: str


SECTIONS: dict[str, type] = {
    "dataset": DatasetSettings,
    "labels": LabelSettings,
    "prelabel": PrelabelSettings,
    "studio": StudioSettings,
    "review": ReviewSettings,
    "split": SplitSettings,
}


@dataclass(frozen=True)
class Settings:
    """Validated settings: one typed section per table of newsner.toml, every default filled in.

    A key the schema does not know is refused when the file is read, so a misspelt key is a load
    error; in code, a misspelt attribute is an AttributeError that type checkers see.
    """

    dataset: DatasetSettings
    labels: LabelSettings
    prelabel: PrelabelSettings
    studio: StudioSettings
    split: SplitSettings
    review: ReviewSettings
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def entities(self) -> list[str]:
        return list(self.labels.entities)

    @property
    def categories(self) -> list[str]:
        return list(self.labels.categories)

    @property
    def root(self) -> Path:
        """The project folder: where newsner.toml lives (or the working directory)."""
        return self.path.parent if self.path else Path.cwd()


def _defaults(section: str) -> dict[str, Any]:
    props = load_schema("config")["properties"][section]["properties"]
    return {key: copy.deepcopy(spec["default"]) for key, spec in props.items() if "default" in spec}


def settings_from_dict(data: dict[str, Any], *, source: str = "settings", path: Path | None = None) -> Settings:
    """Validate a settings mapping (as read from TOML) and fill in defaults.

    >>> settings_from_dict({"labels": {"entities": ["PER", "ORG"]}}).split.seed
    'newsner'
    """
    problems = list(schema_errors("config", data))
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(p.replace("[$.", "[", 1) for p in problems))
    sections = {name: {**_defaults(name), **data.get(name, {})} for name in SECTIONS}
    labels = sections["labels"]
    if "from_spacy" not in data.get("labels", {}):
        labels["from_spacy"] = {k: v for k, v in DEFAULT_FROM_SPACY.items() if v in labels["entities"]}
    unknown = sorted({v for v in labels["from_spacy"].values() if v not in labels["entities"]})
    if unknown:
        raise ConfigError(
            f"{source}: [labels.from_spacy] maps onto {', '.join(unknown)}, which is not in [labels] entities "
            f"{labels['entities']}; add it to entities or change the map"
        )
    split = sections["split"]
    if split["test_fraction"] + split["validation_fraction"] >= 1:
        raise ConfigError(
            f"{source}: [split] test_fraction {split['test_fraction']} + validation_fraction "
            f"{split['validation_fraction']} leave nothing for train; make their sum below 1"
        )
    typed = {name: SECTIONS[name](**values) for name, values in sections.items()}
    return Settings(path=path, raw=data, **typed)


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate `newsner.toml` (or `path`).

    Without `path`, `./newsner.toml` is read. A bad file raises `ConfigError` naming the key and problem.
    """
    path = Path(path or DEFAULT_CONFIG)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no settings file; create one (see docs/maintainers.md) or pass --config FILE"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    return settings_from_dict(data, source=str(path), path=path.resolve())
