"""`newsner run`: the offline chain from `corpus/raw/` to `dist/<name>/`, validating at every step."""

from __future__ import annotations

import json
from collections.abc import Iterator

from newsner.config import Settings
from newsner.errors import InputError, ValidationError
from newsner.project import ProjectPaths
from newsner.steps import (
    agree_step,
    ingest_step,
    prelabel_step,
    publish_step,
    pull_step,
    push_step,
    read_units,
    split_step,
    validate_step,
)


def run_pipeline(settings: Settings, *, with_studio: bool = False) -> Iterator[str]:
    """Run ingest, split, prelabel (push and pull with `with_studio`), validate, agree and publish.

    Yields one summary line per step. Stops after validation, with a hint, while
    `annotation/annotations.jsonl` does not exist. Every path is the project's default
    (`ProjectPaths`), the same that each command uses when it is given none.

    >>> for line in run_pipeline(load_settings()): print(line)  # doctest: +SKIP
    ingest: 1 articles from 1 files; ...
    """
    paths = ProjectPaths.at(settings.root)
    _, ingest_report = ingest_step([paths.raw], paths.articles, root=paths.root)
    if ingest_report.skipped:
        raise InputError("ingest skipped inputs:\n" + "\n".join(ingest_report.skipped))
    yield f"ingest: {ingest_report.summary()}"
    yield f"split: {split_step(paths.articles, paths.sentences).summary()}"
    yield f"prelabel: {prelabel_step(paths.sentences, paths.tasks, settings).summary()}"
    if with_studio:
        _, pushed = push_step(paths.tasks, settings, guidelines=paths.guidelines)
        yield f"push: {pushed.summary()}"
        _, pulled = pull_step(paths.annotation, settings, sentences=paths.sentences)
        yield f"pull: {pulled.summary()}"
    targets = [p for p in (paths.articles, paths.sentences, paths.tasks, paths.annotations) if p.is_file()]
    _, records, problems = validate_step(targets, settings)
    if problems:
        raise ValidationError(f"{len(problems)} invalid record(s):\n" + "\n".join(problems[:20]), problems)
    yield f"validate: {records} records valid"
    if not paths.annotations.is_file():
        yield (
            f"run: no {paths.annotations.relative_to(paths.root)} yet; annotate in Label Studio (`newsner push`, "
            f"then `newsner pull`) and run again to build the dataset"
        )
        return
    units = read_units(paths.annotations, settings)
    agreement = agree_step(paths.annotations, paths.reports, settings, predictions=paths.tasks, units=units)
    yield f"agree: {agreement['n_units']} units -> reports/"
    out = paths.dataset(settings.dataset.name)
    published = publish_step(
        paths.annotations,
        out,
        settings,
        tasks=paths.tasks,
        sentences=paths.sentences,
        units=units,
        agreement=agreement,
    )
    yield f"publish: {published.summary()}"
    yield (
        f"run: dataset ready in {out}; load it with: "
        f"python -c 'import datasets; print(datasets.load_dataset({json.dumps(str(out))}))'"
    )
