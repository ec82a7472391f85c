"""Reading annotation records (from `pull`, by hand or other tools) and grouping them into units."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner.config import Settings
from newsner.errors import ValidationError
from newsner.io import read_jsonl
from newsner.validate import record_problems, validate_file


@dataclass
class Unit:
    """One sentence with every annotator's annotation of it."""

    sentence_id: str
    article_id: str
    text: str
    annotations: dict[str, dict[str, Any]]  # annotator -> record
    adjudication: dict[str, Any] | None = None  # a reviewer's decision (annotation/adjudications.jsonl)
    _span_sets: dict[str, frozenset[tuple[int, int, str]]] = field(default_factory=dict, repr=False, compare=False)

    def spans(self, annotator: str) -> frozenset[tuple[int, int, str]]:
        """The annotator's spans as (start, end, label) tuples (computed once)."""
        if annotator not in self._span_sets:
            self._span_sets[annotator] = frozenset(
                (s["start"], s["end"], s["label"]) for s in self.annotations[annotator]["spans"]
            )
        return self._span_sets[annotator]


ADJUDICATIONS_FILE = "adjudications.jsonl"  # beside annotations.jsonl: the reviewers' decisions


class Units(list):
    """The units of an annotation file, and the sentence ids of decisions that match no unit (reported)."""

    orphan_adjudications: list[str]

    def __init__(self, units: list[Unit] = (), orphans: list[str] | None = None):
        super().__init__(units)
        self.orphan_adjudications = list(orphans or [])


def read_annotations(path: str | Path, settings: Settings) -> list[dict[str, Any]]:
    """Read and validate `annotations.jsonl`; raise `ValidationError` listing every bad line."""
    labels = set(settings.entities)
    records, problems = [], []
    first_line: dict[tuple[Any, Any], int] = {}
    for number, record in read_jsonl(path):
        found = record_problems("annotation", record, labels)
        key = (record.get("sentence_id"), record.get("annotator"))
        if key in first_line:
            found.append(
                f"[$] a second annotation by {key[1]} (first on line {first_line[key]}); one record per "
                f"sentence and annotator: keep the right one (two rounds concatenated?)"
            )
        else:
            first_line[key] = number
        if "held" in record:
            found.append(
                f"[$.held] held for review ({record['held'].get('reason')}); it belongs in held.jsonl until "
                f"settled in Label Studio (or remove `held` to accept it)"
            )
        if record.get("category") is not None and record.get("category") not in settings.categories:
            found.append(
                f"[$.category] {record['category']!r} is not one of the configured categories {settings.categories}"
            )
        problems.extend(f"{path}:{number}: sentence {record.get('sentence_id')}: {p}" for p in found)
        records.append(record)
    if problems:
        raise ValidationError(f"{path}: {len(problems)} invalid annotation(s):\n" + "\n".join(problems[:50]), problems)
    return records


def read_adjudications(path: str | Path, settings: Settings) -> list[dict[str, Any]]:
    """Read and validate `adjudications.jsonl` (one decision per sentence).

    Raises `ValidationError` listing the bad lines.
    """
    _, problems = validate_file(path, schema="adjudication", settings=settings)
    if problems:
        raise ValidationError(
            f"{path}: {len(problems)} invalid adjudication(s):\n" + "\n".join(problems[:50]), problems
        )
    return [record for _, record in read_jsonl(path)]


def attach_adjudications(units: list[Unit], adjudications: list[dict[str, Any]]) -> list[str]:
    """Give each unit its reviewer's decision; return the sentence ids decided but not annotated (orphans).

    Raises `ValidationError` when a decision was made on another text than the annotators saw.
    """
    by_sentence = {unit.sentence_id: unit for unit in units}
    orphans = []
    for record in adjudications:
        unit = by_sentence.get(record["sentence_id"])
        if unit is None:
            orphans.append(record["sentence_id"])
            continue
        if record["text"] != unit.text:
            raise ValidationError(
                f"sentence {unit.sentence_id}: the adjudication was made on another text than the "
                f"annotations; review the sentence again (`newsner review`) and pull"
            )
        unit.adjudication = record
    return orphans


MAX_ANNOTATORS_PER_SENTENCE = 100  # pairwise agreement grows with the square: 100 annotators are 4,950 pairs


def group_units(records: list[dict[str, Any]]) -> list[Unit]:
    """Group records by sentence; one annotation per annotator (the latest `updated_at` wins).

    Raises `ValidationError` naming the sentence when annotators saw different texts.
    """
    by_sentence: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for record in records:
        current = by_sentence[record["sentence_id"]].get(record["annotator"])
        if current is None or (record.get("updated_at") or "") >= (current.get("updated_at") or ""):
            by_sentence[record["sentence_id"]][record["annotator"]] = record
    crowded = {sid: len(names) for sid, names in by_sentence.items() if len(names) > MAX_ANNOTATORS_PER_SENTENCE}
    if crowded:
        sid, count = max(crowded.items(), key=lambda item: item[1])
        raise ValidationError(
            f"sentence {sid} has {count} annotators ({len(crowded)} sentences have more than "
            f"{MAX_ANNOTATORS_PER_SENTENCE}); newsner compares every pair of annotators, which grows with the square "
            f"of their number: at most {MAX_ANNOTATORS_PER_SENTENCE} per sentence. Check the file (are annotator "
            f"names unique per person?) or split it into rounds"
        )
    units = []
    for sentence_id in sorted(by_sentence):
        annotations = dict(sorted(by_sentence[sentence_id].items()))
        texts = {a["text"] for a in annotations.values()}
        if len(texts) > 1:
            raise ValidationError(
                f"sentence {sentence_id}: annotators saw different texts ({len(texts)} versions); "
                f"re-pull or fix the records so that every annotation of a sentence has the same text"
            )
        first = next(iter(annotations.values()))
        units.append(Unit(sentence_id, first["article_id"], first["text"], annotations))
    return units
