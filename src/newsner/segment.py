"""Paragraph-aware sentence segmentation for news English, with code-point offsets.

Approach (chosen by measurement, see `benchmarks/bench_split.py`): pySBD's rule set finds the
sentence boundaries inside each line of each paragraph; newsner then

* never crosses a paragraph boundary, and breaks at a line break unless the next line starts with a
  lower-case letter (a soft wrap) — so a headline, subheading or byline without a full stop is never
  glued to the next sentence;
* maps every segment back onto the original text by its non-space characters, so
  `text[start:end]` always reproduces the sentence, whatever pySBD does to whitespace;
* applies news-specific repairs: a boundary after `a.m.`/`p.m.` before a weekday, month or time zone is
  removed; `!!!`/`?!` runs before a capitalised word end a sentence; a bare list number or a lone
  closing quote is attached to its neighbour.

`sentence_spans(text)` is the one function other steps reuse.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from newsner.cluster import dask_client, map_in_order
from newsner.ids import sentence_id

_AFTER_TIME = re.compile(
    r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\b|"
    r"(?:local time|[A-Z]{1,4}T|GMT|UTC)\b|\(\d{4} GMT\)|"
    # "5 p.m. Moscow time", "9 a.m. Eastern Standard Time" (but not "Next time, ...")
    r"(?!(?:Next|This|Last|Every|Each|Some|Any|No|That|The|One|At|By)\b)"
    r"[A-Z][a-z]+ (?:[Ss]tandard |[Dd]aylight )?[Tt]ime\b"
)
_STARTERS = (
    "The|Then|He|She|It|They|We|I|You|But|And|This|That|These|Those|There|Their|His|Her|Its|Our|In|On|At|"
    "After|Before|When|While|A|An|So|Yet|Now|Still|However|Meanwhile|Officials|Police|Some|Many|No"
)
# boundaries to add inside a pySBD segment: (name, pattern whose match end is the cut)
SPLIT_RULES = {
    "punctuation_run": re.compile(r"[!?]{2,}(?=\s+[\"“‘'(]?[A-Z])"),
    "initialism_then_starter": re.compile(rf"\b(?:[A-Z]\.){{2,}}(?=\s+(?:{_STARTERS})\b)"),
    "curly_quote_after_stop": re.compile(r"[.!?][’”](?=\s+[\"“‘]?[A-Z])"),
}
_ENDS_TIME = re.compile(r"\b[ap]\.m\.\s*$")
_ENDS_NONFINAL_ABBREV = re.compile(r"\b(?:approx|ca|vs|No|Nos|Art|Fig|pp?|Vol|est|Gen|Col|Lt|Mr|Mrs|Ms|Dr|St)\.\s*$")
_LIST_MARKER = re.compile(r"^\s*(?:\d{1,3}|[a-z])[.)]\s*$")
_LIST_START = re.compile(r"^[a-z][.)]\s")
_CLOSING_ONLY = re.compile(r"^[\s\"'”’»)\]]+$")
# boundaries to remove between two segments: name -> predicate(previous, current); each rule needs at
# most _VIEW characters of the end of `previous` and of the start of `current` (a longer piece is
# never a bare list marker or a lone quote)
_VIEW = 200
MERGE_RULES = {
    "time_then_day": lambda prev, cur: bool(_ENDS_TIME.search(prev) and _AFTER_TIME.match(cur)),
    "abbreviation_then_number": lambda prev, cur: bool(_ENDS_NONFINAL_ABBREV.search(prev)) and cur[:1].isdigit(),
    "lowercase_start": lambda prev, cur: (
        cur[:1].islower() and not prev.rstrip().endswith(("?", "!")) and not _LIST_START.match(cur)
    ),
    "bare_list_marker": lambda prev, cur: bool(_LIST_MARKER.match(prev)),
    "lone_closing_quote": lambda prev, cur: bool(_CLOSING_ONLY.match(cur)),
}


# A sentence is at most MAX_SENTENCE_CHARS long: a longer run (a scraped table, a page without full
# stops) is broken at the nearest safe point before the limit, and counted.
MAX_SENTENCE_CHARS = 1000
# Lines longer than CHUNK_CHARS go to pySBD in pieces cut at unambiguous sentence ends (pySBD's cost
# grows faster than the line length); shorter lines, which is every ordinary paragraph, go whole.
CHUNK_CHARS = 4000
# an unambiguous sentence end: a lower-case word of 3+ letters (not an abbreviation), end punctuation,
# closing quotes, space, then a capitalised word
_SAFE_END = re.compile(r"\b([a-z]{3,})[.!?][\"'”’)]*\s+(?=[\"“‘]?[A-Z][a-z])")
_LOWER_ABBREVIATIONS = frozenset({"etc", "est", "inc", "ltd", "dept", "govt", "approx", "incl", "corp", "misc"})
_BREAK_AT = (re.compile(r"[;:]\s+"), re.compile(r"[,–—]\s+"), re.compile(r"\s+"))


@dataclass
class SplitReport:
    """What split had to do beyond finding boundaries."""

    sentences: int = 0
    articles: int = 0
    runs: list[list[Any]] = field(default_factory=list)  # [where, start, end] of each over-long run
    pieces: int = 0

    @property
    def long_runs(self) -> list[str]:
        """Each over-long run as "<where> at <offset>: <n> characters"."""
        return [f"{where} at {start}: {end - start} characters" for where, start, end in self.runs]

    def add_run(self, text: str, where: str, start: int, end: int, pieces: int) -> None:
        """Record a broken run; one that continues the previous run (only space between) extends it."""
        self.pieces += pieces
        if self.runs and self.runs[-1][0] == where and not text[self.runs[-1][2] : start].strip():
            self.runs[-1][2] = end
        else:
            self.runs.append([where, start, end])

    def add(self, other: SplitReport) -> None:
        """Fold in the report of another batch of articles (runs of different articles never join)."""
        self.sentences += other.sentences
        self.articles += other.articles
        self.runs += other.runs
        self.pieces += other.pieces

    def summary(self) -> str:
        extra = (
            f"; {len(self.long_runs)} runs longer than {MAX_SENTENCE_CHARS} characters broken into "
            f"{self.pieces} pieces at the nearest safe point"
            if self.long_runs
            else ""
        )
        return f"{self.sentences} sentences from {self.articles} articles{extra}"


def _chunks(line: str) -> Iterator[tuple[int, int]]:
    """`[start, end)` pieces of a long line, cut at unambiguous sentence ends (or, with none near, at a space)."""
    start = 0
    while len(line) - start > CHUNK_CHARS:
        window_end = start + CHUNK_CHARS
        cut = None
        for match in _SAFE_END.finditer(line, start + CHUNK_CHARS // 2, window_end):
            if match.group(1) not in _LOWER_ABBREVIATIONS:
                cut = match.end()
        if cut is None:  # no sentence end near: the run is over-long anyway, so any space will do
            space = line.rfind(" ", start + 1, window_end)
            cut = space + 1 if space > start else window_end
        yield start, cut
        start = cut
    yield start, len(line)


def _break_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Break `text[start:end]` into pieces of at most MAX_SENTENCE_CHARS, at the last safe point of each."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = None
        for pattern in _BREAK_AT:
            found = [m.end() for m in pattern.finditer(text, start + MAX_SENTENCE_CHARS // 2, limit)]
            if found:
                cut = found[-1]
                break
        cut = cut or limit
        pieces.append(_trim(text, start, cut, 0)[:2])
        start = cut
    pieces.append(_trim(text, start, end, 0)[:2])
    return [(s, e) for s, e in pieces if s < e]


@functools.cache
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def _align(line: str, pieces: list[str], offset: int) -> list[tuple[int, int]]:
    """Map segment strings back to `[start, end)` in `line` by their non-space characters."""
    cursor = 0
    spans = []
    for piece in pieces:
        chars = [ch for ch in piece if not ch.isspace()]
        if not chars:
            continue
        start = None
        for ch in chars:
            while cursor < len(line) and line[cursor].isspace():
                cursor += 1
            if cursor >= len(line) or line[cursor] != ch:
                return [(offset, offset + len(line))]  # the segmenter changed the text: keep the line whole
            if start is None:
                start = cursor
            cursor += 1
        spans.append((offset + start, offset + cursor))
    if cursor < len(line.rstrip()):
        return [(offset, offset + len(line))]
    return spans


def _cuts(text: str, start: int, end: int) -> list[int]:
    cuts = set()
    for rule in SPLIT_RULES.values():
        cuts.update(m.end() for m in rule.finditer(text, start, end) if text[m.end() : end].strip())
    return sorted(cuts)


def _repair(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        piece_start = start
        for cut in _cuts(text, start, end):
            out.append((piece_start, cut))
            piece_start = cut
        out.append((piece_start, end))
    out = [_trim(text, s, e, 0)[:2] for s, e in out]
    merged: list[tuple[int, int]] = []
    for start, end in out:
        if merged:
            prev_start, prev_end = merged[-1]
            # the rules look at the end of the previous piece and the start of this one: bounded views
            # keep merging linear when a long run grows piece by piece
            prev = text[max(prev_start, prev_end - _VIEW) : prev_end]
            current = text[start : min(end, start + _VIEW)]
            if any(rule(prev, current) for rule in MERGE_RULES.values()):
                merged[-1] = (prev_start, end)
                continue
        merged.append((start, end))
    return merged


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Split `text[start:end]` at line breaks that are not soft wraps."""
    line_start = start
    for match in re.finditer(r"\n", text[start:end]):
        cut = start + match.start()
        after = text[cut + 1 : end].lstrip(" \t")
        if after[:1].islower():
            continue
        yield line_start, cut
        line_start = cut + 1
    yield line_start, end


def _paragraph_blocks(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for match in re.finditer(r"\n[ \t]*\n\s*", text):
        yield pos, match.start()
        pos = match.end()
    yield pos, len(text)


def sentence_spans(
    text: str,
    paragraphs: Iterable[tuple[int, int]] | None = None,
    report: SplitReport | None = None,
    where: str = "text",
) -> list[tuple[int, int, int]]:
    """Return `(start, end, paragraph_index)` for every sentence of `text`.

    `paragraphs` are `[start, end)` ranges (as in an article record); without them, blank lines
    separate paragraphs. Spans never cross a paragraph, hold no leading or trailing whitespace, are at
    most MAX_SENTENCE_CHARS long (longer runs are broken and recorded in `report`), and
    `text[start:end]` is always the sentence. The cost is linear in the length of the text.

    >>> text = "Hi Mr. Li. Bye."
    >>> [text[s:e] for s, e, _ in sentence_spans(text)]
    ['Hi Mr. Li.', 'Bye.']
    """
    segmenter = _segmenter()
    result = []
    for index, (p_start, p_end) in enumerate(paragraphs if paragraphs is not None else _paragraph_blocks(text)):
        for l_start, l_end in _lines(text, p_start, p_end):
            line = text[l_start:l_end]
            if not line.strip():
                continue
            joined = line.replace("\n", " ")
            spans = []
            for c_start, c_end in _chunks(joined):
                chunk = joined[c_start:c_end]
                spans += _align(chunk, segmenter.segment(chunk), l_start + c_start)
            for s, e in _repair(text, spans):
                if not text[s:e].strip():
                    continue
                s, e, _ = _trim(text, s, e, index)
                if e - s <= MAX_SENTENCE_CHARS:
                    result.append((s, e, index))
                    continue
                pieces = _break_long(text, s, e)
                if report is not None:
                    report.add_run(text, where, s, e, len(pieces))
                result.extend((ps, pe, index) for ps, pe in pieces)
    return result


def _trim(text: str, start: int, end: int, paragraph: int) -> tuple[int, int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end, paragraph


def split_article(article: dict[str, Any], report: SplitReport | None = None) -> list[dict[str, Any]]:
    """Sentence records of one article record."""
    text = article["text"]
    sentences = []
    spans = sentence_spans(text, [tuple(p) for p in article["paragraphs"]], report, where=f"article {article['id']}")
    for index, (start, end, paragraph) in enumerate(spans):
        sentence_text = text[start:end]
        sentences.append(
            {
                "id": sentence_id(article["id"], start, sentence_text),
                "article_id": article["id"],
                "index": index,
                "text": sentence_text,
                "start": start,
                "end": end,
                "paragraph": paragraph,
            }
        )
    if report is not None:
        report.articles += 1
        report.sentences += len(sentences)
    return sentences


def split_articles(articles: Iterable[dict[str, Any]], report: SplitReport | None = None) -> Iterator[dict[str, Any]]:
    """Sentence records of many articles, in article order (a generator: constant memory)."""
    for article in articles:
        yield from split_article(article, report)


def split_batch(articles: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], SplitReport]:
    """Sentence records of a batch of articles and their report (the unit of work on a cluster)."""
    report = SplitReport()
    sentences = [sentence for article in articles for sentence in split_article(article, report)]
    return sentences, report


def split_on_dask(
    articles: Iterable[dict[str, Any]],
    report: SplitReport,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    batch_size: int = 64,
) -> Iterator[dict[str, Any]]:
    """`split_articles` on a Dask cluster (`scheduler`) or a local one of `workers`: batches of articles
    split in parallel, the sentences yielded in article order (the same output, byte for byte)."""
    articles = iter(articles)

    def batches() -> Iterator[list[dict[str, Any]]]:
        while batch := list(islice(articles, batch_size)):
            yield batch

    with dask_client(scheduler, workers) as client:
        for found, part in map_in_order(client, split_batch, batches()):
            report.add(part)
            yield from found
