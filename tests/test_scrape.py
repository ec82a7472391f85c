"""Scraped text that is not tidy, through the real CLI: no step may fail with a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from newsner.segment import MAX_SENTENCE_CHARS


def newsner(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "newsner"), *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.mark.slow
def test_a_multi_megabyte_unpunctuated_scrape_goes_through_ingest_split_prelabel(project: Path):
    words = "Almaty Tokayev protesters gathered outside the akimat police arrived later with vans "
    body = (words * (2_100_000 // len(words) + 1))[:2_100_000].strip()
    (project / "corpus" / "raw").mkdir(parents=True)
    (project / "corpus" / "raw" / "table.txt").write_text("Scraped table\n\n" + body + "\n")
    assert newsner("ingest", "corpus/raw", "-o", "corpus/articles.jsonl", cwd=project).returncode == 0
    split = newsner("split", "corpus/articles.jsonl", "-o", "corpus/sentences.jsonl", cwd=project)
    assert split.returncode == 0
    sentences = [json.loads(line) for line in (project / "corpus" / "sentences.jsonl").read_text().splitlines()]
    pieces = len(sentences) - 1  # the title is a sentence of its own
    assert f"1 runs longer than {MAX_SENTENCE_CHARS} characters broken into {pieces} pieces" in split.stderr
    assert f"at 15: {len(body)} characters" in split.stderr
    assert max(len(s["text"]) for s in sentences) <= MAX_SENTENCE_CHARS
    assert "".join(s["text"] for s in sentences[1:]).replace(" ", "") == body.replace(" ", "")
    # the title and the first 300 pieces of the broken run (throughput is the benchmarks' business)
    sample = "".join((project / "corpus" / "sentences.jsonl").read_text().splitlines(keepends=True)[:301])
    (project / "corpus" / "sample.jsonl").write_text(sample)
    prelabel = newsner(
        "prelabel", "corpus/sample.jsonl", "-o", "annotation/tasks.jsonl", "--n-process", "2", cwd=project
    )
    assert prelabel.returncode == 0, prelabel.stderr
    assert "prelabel: 301 tasks" in prelabel.stderr


def test_prelabel_refuses_an_over_long_hand_made_sentence_with_a_clear_error(project: Path):
    from newsner.ids import content_id, sentence_id

    text = "word " * 400
    article = content_id("x")
    record = {
        "id": sentence_id(article, 0, text.strip()),
        "article_id": article,
        "index": 0,
        "text": text.strip(),
        "start": 0,
        "end": len(text.strip()),
        "paragraph": 0,
    }
    (project / "sentences.jsonl").write_text(json.dumps(record) + "\n")
    result = newsner("prelabel", "sentences.jsonl", "-o", "tasks.jsonl", cwd=project)
    assert result.returncode == 1
    assert "sentences.jsonl:1: [$.text]" in result.stderr and "is too long" in result.stderr


def test_the_library_refuses_an_over_long_sentence_by_id():
    from newsner.config import load_settings
    from newsner.errors import InputError
    from newsner.prelabel import prelabel
    from tests.conftest import ROOT

    record = {
        "id": "s-long",
        "article_id": "a",
        "index": 0,
        "text": "x " * 600,
        "start": 0,
        "end": 1200,
        "paragraph": 0,
    }
    with pytest.raises(InputError) as err:
        list(prelabel([record], load_settings(ROOT / "newsner.toml")))
    assert str(err.value) == (
        "sentence s-long is 1200 characters long; a sentence is at most 1000: run `newsner split`, "
        "which breaks longer runs at the nearest safe point"
    )
