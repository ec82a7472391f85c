"""`newsner publish`: adjudicated, tokenised, grouped-split Hugging Face dataset with a card."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner.agreement import agreement_report
from newsner.agreement_output import write_agreement
from newsner.annotations import Unit
from newsner.card import dataset_card
from newsner.config import Settings
from newsner.errors import PublishError
from newsner.outputs import OutputTarget, output_folder
from newsner.partition import SPLITS
from newsner.rows import RowsReport, assign_splits, check_row, iter_rows
from newsner.tokens import class_names

BATCH_ROWS = 5000


@dataclass
class ConfigFiles:
    """What publish wrote for one dataset config: its features, and per split the rows and bytes."""

    features: Any
    folder: str  # under data/
    num_examples: dict[str, int] = field(default_factory=dict)
    num_bytes: dict[str, int] = field(default_factory=dict)  # uncompressed (arrow) size, as datasets reports it
    download_size: int = 0  # parquet bytes on disk
    fingerprint: str = ""  # sha256 of the config's parquet files


@dataclass
class PublishReport(RowsReport):
    """The rows written per split, plus the files and the two dataset configs."""

    files: list[str] = field(default_factory=list)
    configs: dict[str, ConfigFiles] = field(default_factory=dict)


def _features(settings: Settings) -> Any:
    from datasets import ClassLabel, Features, List, Value

    span = {"start": Value("int32"), "end": Value("int32"), "label": Value("string")}
    features = {
        "id": Value("string"),
        "article_id": Value("string"),
        "text": Value("string"),
        "tokens": List(Value("string")),
        "ner_tags": List(ClassLabel(names=class_names(settings.entities))),
        "spans": List(span),
    }
    if settings.categories:
        features["category"] = ClassLabel(names=settings.categories)
    features["n_annotators"] = Value("int32")
    features["agreement"] = Value("float64")
    return Features(features)


def _annotation_features() -> Any:
    from datasets import Features, List, Value

    return Features(
        {
            "sentence_id": Value("string"),
            "article_id": Value("string"),
            "annotator": Value("string"),
            "text": Value("string"),
            "spans": List({"start": Value("int32"), "end": Value("int32"), "label": Value("string")}),
            "category": Value("string"),
            "ground_truth": Value("bool"),
        }
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "(absent)"


def _write_parquet(rows: Iterator[tuple[str, dict[str, Any]]], schemas: dict[str, Any], folder: Path) -> None:
    """Stream rows into `data/<name>-00000-of-00001.parquet`, BATCH_ROWS rows per row group."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writers: dict[str, Any] = {}
    buffers: dict[str, list] = {name: [] for name in schemas}

    def flush(name: str) -> None:
        if name not in writers:
            path = folder / "data" / f"{name}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            writers[name] = pq.ParquetWriter(str(path), schemas[name])
        writers[name].write_table(pa.Table.from_pylist(buffers[name], schema=schemas[name]))
        buffers[name] = []

    try:
        for name, row in rows:
            check_row(name, row)
            buffers[name].append(row)
            if len(buffers[name]) >= BATCH_ROWS:
                flush(name)
        for name in schemas:
            if buffers[name] or name not in writers:
                flush(name)
    finally:
        for writer in writers.values():
            writer.close()


def _measure(config: ConfigFiles, root: Path) -> None:
    """Rows, bytes and a content fingerprint of one config's parquet files (what the card's YAML states)."""
    import pyarrow.parquet as pq

    digest = hashlib.sha256()
    for split in SPLITS:
        for path in sorted((root / config.folder).glob(f"{split}-*.parquet")):
            metadata = pq.ParquetFile(path).metadata
            config.num_examples[split] = config.num_examples.get(split, 0) + metadata.num_rows
            config.num_bytes[split] = config.num_bytes.get(split, 0) + sum(
                metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)
            )
            config.download_size += path.stat().st_size
            with path.open("rb") as handle:
                digest.update(f"{split}/{path.name} ".encode() + hashlib.file_digest(handle, "sha256").digest())
    config.fingerprint = digest.hexdigest()


def publish(
    units: list[Unit],
    settings: Settings,
    out_dir: Path,
    *,
    tasks: list[dict[str, Any]] | None = None,
    sentences: list[dict[str, Any]] | None = None,
    inputs: dict[str, Path] | None = None,
    pull_report: dict[str, Any] | None = None,
    agreement: dict[str, Any] | None = None,
    force: bool = False,
    articles: list[dict[str, Any]] | None = None,
) -> PublishReport:
    """Write `out_dir` (parquet per split and config, agreement, card). Byte-identical for identical input.

    `out_dir` is replaced as a whole, atomically, and only when it is empty, an earlier dataset, or
    `force` is set (`OutputError` otherwise): publish never deletes a folder it did not write.

    `pull_report` (the `pull-report.json` of the annotations) puts the Label Studio version and
    export snapshot into the card's provenance.

    Rows are streamed to parquet in batches, so memory does not grow with the row count beyond
    the annotations themselves and the agreement arrays.
    """
    report = PublishReport()
    split_of = assign_splits(units, settings, sentences, report)
    target = OutputTarget(out_dir, "publish", root=settings.root, force=force, legacy=_earlier_dataset)
    with output_folder(target) as tmp:
        report.configs = {
            "default": ConfigFiles(_features(settings), "data"),
            "annotations": ConfigFiles(_annotation_features(), "data/annotations"),
        }
        schemas = {
            f"{c.folder}/{s}"[len("data/") :]: c.features.arrow_schema for c in report.configs.values() for s in SPLITS
        }
        _write_parquet(iter_rows(units, settings, split_of, report), schemas, tmp)
        for config in report.configs.values():
            _measure(config, tmp)
        if agreement is None:  # `newsner run` passes the report it has just written
            agreement = agreement_report(units, settings, tasks)
        write_agreement(agreement, tmp)
        provenance = {name: _sha256(path) for name, path in sorted((inputs or {}).items())}
        used = {unit.article_id for unit in units}
        sources = [a for a in articles or [] if a["id"] in used]
        (tmp / "README.md").write_text(
            dataset_card(
                settings,
                report,
                agreement,
                tasks,
                provenance,
                pull_report,
                sources=sources if articles is not None else None,
            ),
            encoding="utf-8",
        )
        report.files = _files(tmp)
    return report


def _files(folder: Path) -> list[str]:
    """The dataset's files (newsner's own mark left out)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _earlier_dataset(folder: Path) -> bool:
    """A dataset folder written by a newsner from before output marks: a card, parquet, agreement, plots only."""
    allowed = ("README.md", "agreement.json", "agreement.md")
    files = [p.relative_to(folder) for p in folder.rglob("*") if p.is_file()]
    return (folder / "README.md").is_file() and all(
        str(f) in allowed
        or (f.suffix == ".png" and len(f.parts) == 1)
        or (f.parts[0] == "data" and f.suffix == ".parquet")
        for f in files
    )


def push_to_hub(out_dir: Path, repo: str, *, private: bool = False, dry_run: bool = False) -> list[str]:
    """Upload the published folder to the Hub as a dataset repo (token from HF_TOKEN)."""
    files = _files(out_dir)
    if dry_run:
        return files
    token = os.environ.get("HF_TOKEN")
    if not token:
        raise PublishError("set HF_TOKEN to a Hugging Face write token to push (it is read from the environment only)")
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    try:
        api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(
            folder_path=str(out_dir),
            repo_id=repo,
            repo_type="dataset",
            commit_message="Publish with newsner",
            ignore_patterns=[".*"],
        )
    except Exception as err:  # network and auth errors from the Hub client
        raise PublishError(f"pushing to the Hub repo {repo} failed: {type(err).__name__}") from None
    return files
