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
class Settings:
    """Validated settings, each section a plain dict with every default filled in."""

    dataset: dict[str, Any]
    labels: dict[str, Any]
    prelabel: dict[str, Any]
    studio: dict[str, Any]
    split: dict[str, Any]
    review: dict[str, Any] = field(default_factory=lambda: _defaults("review"))
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def entities(self) -> list[str]:
        return list(self.labels["entities"])

    @property
    def categories(self) -> list[str]:
        return list(self.labels["categories"])

    @property
    def root(self) -> Path:
        """The project folder: where newsner.toml lives (or the working directory)."""
        return self.path.parent if self.path else Path.cwd()


def _defaults(section: str) -> dict[str, Any]:
    props = load_schema("config")["properties"][section]["properties"]
    return {key: copy.deepcopy(spec["default"]) for key, spec in props.items() if "default" in spec}


def settings_from_dict(data: dict[str, Any], *, source: str = "settings", path: Path | None = None) -> Settings:
    """Validate a settings mapping (as read from TOML) and fill in defaults.

    >>> settings_from_dict({"labels": {"entities": ["PER", "ORG"]}}).split["seed"]
    'newsner'
    """
    problems = list(schema_errors("config", data))
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(p.replace("[$.", "[", 1) for p in problems))
    sections = {
        name: {**_defaults(name), **data.get(name, {})}
        for name in ("dataset", "labels", "prelabel", "studio", "split", "review")
    }
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
    return Settings(path=path, raw=data, **sections)


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
