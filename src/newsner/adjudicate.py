"""Adjudication, shared by `agree` (pre-label quality, annotators against gold), `publish`, `export` and `train`.

Rule, first that applies: a reviewer's decision (`annotation/adjudications.jsonl`, made in the review
project or as a reviewer's ground-truth annotation) wins; then an annotator's annotation flagged
`ground_truth` (the latest if several); otherwise a span is kept when more than half of the sentence's
annotators marked exactly it (same start, end and label). Reviewers are never annotators: their
decisions are not in `annotations.jsonl` and never enter the agreement figures.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from newsner.annotations import Unit

RULE = (
    "a reviewer's decision (made in the review project) wins; then an annotation flagged ground truth; "
    "otherwise a span is kept when more than half of the sentence's annotators marked exactly it "
    "(same start, end and label)"
)
HOWS = ("review", "ground_truth", "majority", "single")


def adjudicate(unit: Unit) -> tuple[list[dict[str, Any]], str, str | None]:
    """Return (spans, how, category): how is "review", "ground_truth", "majority" or "single".

    A reviewer's ground-truth decision counts as "ground_truth", like an annotator's flagged annotation.
    """
    if unit.adjudication is not None:
        decision = unit.adjudication
        return sorted(decision["spans"], key=_key), decision["how"], decision.get("category")
    annotations = list(unit.annotations.values())
    truth = [a for a in annotations if a.get("ground_truth")]
    if truth:
        chosen = max(truth, key=lambda a: a.get("updated_at") or "")
        return sorted(chosen["spans"], key=_key), "ground_truth", chosen.get("category")
    return majority(unit)


def majority(unit: Unit) -> tuple[list[dict[str, Any]], str, str | None]:
    """The spans (and category) more than half of the annotators chose: (spans, "majority"|"single", category)."""
    annotations = list(unit.annotations.values())
    votes = Counter((s["start"], s["end"], s["label"]) for a in annotations for s in a["spans"])
    spans = [{"start": s, "end": e, "label": label} for (s, e, label), n in votes.items() if 2 * n > len(annotations)]
    categories = Counter(a.get("category") for a in annotations if a.get("category") is not None)
    category = None
    if categories:
        value, n = categories.most_common(1)[0]
        category = value if 2 * n > len(annotations) else None
    return sorted(spans, key=_key), ("single" if len(annotations) == 1 else "majority"), category


def version_digest(record: dict[str, Any]) -> str:
    """A short digest of one annotator's version of a sentence (spans and category).

    >>> version_digest({"spans": [{"start": 0, "end": 3, "label": "PER"}]}) == version_digest(
    ...     {"spans": [{"label": "PER", "end": 3, "start": 0}], "category": None})
    True
    """
    spans = sorted((s["start"], s["end"], s["label"]) for s in record["spans"])
    payload = json.dumps([spans, record.get("category")], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def versions(unit: Unit) -> dict[str, str]:
    """annotator -> digest of their version, for every annotation of the unit."""
    return {annotator: version_digest(record) for annotator, record in sorted(unit.annotations.items())}


def is_stale(unit: Unit) -> bool:
    """True when a review decision was made on versions that have changed since (or were not recorded)."""
    decision = unit.adjudication
    return decision is not None and decision["how"] == "review" and decision.get("versions") != versions(unit)


def _key(span: dict[str, Any]) -> tuple[int, int, str]:
    return span["start"], span["end"], span["label"]
