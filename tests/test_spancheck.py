"""Mechanical guideline checks: each rule, and the cases where none applies."""

from __future__ import annotations

import pytest

from newsner.spancheck import check_records, span_issues


def at(text: str, needle: str) -> tuple[str, int, int]:
    start = text.index(needle)
    return text, start, start + len(needle)


@pytest.mark.parametrize(
    "text, needle, expected",
    [
        ("Putin’s envoy arrived.", "Putin’s", ["possessive"]),
        ("Russia's army moved.", "Russia's", ["possessive"]),
        ("He met the Kremlin staff.", "the Kremlin", ["leading-the"]),
        ("They flew to Paris.", "Paris.", ["punctuation"]),
        ('They said "Almaty" twice.', '"Almaty"', ["punctuation"]),
        ("They flew to Paris now.", "Paris ", ["space"]),
        ("Protests in Almaty grew.", "lmaty", ["cuts-word"]),
        ("Protests in Almaty grew.", "Almat", ["cuts-word"]),
        ("the Ministry’s order", "the Ministry’s", ["leading-the", "possessive"]),
    ],
)
def test_each_rule(text, needle, expected):
    assert span_issues(*at(text, needle)) == expected


@pytest.mark.parametrize(
    "text, needle",
    [
        ("Putin’s envoy arrived.", "Putin"),
        ("Officials in the U.S. agreed.", "U.S."),
        ("Acme Inc. grew.", "Acme Inc."),
        (
            "Organization of the Collective Security Treaty (CSTO) met.",
            "Organization of the Collective Security Treaty",
        ),
        ("The Russian-dominated alliance", "Russian"),
        ("ex-Soviet states", "Soviet"),
        ("Kassym-Jomart Tokayev spoke.", "Kassym-Jomart Tokayev"),
        ("Theodore Roosevelt wrote.", "Theodore Roosevelt"),
        ("Tokayev", "Tokayev"),
    ],
)
def test_no_rule_applies(text, needle):
    assert span_issues(*at(text, needle)) == []


def test_check_records_counts_per_annotator():
    text = "Putin’s envoy met the CSTO chief."
    records = [
        {
            "sentence_id": "s1",
            "annotator": "a",
            "text": text,
            "spans": [{"start": 0, "end": 7, "label": "PER"}, {"start": 18, "end": 26, "label": "ORG"}],
        },
        {"sentence_id": "s1", "annotator": "b", "text": text, "spans": [{"start": 0, "end": 5, "label": "PER"}]},
    ]
    found = check_records((r["sentence_id"], r["annotator"], r["text"], r["spans"]) for r in records)
    assert found["n_spans"] == 2
    assert found["per_annotator"] == {"a": {"leading-the": 1, "possessive": 1}}
    assert [(c["text"], c["issues"]) for c in found["cases"]] == [
        ("Putin’s", ["possessive"]),
        ("the CSTO", ["leading-the"]),
    ]
