"""`prelabel()`: sentence records in, validated Label Studio tasks out, streaming, on any backend."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby, islice
from typing import Any

from newsner.config import Settings
from newsner.errors import InputError
from newsner.prelabel.backends import choose_backend
from newsner.prelabel.tasks import Job, PrelabelReport
from newsner.segment import MAX_SENTENCE_CHARS


@dataclass(frozen=True)
class PrelabelOptions:
    """How one run pre-labels; an option left None takes its `[prelabel]` setting.

    `n_process > 1` shards batches across worker processes that each load the model once and send back
    only task records. `scheduler` (a Dask scheduler address, else `DASK_SCHEDULER_ADDRESS`) or `workers`
    (a local Dask cluster of that many workers) run the batches on Dask instead (`newsner.cluster`); the
    output is the same, byte for byte.
    """

    model: str | None = None  # a spaCy pipeline name or path
    n_process: int | None = None
    batch_size: int | None = None
    scores: str | None = None  # "greedy" or "none"
    scheduler: str | None = None
    workers: int | None = None


def prelabel(
    sentences: Iterable[dict[str, Any]],
    settings: Settings,
    options: PrelabelOptions | None = None,
    *,
    report: PrelabelReport | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one validated Label Studio task per sentence, streaming (constant memory).

    `report` (if given) is filled in as tasks are produced; `options` choose the model and where it runs.

    >>> from newsner.config import settings_from_dict
    >>> settings = settings_from_dict({"labels": {"entities": ["PER", "ORG", "LOC", "MISC"]}})
    >>> text = "Angela Merkel met Joe Biden in Paris."
    >>> sentence = {"id": "0" * 16, "article_id": "1" * 16, "index": 0, "text": text, "start": 0, "end": 37,
    ...             "paragraph": 0}
    >>> [task] = prelabel([sentence], settings)
    >>> [(r["value"]["text"], r["value"]["labels"][0]) for r in task["predictions"][0]["result"]]
    [('Angela Merkel', 'PER'), ('Joe Biden', 'PER'), ('Paris', 'LOC')]
    """
    report = report if report is not None else PrelabelReport()
    options = options or PrelabelOptions()
    job = Job.create(settings, options.model, options.scores)
    backend = choose_backend(
        n_process=options.n_process or settings.prelabel.n_process, scheduler=options.scheduler, workers=options.workers
    )
    size = options.batch_size or settings.prelabel.batch_size
    parts = batches(within_limit(sentences), size, settings.prelabel.context == "paragraph")
    for tasks, part in backend.run(parts, job):
        report.add(part)
        yield from tasks


def batches(sentences: Iterable[dict[str, Any]], size: int, by_paragraph: bool) -> Iterator[list[dict[str, Any]]]:
    """Batches of about `size` sentences; in paragraph context a paragraph is never cut."""
    iterator = iter(sentences)
    if not by_paragraph:
        while batch := list(islice(iterator, size)):
            yield batch
        return
    batch: list[dict[str, Any]] = []
    for _, group in groupby(iterator, key=lambda s: (s["article_id"], s["paragraph"])):
        batch.extend(group)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def within_limit(sentences: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The sentences, checked one by one as they stream past: a sentence longer than the limit is an error."""
    for sentence in sentences:
        if len(sentence["text"]) > MAX_SENTENCE_CHARS:
            raise InputError(
                f"sentence {sentence.get('id')} is {len(sentence['text'])} characters long; a sentence is at most "
                f"{MAX_SENTENCE_CHARS}: run `newsner split`, which breaks longer runs at the nearest safe point"
            )
        yield sentence
