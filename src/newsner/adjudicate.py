"""Adjudication, shared by `agree` (pre-label quality) and `publish`.

Rule: a `ground_truth` annotation wins (the latest one if several); otherwise a span is kept when
more than half of the sentence's annotators marked exactly it (same start, end and label).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from newsner.annotations import Unit

RULE = ("a ground-truth annotation wins; otherwise a span is kept when more than half of the sentence's "
        "annotators marked exactly it (same start, end and label)")


def adjudicate(unit: Unit) -> tuple[list[dict[str, Any]], str, str | None]:
    """Return (spans, how, category): how is "ground_truth", "majority" or "single"."""
    annotations = list(unit.annotations.values())
    truth = [a for a in annotations if a.get("ground_truth")]
    if truth:
        chosen = max(truth, key=lambda a: a.get("updated_at") or "")
        return sorted(chosen["spans"], key=_key), "ground_truth", chosen.get("category")
    votes = Counter((s["start"], s["end"], s["label"]) for a in annotations for s in a["spans"])
    spans = [{"start": s, "end": e, "label": label} for (s, e, label), n in votes.items() if 2 * n > len(annotations)]
    categories = Counter(a.get("category") for a in annotations if a.get("category") is not None)
    category = None
    if categories:
        value, n = categories.most_common(1)[0]
        category = value if 2 * n > len(annotations) else None
    return sorted(spans, key=_key), ("single" if len(annotations) == 1 else "majority"), category


def _key(span: dict[str, Any]) -> tuple[int, int, str]:
    return span["start"], span["end"], span["label"]
