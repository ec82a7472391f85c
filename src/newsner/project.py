"""The project's layout: where each step reads and writes by default, from one root.

The root is the folder of the settings file (`--config other/newsner.toml` → `other/`), else the working
folder. Every default path of every command and of `newsner run` comes from here, so a step finds the
same files however it is started; a path given on the command line is taken as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsner.config import DEFAULT_CONFIG


@dataclass(frozen=True)
class ProjectPaths:
    """Default locations under the project root (`corpus/`, `annotation/`, `reports/`, `dist/`, `models/`).

    >>> paths = ProjectPaths(Path("proj"))
    >>> paths.sentences.as_posix(), paths.dataset("kz-news").as_posix()
    ('proj/corpus/sentences.jsonl', 'proj/dist/kz-news')
    """

    root: Path

    @classmethod
    def of(cls, config: str | Path | None = None) -> ProjectPaths:
        """The layout of the project whose settings file is `config` (default: `./newsner.toml`)."""
        return cls(Path(config).parent if config else Path(DEFAULT_CONFIG).parent)

    @property
    def raw(self) -> Path:
        return self.root / "corpus" / "raw"

    @property
    def articles(self) -> Path:
        return self.root / "corpus" / "articles.jsonl"

    @property
    def sentences(self) -> Path:
        return self.root / "corpus" / "sentences.jsonl"

    @property
    def annotation(self) -> Path:
        """The annotation folder: tasks, annotations, decisions, pull reports, raw exports."""
        return self.root / "annotation"

    @property
    def tasks(self) -> Path:
        return self.annotation / "tasks.jsonl"

    @property
    def annotations(self) -> Path:
        return self.annotation / "annotations.jsonl"

    @property
    def guidelines(self) -> Path:
        return self.annotation / "guidelines.md"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def model(self) -> Path:
        return self.root / "models" / "ner"

    @property
    def export(self) -> Path:
        return self.root / "dist" / "export"

    def dataset(self, name: str) -> Path:
        """The published dataset's folder: `dist/<[dataset] name>`."""
        return self.root / "dist" / name
