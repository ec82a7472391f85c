"""`newsner run`: the offline chain from `corpus/raw/` to `dist/<name>/`, validating at every step."""

from __future__ import annotations

import json
from collections.abc import Iterator

from newsner.config import Settings
from newsner.errors import InputError, ValidationError


def run_pipeline(settings: Settings, *, with_studio: bool = False) -> Iterator[str]:
    """Run ingest, split, prelabel (push and pull with `with_studio`), validate, agree and publish.

    Yields one summary line per step. Stops after validation, with a hint, while
    `annotation/annotations.jsonl` does not exist.

    >>> for line in run_pipeline(load_settings()): print(line)
    """
    from newsner.agreement import agreement_report
    from newsner.agreement_output import write_agreement
    from newsner.annotations import group_units, read_annotations
    from newsner.ingest import ingest
    from newsner.io import read_records, write_jsonl
    from newsner.prelabel import PrelabelReport, prelabel
    from newsner.publish import publish
    from newsner.segment import SplitReport, split_articles
    from newsner.validate import validate_paths

    root = settings.root
    articles_path, sentences_path = root / "corpus" / "articles.jsonl", root / "corpus" / "sentences.jsonl"
    tasks_path, annotations = root / "annotation" / "tasks.jsonl", root / "annotation" / "annotations.jsonl"

    articles, ingest_report = ingest([root / "corpus" / "raw"])
    if ingest_report.skipped:
        raise InputError("ingest skipped inputs:\n" + "\n".join(ingest_report.skipped))
    write_jsonl(articles_path, articles)
    yield f"ingest: {ingest_report.summary()}"
    split_report = SplitReport()
    write_jsonl(sentences_path, split_articles(articles, split_report))
    yield f"split: {split_report.summary()}"
    sentences = read_records(sentences_path)
    report = PrelabelReport()
    write_jsonl(tasks_path, prelabel(sentences, settings, report=report))
    yield f"prelabel: {report.summary()}"
    if with_studio:
        from newsner.studio.client import connect
        from newsner.studio.pull import pull_annotations
        from newsner.studio.push import push_tasks

        connection = connect(settings)
        yield "push: " + push_tasks(connection, settings, read_records(tasks_path),
                                    guidelines=root / "annotation" / "guidelines.md").summary()
        yield "pull: " + pull_annotations(connection, settings, root / "annotation", sentences_path)[1].summary()
    targets = [p for p in (articles_path, sentences_path, tasks_path, annotations) if p.is_file()]
    _, records, problems = validate_paths(targets, settings=settings)
    if problems:
        raise ValidationError(f"{len(problems)} invalid record(s):\n" + "\n".join(problems[:20]), problems)
    yield f"validate: {records} records valid"
    if not annotations.is_file():
        yield (f"run: no {annotations.relative_to(root)} yet; annotate in Label Studio (`newsner push`, then "
               f"`newsner pull`) and run again to build the dataset")
        return
    units = group_units(read_annotations(annotations, settings))
    tasks = read_records(tasks_path)
    write_agreement(agreement_report(units, settings, tasks), root / "reports")
    yield f"agree: {sum(len(u.annotations) >= 2 for u in units)} units -> reports/"
    out = root / "dist" / settings.dataset["name"]
    pull_report_path = root / "annotation" / "pull-report.json"
    pull_report = json.loads(pull_report_path.read_text()) if pull_report_path.is_file() else None
    published = publish(units, settings, out, tasks=tasks, sentences=sentences, pull_report=pull_report,
                        inputs={"annotation/annotations.jsonl": annotations, "annotation/tasks.jsonl": tasks_path,
                                "corpus/sentences.jsonl": sentences_path})
    yield f"publish: {published.summary()}"
    yield (f"run: dataset ready in {out}; load it with: "
           f"python -c 'import datasets; print(datasets.load_dataset({json.dumps(str(out))}))'")
