from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from newsner.cli import app
from newsner.ids import content_id
from newsner.ingest import build_article, ingest, normalise_text
from tests.conftest import SEED

SEED_PARAGRAPH_STARTS = [
    "Military alliance consults: Kazakhstan’s authorities report 8,000 arrests",
    "What’s next in Kazakhstan?",
    "The unprecedented rioting",
    "On Sunday there was confusion",
    "According to the Kremlin from Moscow",
    "According to its own statements",
    "Internet usable again",
    "Kazakhstan, which borders Russia and China",
    "In the morning, people in the economic metropolis",
]


def test_seed_article_is_cleaned():
    articles, report = ingest([SEED])
    assert len(articles) == 1
    article = articles[0]
    text = article["text"]
    assert article["title"] == "Military alliance consults: Kazakhstan’s authorities report 8,000 arrests"
    paragraphs = [text[s:e] for s, e in article["paragraphs"]]
    assert [
        p[: len(start)] for p, start in zip(paragraphs, SEED_PARAGRAPH_STARTS, strict=False)
    ] == SEED_PARAGRAPH_STARTS
    assert len(paragraphs) == 9
    assert "\n\n".join(paragraphs) == text
    assert paragraphs[6] == "Internet usable again"
    for boilerplate in ("Leave a Comment", "Akismet", "\n.\n", "Military alliance consults\n"):
        assert boilerplate not in text
    assert text.count("Military alliance consults") == 1
    assert report.removed == Counter(
        {"repeated_headline": 2, "lone_punctuation": 1, "comment_prompt": 1, "spam_notice": 1}
    )
    assert article["id"] == content_id(text)
    assert article["source"].endswith("corpus/raw/kazakhstan-unrest-2022-01.txt")


def test_normalisation_nfc_crlf_control_zero_width():
    raw = "Cafe\u0301 in Almaty\r\nLine\u200b two\x07\tend\rmore"
    assert normalise_text(raw) == "Café in Almaty\nLine two\tend\nmore"
    assert unicodedata.is_normalized("NFC", normalise_text(raw))


def test_emoji_and_accents_before_a_name_keep_offsets(tmp_path: Path):
    (tmp_path / "a.txt").write_bytes("Headline 🙂\r\n\r\n🙂🙂 Cafe\u0301 talk: Tokayev spoke.\r\n".encode())
    [article], _ = ingest([tmp_path / "a.txt"])
    text = article["text"]
    start = text.index("Tokayev")
    assert text[start : start + 7] == "Tokayev"
    s, e = article["paragraphs"][1]
    assert text[s:e] == "🙂🙂 Café talk: Tokayev spoke."
    assert "\r" not in text


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n \n", "empty file"),
        ("binary.txt", b"\x89PNG\x00\x01\x02", "binary file (contains NUL bytes); only UTF-8 text is read"),
        (
            "latin1.txt",
            "Almaty caf\xe9".encode("latin-1"),
            "not UTF-8 (invalid byte at offset 10); re-save it as UTF-8",
        ),
        ("only-boilerplate.txt", b"Title\n\nLeave a Comment", None),
        ("notes.docx", b"PK", "unsupported file type .docx; use .txt, .md or .jsonl"),
    ],
)
def test_bad_files_are_reported_and_good_ones_kept(tmp_path: Path, name: str, content: bytes, reason: str | None):
    (tmp_path / "good.txt").write_text("Good title\n\nTokayev spoke in Almaty.\n")
    (tmp_path / name).write_bytes(content)
    articles, report = ingest([tmp_path])
    if reason is None:  # a file whose only body is boilerplate keeps its title
        assert len(articles) == 2 and report.skipped == []
        return
    assert [a["title"] for a in articles] == ["Good title"]
    assert report.skipped == [f"{(tmp_path / name).as_posix()}: {reason}"]


def test_bad_jsonl_lines_are_reported_with_line_numbers(tmp_path: Path):
    path = tmp_path / "feed.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"text": "Putin spoke.", "title": "T", "url": "https://example.org/a"}),
                "{not json",
                json.dumps({"title": "no text"}),
                json.dumps({"text": "x", "author": "someone"}),
                json.dumps({"text": "Second good one.", "meta": {"lang": "en"}}),
            ]
        )
    )
    articles, report = ingest([path])
    p = path.as_posix()
    assert [(a["text"], a.get("meta")) for a in articles] == [
        ("Putin spoke.", {"url": "https://example.org/a"}),
        ("Second good one.", {"lang": "en"}),
    ]
    assert articles[0]["source"] == f"{p}:1"
    assert report.skipped == [
        f"{p}:2: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{p}:3: [$] 'text' is required but missing",
        f"{p}:4: [$] unknown key(s) 'author'; remove them (schemas reject unknown keys)",
    ]


def test_jsonl_bodies_are_cleaned_like_text_files_and_the_removals_counted(tmp_path: Path):
    """The contract: boilerplate lines go (and are counted); no title is taken from the body; no Markdown."""
    path = tmp_path / "feed.jsonl"
    body = (
        "Protests in *Almaty*\n\nProtests spread on Wednesday.\n\nLeave a Comment\n\n"
        "Share on Twitter\n\nPolice detained dozens."
    )
    path.write_text(json.dumps({"title": "Protests in Almaty", "text": body, "id": 17}) + "\n")
    [article], report = ingest([path])
    assert article["text"] == "Protests spread on Wednesday.\n\nPolice detained dozens."
    assert article["title"] == "Protests in Almaty" and article["meta"] == {"source_id": 17}
    assert dict(report.removed) == {"comment_prompt": 1, "share_prompt": 1, "repeated_headline": 1}
    assert "boilerplate lines removed: comment_prompt 1, repeated_headline 1, share_prompt 1" in report.summary()


def test_a_jsonl_body_that_is_only_boilerplate_is_listed_not_dropped(tmp_path: Path):
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps({"text": "Leave a Comment"}) + "\n" + json.dumps({"text": "Tokayev spoke."}) + "\n")
    articles, report = ingest([path])
    assert [a["text"] for a in articles] == ["Tokayev spoke."]
    assert report.skipped == [f"{path.as_posix()}:1: nothing left of `text` after removing boilerplate"]
    assert report.removed["comment_prompt"] == 1


def test_ids_are_stable_and_independent_of_file_order(tmp_path: Path):
    (tmp_path / "b.txt").write_text("B title\n\nBody of b.\n")
    (tmp_path / "a.txt").write_text("A title\n\nBody of a.\n")
    first, _ = ingest([tmp_path / "b.txt", tmp_path / "a.txt"])
    second, _ = ingest([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert first == second
    assert [a["id"] for a in first] == [content_id("A title\n\nBody of a."), content_id("B title\n\nBody of b.")]


def test_duplicate_article_kept_once(tmp_path: Path):
    (tmp_path / "a.txt").write_text("Same\n\nText.\n")
    (tmp_path / "b.md").write_text("Same\r\n\r\nText.\r\n")
    articles, report = ingest([tmp_path])
    assert len(articles) == 1
    assert report.duplicates == [f"{(tmp_path / 'b.md').as_posix()} repeats {(tmp_path / 'a.txt').as_posix()}"]


@pytest.mark.parametrize(
    "body, paragraphs",
    [
        # one line per paragraph: each line stands alone
        ("First sentence here.\nSecond one here.", ["First sentence here.", "Second one here."]),
        # a subheading without punctuation is never glued to the next line
        ("Internet usable again\nKazakhstan has calmed.", ["Internet usable again", "Kazakhstan has calmed."]),
        # a hard-wrapped paragraph is joined
        (
            "President Kassym-Shomart Tokayev had ordered by\ndecree to commemorate the many victims of the\nevents.",
            ["President Kassym-Shomart Tokayev had ordered by decree to commemorate the many victims of the events."],
        ),
        # a lower-case continuation is a soft wrap
        ("Short line\ncontinues here.", ["Short line continues here."]),
    ],
)
def test_line_breaks_inside_a_block(body: str, paragraphs: list[str]):
    article = build_article("Title\n\n" + body, source="x", title=None, removed=Counter(), keep_title=True)
    text = article["text"]
    assert [text[s:e] for s, e in article["paragraphs"]][1:] == paragraphs


def test_markdown_headings_and_links(tmp_path: Path):
    (tmp_path / "a.md").write_text("# Big news\n\nThe [CSTO](https://example.org) met in **Moscow**.\n")
    [article], _ = ingest([tmp_path])
    assert article["text"] == "Big news\n\nThe CSTO met in Moscow."


def test_cli_writes_good_articles_and_exits_1_when_something_was_skipped(project: Path, runner):
    (project / "raw").mkdir()
    (project / "raw" / "good.txt").write_text("T\n\nTokayev spoke.\n")
    (project / "raw" / "bad.txt").write_bytes(b"\x00\x01")
    result = runner.invoke(app, ["ingest", "raw", "-o", "articles.jsonl"])
    assert result.exit_code == 1
    assert "skipped raw/bad.txt: binary file" in result.output
    assert "Error: 1 input(s) skipped (listed above); the 1 good articles were written" in result.output
    assert "Traceback" not in result.output
    assert len((project / "articles.jsonl").read_text().splitlines()) == 1


def test_cli_stdout(project: Path, runner):
    (project / "a.txt").write_text("T\n\nTokayev spoke.\n")
    result = runner.invoke(app, ["ingest", "a.txt", "-o", "-"])
    assert result.exit_code == 0
    record = json.loads(result.stdout.splitlines()[0])
    assert record["text"] == "T\n\nTokayev spoke."


def test_markdown_syntax_never_reaches_the_text(tmp_path: Path):
    (tmp_path / "a.md").write_text(
        "# Protests in *Almaty*\n\n"
        "Police said:\n\n"
        "- First point, with **bold** and _emphasis_\n"
        "- Second point with `code` and ![a photo](p.jpg) an image\n\n"
        "1. Numbered item\n"
        "2) Another item\n\n"
        "> A quoted line\n\n"
        "An escaped \\*star\\* and a <span>tag</span> stay text.\n"
    )
    [article], _ = ingest([tmp_path])
    paragraphs = [article["text"][s:e] for s, e in article["paragraphs"]]
    assert paragraphs == [
        "Protests in Almaty",
        "Police said:",
        "First point, with bold and emphasis",
        "Second point with code and an image",
        "Numbered item",
        "Another item",
        "A quoted line",
        "An escaped *star* and a tag stay text.",
    ]
    assert article["title"] == "Protests in Almaty"


def test_front_matter_is_provenance_not_text(tmp_path: Path):
    from newsner.ids import content_id
    from newsner.ingest import ingest

    body = "Protests in Almaty\n\nPolice detained dozens of people in Almaty on Wednesday.\n"
    (tmp_path / "with.txt").write_text(
        "---\nurl: https://example.org/almaty\npublisher: Example News\n"
        "date: 2022-01-05\nrights: CC BY 4.0\n---\n" + body
    )
    (tmp_path / "without.md").write_text(body.replace("Wednesday", "Thursday"))
    articles, report = ingest([tmp_path])
    by_source = {Path(a["source"]).name: a for a in articles}
    assert by_source["with.txt"]["meta"] == {
        "url": "https://example.org/almaty",
        "publisher": "Example News",
        "date": "2022-01-05",
        "rights": "CC BY 4.0",
    }
    assert by_source["with.txt"]["title"] == "Protests in Almaty" and "---" not in by_source["with.txt"]["text"]
    assert by_source["with.txt"]["id"] == content_id(by_source["with.txt"]["text"])
    assert "meta" not in by_source["without.md"] and report.skipped == []


@pytest.mark.parametrize(
    "head, message",
    [
        ("---\nurl: https://example.org\n", "the front matter opened by `---` on line 1 is never closed"),
        ("---\npubisher: Typo News\n---\n", "bad.txt:2: front matter lines are `key: value` with a key among url, "),
    ],
)
def test_bad_front_matter_is_named_with_its_line(tmp_path: Path, head: str, message: str):
    from newsner.ingest import ingest

    (tmp_path / "bad.txt").write_text(head + "Title\n\nA sentence about Almaty.\n")
    articles, report = ingest([tmp_path / "bad.txt"])
    assert articles == [] and len(report.skipped) == 1 and message in report.skipped[0]
