"""Dataset rows: every sentence adjudicated, tokenised into IOB2 tags and assigned its split.

The one place rows are built; `publish` streams them to parquet, `export` and `train` take them in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from newsner.adjudicate import adjudicate
from newsner.agreement import unit_agreement
from newsner.annotations import Unit
from newsner.config import Settings
from newsner.errors import PublishError, SplitError
from newsner.partition import SPLITS, split_groups
from newsner.tokens import class_names, iob2_tags, tokenizer_nlp
from newsner.validate import record_problems


@dataclass
class RowsReport:
    """What building the rows found: rows and labels per split, how each sentence was decided."""

    rows: Counter = field(default_factory=Counter)
    how: Counter = field(default_factory=Counter)
    misaligned: int = 0
    labels: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SPLITS})
    groups: Counter = field(default_factory=Counter)  # articles (or paragraphs) per split

    def summary(self) -> str:
        return (
            " / ".join(f"{split} {self.rows[split]}" for split in SPLITS)
            + " sentences; adjudicated: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.how.items()))
            + f"; {self.misaligned} spans not on token boundaries (tagged O, counted)"
        )


def iter_rows(
    units: list[Unit], settings: Settings, split_of: dict[str, str], report: RowsReport
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (file name, row): dataset rows under `<split>`, the per-annotator layer under
    `annotations/<split>`. Adjudicates and tokenises one unit at a time (constant memory)."""
    nlp = tokenizer_nlp(settings.dataset.language)
    names = class_names(settings.entities)
    code = {name: i for i, name in enumerate(names)}
    for unit, doc in zip(units, nlp.pipe(u.text for u in units), strict=True):
        split = split_of[unit.sentence_id]
        spans, how, category = adjudicate(unit)
        report.how[how] += 1
        tags, bad = iob2_tags(doc, spans)
        report.misaligned += bad
        row: dict[str, Any] = {
            "id": unit.sentence_id,
            "article_id": unit.article_id,
            "text": unit.text,
            "tokens": [t.text for t in doc],
            "ner_tags": [code[t] for t in tags],
            "spans": spans,
        }
        if settings.categories:
            row["category"] = settings.categories.index(category) if category in settings.categories else None
        row["n_annotators"] = len(unit.annotations)
        row["agreement"] = unit_agreement(unit)
        report.rows[split] += 1
        report.labels[split].update(s["label"] for s in spans)
        yield split, row
        for annotator, record in unit.annotations.items():
            yield (
                f"annotations/{split}",
                {
                    "sentence_id": unit.sentence_id,
                    "article_id": unit.article_id,
                    "annotator": annotator,
                    "text": unit.text,
                    "spans": record["spans"],
                    "category": record.get("category"),
                    "ground_truth": bool(record.get("ground_truth")),
                },
            )


def check_row(name: str, row: dict[str, Any]) -> None:
    if not name.startswith("annotations/"):
        problems = record_problems("dataset-row", row)
        if problems:
            raise PublishError(f"sentence {row['id']}: " + "; ".join(problems))


def assign_splits(
    units: list[Unit],
    settings: Settings,
    sentences: list[dict[str, Any]] | None = None,
    report: RowsReport | None = None,
) -> dict[str, str]:
    """sentence_id -> "train"/"validation"/"test", grouped by article (or paragraph) with a seeded hash."""
    if not units:
        raise PublishError("no annotated sentences to publish; pull annotations first (`newsner pull`)")
    group_of = {u.sentence_id: u.article_id for u in units}
    if settings.split.group_by == "paragraph":
        if sentences is None:
            raise SplitError('[split] group_by = "paragraph" needs corpus/sentences.jsonl to find paragraphs')
        paragraphs = {s["id"]: f"{s['article_id']}:{s['paragraph']}" for s in sentences}
        missing = [u.sentence_id for u in units if u.sentence_id not in paragraphs]
        if missing:
            raise SplitError(f"sentence {missing[0]} (and {len(missing) - 1} more) is not in corpus/sentences.jsonl")
        group_of = {u.sentence_id: paragraphs[u.sentence_id] for u in units}
    groups = split_groups(
        list(group_of.values()),
        settings.split.seed,
        settings.split.test_fraction,
        settings.split.validation_fraction,
    )
    if report is not None:
        report.groups.update(groups.values())
    return {sid: groups[group] for sid, group in group_of.items()}


def dataset_rows(
    units: list[Unit], settings: Settings, *, sentences: list[dict[str, Any]] | None = None
) -> tuple[dict[str, list], RowsReport]:
    """All rows in memory, per file name (for `export`; `publish` streams instead)."""
    report = RowsReport()
    rows: dict[str, list] = {s: [] for s in SPLITS} | {f"annotations/{s}": [] for s in SPLITS}
    for name, row in iter_rows(units, settings, assign_splits(units, settings, sentences, report), report):
        check_row(name, row)
        rows[name].append(row)
    return rows, report
