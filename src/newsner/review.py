"""What goes into the review project: the sentences that need a decision, each as one Label Studio task.

A review task shows every annotator's version of the sentence as its own prediction, named by the
annotator's pseudonym (never an e-mail), and a proposed merge (the spans more than half of them
marked), which is the project's model version: the reviewer's draft starts from it. Scores order the
work: the merge's score is the sentence's agreement (mean pairwise exact span F1), so Label Studio's
uncertainty sampling serves the worst-agreeing sentence first; an annotator's score is how well their
version agrees with the others'.

The task's data carries the digests of the versions on screen (`versions`) and when newsner last
changed them (`versions_at`), so `pull` can record what the reviewer saw and `review` can tell a
sentence whose annotations changed after its decision.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from newsner.adjudicate import majority, versions
from newsner.agreement import _total, f1, match_counts, unit_agreement
from newsner.annotations import Unit
from newsner.labelconfig import CATEGORY_NAME, FROM_NAME, TO_NAME

MERGE = "merge"  # the model version of the proposed merge, and of the review project
SELECTIONS = ("disagreements", "all")


def disagrees(unit: Unit) -> bool:
    """True when the sentence's annotators did not all mark the same spans and category."""
    return len(set(versions(unit).values())) > 1


def _audit_pick(seed: str, sentence_id: str, fraction: float) -> bool:
    digest = hashlib.sha256(f"{seed}|audit|{sentence_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


@dataclass
class Selected:
    unit: Unit
    reason: str  # "disagreement", "all" or "audit"
    agreement: float


def select_for_review(
    units: list[Unit], *, select: str = "disagreements", audit_fraction: float = 0.0, seed: str = "newsner"
) -> list[Selected]:
    """The sentences (with two or more annotators) that need a decision, worst agreement first.

    `select="disagreements"` takes those whose versions differ, plus `audit_fraction` of the agreeing
    ones (a seeded hash of the sentence id: the same sentences on every run); `select="all"` takes every
    multiply-annotated sentence.
    """
    if select not in SELECTIONS:
        raise ValueError(f"select must be one of {SELECTIONS}, not {select!r}")
    chosen = []
    for unit in units:
        if len(unit.annotations) < 2:
            continue
        if disagrees(unit):
            reason = "disagreement"
        elif select == "all":
            reason = "all"
        elif audit_fraction and _audit_pick(seed, unit.sentence_id, audit_fraction):
            reason = "audit"
        else:
            continue
        chosen.append(Selected(unit, reason, unit_agreement(unit) or 0.0))
    return sorted(chosen, key=lambda s: (s.agreement, s.unit.sentence_id))


def _result(unit: Unit, spans: list[dict[str, Any]], category: str | None, prefix: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = [
        {
            "id": f"{prefix}{i}",
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "value": {
                "start": s["start"],
                "end": s["end"],
                "text": unit.text[s["start"] : s["end"]],
                "labels": [s["label"]],
            },
        }
        for i, s in enumerate(sorted(spans, key=lambda s: (s["start"], s["end"], s["label"])))
    ]
    if category is not None:
        result.append(
            {
                "id": f"{prefix}c",
                "from_name": CATEGORY_NAME,
                "to_name": TO_NAME,
                "type": "choices",
                "value": {"choices": [category]},
            }
        )
    return result


def _agreement_with_others(unit: Unit, annotator: str) -> float:
    """Mean exact span F1 of one annotator's version against each other annotator's (1.0 when both empty)."""
    values = []
    for other in unit.annotations:
        if other != annotator:
            value = f1(*_total(match_counts(unit.spans(annotator), unit.spans(other), "exact")))
            values.append(1.0 if value is None else value)
    return round(sum(values) / len(values), 4) if values else 1.0


def review_predictions(unit: Unit) -> list[dict[str, Any]]:
    """The merge and every annotator's version, as Label Studio predictions.

    Label Studio shows the newest prediction's tab first, so the merge comes first here and the
    annotators in reverse order: on screen the annotators read in pseudonym order, then the merge.
    """
    spans, _, category = majority(unit)
    predictions = [
        {"model_version": MERGE, "score": unit_agreement(unit) or 0.0, "result": _result(unit, spans, category, "m")}
    ]
    for n, (annotator, record) in reversed(list(enumerate(sorted(unit.annotations.items())))):
        predictions.append(
            {
                "model_version": annotator,
                "score": _agreement_with_others(unit, annotator),
                "result": _result(unit, record["spans"], record.get("category"), f"v{n}-"),
            }
        )
    return predictions


def review_data(selected: Selected, versions_at: str) -> dict[str, Any]:
    """The task data: the sentence, why it is here, its agreement and the versions on screen."""
    unit = selected.unit
    return {
        "text": unit.text,
        "sentence_id": unit.sentence_id,
        "article_id": unit.article_id,
        "reason": selected.reason,
        "agreement": selected.agreement,
        "versions": versions(unit),
        "versions_at": versions_at,
    }


def review_task(selected: Selected, versions_at: str) -> dict[str, Any]:
    """One review task in Label Studio's import format."""
    return {"data": review_data(selected, versions_at), "predictions": review_predictions(selected.unit)}
