"""Task building: sentence records in, Label Studio tasks out, with the model's entities mapped onto the
project's labels, aligned with the guidelines when asked, scored, and validated where they are made."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from newsner.align import align_span, roles
from newsner.config import Settings
from newsner.errors import ValidationError
from newsner.ids import region_id
from newsner.labelconfig import FROM_NAME, TO_NAME
from newsner.prelabel.decode import GreedyWalker, score, span_probability
from newsner.prelabel.model import load_pipeline, model_name, model_version
from newsner.validate import record_problems


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


@dataclass(frozen=True)
class Job:
    """What a worker needs to pre-label: the settings, the chosen pipeline and the score mode."""

    settings: Settings
    model: str
    scores: str

    @classmethod
    def create(cls, settings: Settings, model: str | None = None, scores: str | None = None) -> Job:
        return cls(settings, model_name(settings, model), scores or settings.prelabel.scores)

    @property
    def key(self) -> str:
        return repr((self.settings.labels, self.settings.prelabel, self.model, self.scores))


class Prelabeller:
    """Turns batches of sentence records into task records (one instance per process)."""

    def __init__(self, job: Job):
        settings, scores = job.settings, job.scores
        self.settings = settings
        self.nlp = load_pipeline(job.model)
        self.align = settings.prelabel.align
        self.roles = roles(settings.labels.from_spacy)
        # aligned predictions are not the model's alone: their version says so
        self.version = model_version(self.nlp) + ("+guidelines" if self.align else "")
        # a model trained by `newsner train` speaks the project's labels: they map onto themselves
        self.label_map = {**settings.labels.from_spacy, **{label: label for label in settings.entities}}
        self.scores = scores
        self.walker = GreedyWalker(self.nlp.get_pipe("ner")) if self.scores == "greedy" else None
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
            probability = span_probability(path, ent.start, ent.end) if path is not None else None
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
                item["score"] = score(probability)
                span_scores.append(item["score"])
            results.append(item)
        prediction: dict[str, Any] = {"model_version": self.version}
        if path is not None:
            if span_scores:
                prediction["score"] = min(span_scores)
            else:  # the least certain "no entity here" decision inside this sentence
                span = doc.char_span(offset, offset + len(text), alignment_mode="expand")
                first, last = (span.start, span.end) if span is not None else (0, len(doc))
                prediction["score"] = score(min((p for _, p in path[first:last]), default=1.0))
        prediction["result"] = results
        return {
            "data": {"text": text, "sentence_id": sentence["id"], "article_id": sentence["article_id"]},
            "predictions": [prediction],
        }


# one Prelabeller per process and job, loaded on first use (or inherited from the parent by a forked worker)
LOADED: dict[str, Prelabeller] = {}


def prelabeller_for(job: Job) -> Prelabeller:
    """This process's Prelabeller for `job`, loading the pipeline the first time."""
    if job.key not in LOADED:
        LOADED[job.key] = Prelabeller(job)
    return LOADED[job.key]


def run_batch(batch: list[dict[str, Any]], job: Job) -> tuple[list[dict[str, Any]], PrelabelReport]:
    """Pre-label one batch in this process (the unit of work of every backend)."""
    return prelabeller_for(job).run(batch)
