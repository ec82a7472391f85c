"""`newsner run`: the offline chain from `corpus/raw/` to `dist/<name>/`, validating at every step."""

from __future__ import annotations

import json
from collections.abc import Iterator

from newsner.config import Settings
from newsner.errors import InputError, ValidationError
from newsner.io import read_records
from newsner.steps import agree_step, ingest_step, prelabel_step, publish_step, read_units, split_step
from newsner.studio.client import connect
from newsner.studio.pull import pull_annotations
from newsner.studio.push import push_tasks
from newsner.validate import validate_paths


def run_pipeline(settings: Settings, *, with_studio: bool = False) -> Iterator[str]:
    """Run ingest, split, prelabel (push and pull with `with_studio`), validate, agree and publish.

    Yields one summary line per step. Stops after validation, with a hint, while
    `annotation/annotations.jsonl` does not exist.

    >>> for line in run_pipeline(load_settings()): print(line)  # doctest: +SKIP
    ingest: 1 articles from 1 files; ...
    """

    root = settings.root
    articles_path, sentences_path = root / "corpus" / "articles.jsonl", root / "corpus" / "sentences.jsonl"
    tasks_path, annotations = root / "annotation" / "tasks.jsonl", root / "annotation" / "annotations.jsonl"

    _, ingest_report = ingest_step([root / "corpus" / "raw"], articles_path)
    if ingest_report.skipped:
        raise InputError("ingest skipped inputs:\n" + "\n".join(ingest_report.skipped))
    yield f"ingest: {ingest_report.summary()}"
    yield f"split: {split_step(articles_path, sentences_path).summary()}"
    yield f"prelabel: {prelabel_step(sentences_path, tasks_path, settings).summary()}"
    if with_studio:
        connection = connect(settings)
        yield (
            "push: "
            + push_tasks(
                connection, settings, read_records(tasks_path), guidelines=root / "annotation" / "guidelines.md"
            ).summary()
        )
        yield "pull: " + pull_annotations(connection, settings, root / "annotation", sentences_path)[1].summary()
    targets = [p for p in (articles_path, sentences_path, tasks_path, annotations) if p.is_file()]
    _, records, problems = validate_paths(targets, settings=settings)
    if problems:
        raise ValidationError(f"{len(problems)} invalid record(s):\n" + "\n".join(problems[:20]), problems)
    yield f"validate: {records} records valid"
    if not annotations.is_file():
        yield (
            f"run: no {annotations.relative_to(root)} yet; annotate in Label Studio (`newsner push`, then "
            f"`newsner pull`) and run again to build the dataset"
        )
        return
    units = read_units(annotations, settings)
    agreement = agree_step(annotations, root / "reports", settings, predictions=tasks_path, units=units)
    yield f"agree: {agreement['n_units']} units -> reports/"
    out = root / "dist" / settings.dataset["name"]
    published = publish_step(
        annotations, out, settings, tasks=tasks_path, sentences=sentences_path, units=units, agreement=agreement
    )
    yield f"publish: {published.summary()}"
    yield (
        f"run: dataset ready in {out}; load it with: "
        f"python -c 'import datasets; print(datasets.load_dataset({json.dumps(str(out))}))'"
    )
