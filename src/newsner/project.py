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

    >>> paths = ProjectPaths.at(Path("proj"))
    >>> paths.sentences.as_posix(), paths.dataset("kz-news").as_posix()
    ('proj/corpus/sentences.jsonl', 'proj/dist/kz-news')
    """

    root: Path
    raw: Path
    articles: Path
    sentences: Path
    annotation: Path  # tasks, annotations, decisions, pull reports, raw exports
    tasks: Path
    annotations: Path
    guidelines: Path
    reports: Path
    model: Path
    export: Path

    @classmethod
    def at(cls, root: Path) -> ProjectPaths:
        """The layout of the project in `root`."""
        corpus, annotation = root / "corpus", root / "annotation"
        return cls(
            root=root,
            raw=corpus / "raw",
            articles=corpus / "articles.jsonl",
            sentences=corpus / "sentences.jsonl",
            annotation=annotation,
            tasks=annotation / "tasks.jsonl",
            annotations=annotation / "annotations.jsonl",
            guidelines=annotation / "guidelines.md",
            reports=root / "reports",
            model=root / "models" / "ner",
            export=root / "dist" / "export",
        )

    @classmethod
    def of(cls, config: str | Path | None = None) -> ProjectPaths:
        """The layout of the project whose settings file is `config` (default: `./newsner.toml`)."""
        return cls.at(Path(config).parent if config else Path(DEFAULT_CONFIG).parent)

    def dataset(self, name: str) -> Path:
        """The published dataset's folder: `dist/<[dataset] name>`."""
        return self.root / "dist" / name
