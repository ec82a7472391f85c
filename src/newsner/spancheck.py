"""Mechanical guideline checks on span boundaries (annotation/guidelines.md, "Where a span starts and ends").

They list, never rewrite: a flagged span may still be right ("The Hague"), so the adjudicator decides.
Used by `pull` (listed per annotator in the pull report) and `agree` (counted in the agreement report).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any

from newsner.align import RULES, Roles

CHECKS = {
    "space": "leading or trailing space",
    "punctuation": "leading or trailing punctuation or quote",
    "leading-the": "starts with 'the'",
    "possessive": "ends with a possessive 's",
    "cuts-word": "starts or ends inside a word",
}
# checks that are guideline rules newsner.align can apply: a span breaks one when the rule would change it
ALIGN_RULES = ("leading-the", "possessive")
# a final full stop that belongs to the name: U.S., Jr., Inc., St.
_ABBREVIATION = re.compile(r"(?:\b(?:[A-Z]\.)+|\b(?:Jr|Sr|Inc|Co|Corp|Ltd|St|Mt|Bros|Dr|Mr|Mrs|Ms|Gen|Sen|Rep)\.)$")
_CLOSERS = {")": "(", "]": "["}


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def span_issues(text: str, start: int, end: int) -> list[str]:
    """The check codes (keys of `CHECKS`) that the span `text[start:end]` breaks, in `CHECKS` order.

    >>> span_issues("Putin’s envoy", 0, 7)
    ['possessive']
    >>> span_issues("in the Kremlin.", 3, 14)
    ['leading-the']
    """
    span = text[start:end]
    found = []
    if span != span.strip():
        found.append("space")
    core = span.strip()
    if core:
        first, last = core[0], core[-1]
        bad_first = _is_punct(first) and first not in "([$£€"
        bad_last = _is_punct(last) and not (
            (last == "." and _ABBREVIATION.search(core)) or (last in _CLOSERS and _CLOSERS[last] in core)
        )
        if bad_first or bad_last:
            found.append("punctuation")
        core_start = start + len(span) - len(span.lstrip())
        core_end = core_start + len(core)
        found += [
            name
            for name in ALIGN_RULES
            if RULES[name](text, core_start, core_end, "", Roles()) != (core_start, core_end, "")
        ]
    starts_inside = 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum()
    ends_inside = 0 < end < len(text) and text[end - 1].isalnum() and text[end].isalnum()
    if starts_inside or ends_inside:
        found.append("cuts-word")
    return found


def check_records(items: Iterable[tuple[str, str, str, list[dict[str, Any]]]], limit: int = 50) -> dict[str, Any]:
    """Guideline issues of annotations given as (sentence_id, annotator, text, spans).

    Returns counts per annotator and check, and the first `limit` cases (sentence_id, annotator, span,
    its text and the check codes).
    """
    counts: dict[str, Counter] = {}
    cases: list[dict[str, Any]] = []
    total = 0
    for sentence_id, annotator, text, spans in items:
        for span in spans:
            issues = span_issues(text, span["start"], span["end"])
            if not issues:
                continue
            total += 1
            counts.setdefault(annotator, Counter()).update(issues)
            if len(cases) < limit:
                cases.append(
                    {
                        "sentence_id": sentence_id,
                        "annotator": annotator,
                        "start": span["start"],
                        "end": span["end"],
                        "label": span["label"],
                        "text": text[span["start"] : span["end"]],
                        "issues": issues,
                    }
                )
    return {
        "n_spans": total,
        "checks": dict(CHECKS),
        "per_annotator": {name: dict(sorted(c.items())) for name, c in sorted(counts.items())},
        "cases": cases,
    }
