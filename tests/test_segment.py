from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsner.ids import sentence_id
from newsner.ingest import ingest
from newsner.segment import sentence_spans, split_article
from tests.conftest import DATA, SEED

CASES = [json.loads(line) for line in (DATA / "sentence_cases.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['kind']}-{i}" for i, c in enumerate(CASES)])
def test_boundary_case(case):
    text = case["text"]
    assert [text[s:e] for s, e, _ in sentence_spans(text)] == case["sentences"]


def test_cases_cover_every_phenomenon_of_the_issue():
    kinds = {c["kind"] for c in CASES}
    assert {
        "abbreviation",
        "title",
        "initials",
        "time",
        "decimal",
        "price",
        "percent",
        "quote",
        "punctuation-run",
        "ellipsis",
        "list",
        "dateline",
        "email",
        "url",
        "headline",
    } <= kinds
    assert len(CASES) >= 40


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_offsets_always_reproduce_the_text(text):
    spans = sentence_spans(text)
    previous_end = 0
    for start, end, _ in spans:
        assert previous_end <= start < end <= len(text)
        assert text[start:end].strip() == text[start:end]
        previous_end = end
    covered = "".join(text[s:e] for s, e, _ in spans)
    assert [c for c in covered if not c.isspace()] == [c for c in text if not c.isspace()]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from([c["text"] for c in CASES]), min_size=1, max_size=6),
    st.sampled_from([" ", "\n\n", "  \n \n"]),
)
def test_never_crosses_a_paragraph(pieces, separator):
    text = separator.join(pieces)
    for start, end, _ in sentence_spans(text):
        assert "\n\n" not in text[start:end] and "\n \n" not in text[start:end]


@pytest.fixture(scope="module")
def seed_sentences():
    [article], _ = ingest([SEED])
    return article, split_article(article)


def test_seed_article_sentences(seed_sentences):
    article, sentences = seed_sentences
    texts = [s["text"] for s in sentences]
    assert "What’s next in Kazakhstan?" in texts
    assert "Internet usable again" in texts
    assert texts[0] == "Military alliance consults: Kazakhstan’s authorities report 8,000 arrests"
    for boilerplate in ("Leave a Comment", "Akismet", "Learn how"):
        assert not any(boilerplate in t for t in texts)
    assert len(sentences) == 34
    for s in sentences:
        assert article["text"][s["start"] : s["end"]] == s["text"]
        p_start, p_end = article["paragraphs"][s["paragraph"]]
        assert p_start <= s["start"] < s["end"] <= p_end
        assert s["id"] == sentence_id(article["id"], s["start"], s["text"])
    assert [s["index"] for s in sentences] == list(range(34))


def test_split_is_deterministic(seed_sentences):
    article, sentences = seed_sentences
    assert split_article(article) == sentences


def test_chunking_a_long_line_changes_no_boundary_on_ordinary_text(monkeypatch):
    import newsner.segment as segment
    from newsner.ingest import ingest
    from tests.conftest import ROOT

    [article], _ = ingest([ROOT / "corpus" / "raw"])
    body = " ".join(article["text"][s:e].replace("\n", " ") for s, e in article["paragraphs"][1:])
    text = " ".join([body] * (30_000 // len(body) + 1))
    assert len(text) > 3 * segment.CHUNK_CHARS
    chunked = segment.sentence_spans(text)
    monkeypatch.setattr(segment, "CHUNK_CHARS", 10**9)
    assert chunked == segment.sentence_spans(text)


def test_an_unpunctuated_run_is_broken_at_safe_points_and_counted():
    from newsner.segment import MAX_SENTENCE_CHARS, SplitReport, sentence_spans

    words = "protesters gathered outside the akimat, police arrived later with vans and dogs; "
    text = (words * 400).strip()
    report = SplitReport()
    spans = sentence_spans(text, report=report, where="article x")
    assert report.long_runs == [f"article x at 0: {len(text)} characters"] and report.pieces == len(spans)
    assert all(e - s <= MAX_SENTENCE_CHARS for s, e, _ in spans)
    assert all(text[e - 1] == ";" for s, e, _ in spans[:-1]), "not broken at the nearest safe point"
    assert "".join(text[s:e] for s, e, _ in spans).replace(" ", "") == text.replace(" ", ""), "text was lost"


def test_a_token_longer_than_a_sentence_is_cut_hard():
    from newsner.segment import MAX_SENTENCE_CHARS, sentence_spans

    text = "x" * (2 * MAX_SENTENCE_CHARS + 5)
    assert [(s, e) for s, e, _ in sentence_spans(text)] == [(0, 1000), (1000, 2000), (2000, 2005)]
