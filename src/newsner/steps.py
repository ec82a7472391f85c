"""Every step, wired once: read and validate its input, run the library, write its output.

The CLI commands and `newsner run` both call these, so a step behaves the same however it is started
(spaCy's `evaluate_cli` → `evaluate` split: the CLI parses options and prints, nothing more). Default
paths come from `newsner.project.ProjectPaths`, not from here: a step takes the paths it is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from newsner.agreement import agreement_report
from newsner.agreement_output import write_agreement
from newsner.annotations import (
    ADJUDICATIONS_FILE,
    Unit,
    Units,
    attach_adjudications,
    group_units,
    read_adjudications,
    read_annotations,
)
from newsner.cluster import scheduler_address
from newsner.config import Settings
from newsner.errors import InputError, ValidationError
from newsner.export import export
from newsner.ingest import IngestReport, ingest
from newsner.io import read_jsonl, read_records, write_jsonl
from newsner.prelabel import PrelabelOptions, PrelabelReport, prelabel
from newsner.progress import progress
from newsner.publish import PublishReport, publish
from newsner.rows import RowsReport
from newsner.segment import SplitReport, split_articles, split_on_dask
from newsner.studio.accounts import SettleReport, settle_held
from newsner.studio.client import connect
from newsner.studio.pull import pull_annotations
from newsner.studio.push import PushReport, push_tasks
from newsner.studio.records import PullReport
from newsner.studio.review import ReviewReport, push_review
from newsner.train import TrainOptions, TrainReport, train_model
from newsner.validate import default_paths, record_problems, validate_file, validate_paths


def check_input(path: Path, schema: str, settings: Settings | None = None) -> int:
    """Validate a record file before a step reads it; return its record count.

    Raises `ValidationError` listing the first problems with `file:line`.
    """
    count, problems = validate_file(path, schema=schema, settings=settings)
    if problems:
        raise ValidationError(f"{path} has {len(problems)} invalid record(s):\n" + "\n".join(problems[:20]), problems)
    return count


def ingest_step(
    raw_paths: Iterable[str | Path], output: str | Path, *, root: Path | None = None
) -> tuple[int, IngestReport]:
    """Clean raw articles into `output`; return (articles written, IngestReport).

    Each article's `source` is its file's path relative to `root` (the project folder).
    """
    articles, report = ingest(raw_paths, root=root)
    if not articles and str(output) != "-":
        raise InputError(
            "no article could be read"
            + (f" ({len(report.skipped)} inputs skipped):\n" + "\n".join(report.skipped[:20]) if report.skipped else "")
            + f"\n{output} was left as it was; check the paths (.txt, .md or .jsonl files or folders)"
        )
    problems = [f"{a['source']}: {p}" for a in articles for p in record_problems("article", a)]
    if problems:
        raise ValidationError(
            "ingest produced invalid records (a bug; please report it):\n" + "\n".join(problems), problems
        )
    return write_jsonl(output, articles), report


def split_step(
    articles: Path,
    output: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    batch_size: int = 64,
) -> SplitReport:
    """Split validated article records into sentence records; return the SplitReport.

    `scheduler` (else `DASK_SCHEDULER_ADDRESS`) or `workers` split batches of articles on Dask; the
    output is the same, byte for byte.
    """
    check_input(articles, "article")
    report = SplitReport()
    records = (record for _, record in read_jsonl(articles))
    scheduler = scheduler_address(scheduler, workers)
    if scheduler or workers:
        sentences = split_on_dask(records, report, scheduler=scheduler, workers=workers, batch_size=batch_size)
    else:
        sentences = split_articles(records, report)
    write_jsonl(output, sentences)
    return report


def prelabel_step(
    sentences: Path,
    output: str | Path,
    settings: Settings,
    options: PrelabelOptions | None = None,
    *,
    show_progress: bool = False,
) -> PrelabelReport:
    """Pre-label validated sentence records into Label Studio tasks (`options`: model, processes, Dask);
    return the PrelabelReport."""
    count = check_input(sentences, "sentence")
    report = PrelabelReport()
    records = (record for _, record in read_jsonl(sentences))
    if show_progress:
        records = progress(records, total=count, description="prelabel")
    write_jsonl(output, prelabel(records, settings, options, report=report))
    return report


def optional_records(path: Path, schema: str, settings: Settings | None = None) -> list[dict[str, Any]] | None:
    """The validated records of an optional input, or None when it does not exist.

    It gets the same checks as every other input (`file:line` messages, duplicates included): a file of
    another record type, or a folder, is refused rather than half-read.
    """
    if not path.exists():
        return None
    if path.is_dir():
        raise InputError(f"{path}: is a folder; name the {schema} records file (JSONL) instead")
    check_input(path, schema, settings)
    return read_records(path)


def train_step(
    annotations: Path,
    output: Path,
    settings: Settings,
    *,
    sentences: Path,
    options: TrainOptions | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    force: bool = False,
) -> TrainReport:
    """Train a pre-label model from the adjudicated annotations into `output`; return the TrainReport."""
    return train_model(
        read_units(annotations, settings),
        settings,
        output,
        options=options,
        sentences=optional_records(sentences, "sentence"),
        on_progress=on_progress,
        force=force,
    )


def export_step(
    kind: str, annotations: Path, output: Path, settings: Settings, *, sentences: Path
) -> tuple[list[Path], RowsReport]:
    """Write the `kind` export (spacy, conll) of the adjudicated split data; return (paths, report)."""
    return export(
        kind, read_units(annotations, settings), settings, output, sentences=optional_records(sentences, "sentence")
    )


def read_units(annotations: Path, settings: Settings, adjudications: Path | None = None) -> Units:
    """The validated annotations grouped into one unit per sentence, each with its reviewer's decision.

    `adjudications` defaults to `adjudications.jsonl` beside the annotations, read when it exists.
    """
    units = group_units(read_annotations(annotations, settings))
    path = adjudications_path(annotations, adjudications)
    if adjudications is not None and not path.is_file():
        raise InputError(f"{path}: no such adjudications file (made by `newsner pull` from the review project)")
    orphans = attach_adjudications(units, read_adjudications(path, settings)) if path.is_file() else []
    return Units(units, orphans)


def adjudications_path(annotations: Path, adjudications: Path | None = None) -> Path:
    """The decisions file: `adjudications` when given, else `adjudications.jsonl` beside the annotations."""
    return adjudications if adjudications is not None else annotations.parent / ADJUDICATIONS_FILE


def agree_step(
    annotations: Path,
    output: Path,
    settings: Settings,
    *,
    predictions: Path | None = None,
    plots: bool = True,
    units: list[Unit] | None = None,
    adjudications: Path | None = None,
) -> dict[str, Any]:
    """Write the agreement report (json, md, plots) into `output`; return it."""
    units = units if units is not None else read_units(annotations, settings, adjudications)
    if predictions is not None and not predictions.exists():
        raise InputError(f"{predictions}: no such file; pass the tasks.jsonl that `newsner prelabel` wrote")
    report = agreement_report(units, settings, optional_records(predictions, "task", settings) if predictions else None)
    write_agreement(report, output, plots=plots)
    return report


def publish_step(
    annotations: Path,
    output: Path,
    settings: Settings,
    *,
    tasks: Path,
    sentences: Path,
    units: list[Unit] | None = None,
    agreement: dict[str, Any] | None = None,
    adjudications: Path | None = None,
    force: bool = False,
    articles: Path | None = None,
) -> PublishReport:
    """Adjudicate and write the Hugging Face dataset into `output`; return the PublishReport.

    `tasks`, `sentences` and `articles` (default: `articles.jsonl` beside the sentences) are read when they
    exist (pre-label quality, provenance, paragraph groups, each article's source and rights);
    `pull-report.json` beside the annotations puts the Label Studio version into the card.
    The card names each input by its path relative to the project, however the step was started.
    """
    units = units if units is not None else read_units(annotations, settings, adjudications)
    decisions = adjudications_path(annotations, adjudications)
    pull_report_path = annotations.parent / "pull-report.json"
    articles = articles if articles is not None else sentences.parent / "articles.jsonl"
    return publish(
        units,
        settings,
        output,
        tasks=optional_records(tasks, "task", settings),
        sentences=optional_records(sentences, "sentence"),
        articles=optional_records(articles, "article"),
        pull_report=json.loads(pull_report_path.read_text()) if pull_report_path.is_file() else None,
        inputs={
            _relative(path, settings.root): path
            for path in (annotations, decisions, tasks, sentences)
            if path.is_file() or path != decisions
        },
        agreement=agreement,
        force=force,
    )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def validate_step(
    paths: Iterable[Path] | None, settings: Settings, *, schema: str | None = None
) -> tuple[int, int, list[str]]:
    """Check record files (default: every record file in the project) against their schemas and rules.

    Returns (files, records, problems); raises `InputError` when there is nothing to check.
    """
    targets = list(paths) if paths else default_paths(settings.root)
    if not targets:
        raise InputError("no record files found in corpus/ or annotation/; name the files to check")
    return validate_paths(targets, schema=schema, settings=settings)


def push_step(
    tasks: Path, settings: Settings, *, guidelines: Path, batch_size: int | None = None
) -> tuple[str, PushReport]:
    """Create or update the annotator projects and import the tasks they lack; return (server URL, report)."""
    connection = connect(settings)
    report = push_tasks(connection, settings, read_records(tasks), guidelines=guidelines, batch_size=batch_size)
    return connection.url, report


def pull_step(output: Path, settings: Settings, *, sentences: Path, replace: bool = False) -> tuple[Path, PullReport]:
    """Export the annotations and decisions into the `output` folder; return (annotations file, report)."""
    return pull_annotations(connect(settings), settings, output, sentences, replace=replace)


def review_step(
    annotations: Path,
    settings: Settings,
    *,
    guidelines: Path,
    select: str | None = None,
    audit_fraction: float | None = None,
) -> tuple[str, ReviewReport]:
    """Fill the review project with the sentences that need a decision; return (server URL, report)."""
    units = read_units(annotations, settings)
    connection = connect(settings)
    report = push_review(
        connection, settings, units, guidelines=guidelines, select=select, audit_fraction=audit_fraction
    )
    return connection.url, report


def settle_step(annotation_dir: Path, settings: Settings, *, dry_run: bool = False) -> SettleReport:
    """Record each held stray annotation in `settled.jsonl`, then remove it from Label Studio."""
    return settle_held(connect(settings), settings, annotation_dir, dry_run=dry_run)
