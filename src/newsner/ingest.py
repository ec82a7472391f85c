"""Ingest raw articles: normalise text once, strip page boilerplate, assign content-hash ids.

Layout of `.txt`/`.md` inputs (one article per file):

* the first non-empty line is the title and stays in the text as paragraph 0;
* blank lines separate paragraphs;
* a line break inside a block is a *soft wrap* (joined with one space) when the block looks
  hard-wrapped (every line but the last is at least 30 characters and at least 60% of the longest
  line) or when the next line continues the sentence (it starts with a lower-case letter, or the line
  ends with `,`, `;`, `-` or an opening bracket). Otherwise each line is its own paragraph, so a
  headline, subheading or byline is never glued to the following sentence.

`.jsonl` inputs hold one article per line (`text` required; `title`, `url`, `meta` optional); the text
is normalised but otherwise taken as is, and its paragraphs are the blank-line separated blocks.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner.errors import InputError

SUFFIXES = (".txt", ".md", ".jsonl")
ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
CLOSING = ".!?…:\"'”’»)]"


def normalise_text(text: str) -> str:
    """NFC, `\\r\\n`/`\\r` → `\\n`, control and zero-width characters removed (`\\n` and `\\t` kept).

    >>> normalise_text("Cafe\\u0301\\r\\n\\u200bX")
    'Café\\nX'
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(
        ch for ch in text if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in ZERO_WIDTH)
    )


def content_id(*parts: object) -> str:
    """A 16-hex-digit SHA-256 content hash of `parts` (joined with NUL)."""
    return hashlib.sha256("\0".join(map(str, parts)).encode("utf-8")).hexdigest()[:16]


# --- boilerplate rules: name -> predicate(line, title). Extend by adding an entry. -----------------

def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _repeats_title(line: str, title: str) -> bool:
    words, title_words = _words(line), _words(title)
    if not words or len(words) > len(title_words):
        return False
    n = len(words)
    contiguous = any(title_words[i : i + n] == words for i in range(len(title_words) - n + 1))
    return contiguous and (n >= 3 or n * 2 >= len(title_words))


_PATTERNS = {
    "comment_prompt": r"(leave|post|add|write) a (comment|reply)|\d* ?comments?( \(\d+\))?|show comments|"
    r"you must be logged in to post a comment\.?",
    "spam_notice": r"this site uses akismet to reduce spam\..*|learn how your comment data is processed\.?",
    "share_prompt": r"(share|tweet|email|print)( this( article| story)?)?( on \w+)?|share on (facebook|twitter|x)",
    "newsletter": r"(sign up|subscribe) (to|for) (our|the) newsletter.*",
    "advertisement": r"advertisement|sponsored( content)?|ad",
    "related": r"(read more|related( articles| stories)?|see also)\s*:?",
}
_COMPILED = {name: re.compile(rf"\s*(?:{p})\s*", re.IGNORECASE) for name, p in _PATTERNS.items()}

BoilerplateRule = Callable[[str, str], bool]


def _whole_line(pattern: re.Pattern[str]) -> BoilerplateRule:
    """A rule that matches when the whole line matches `pattern`."""
    return lambda line, title: pattern.fullmatch(line) is not None


BOILERPLATE_RULES: dict[str, BoilerplateRule] = {
    **{name: _whole_line(pattern) for name, pattern in _COMPILED.items()},
    "lone_punctuation": lambda line, title: not any(ch.isalnum() for ch in line),
    "repeated_headline": lambda line, title: bool(title) and _repeats_title(line, title),
}


def boilerplate_rule(line: str, title: str) -> str | None:
    """The name of the first boilerplate rule that `line` matches, or None."""
    for name, rule in BOILERPLATE_RULES.items():
        if rule(line, title):
            return name
    return None


# --- records ---------------------------------------------------------------------------------------

@dataclass
class IngestReport:
    """What ingest did: counts, removed boilerplate per rule, skipped inputs with reasons."""

    files: int = 0
    articles: int = 0
    duplicates: list[str] = field(default_factory=list)
    removed: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        removed = ", ".join(f"{k} {v}" for k, v in sorted(self.removed.items())) or "none"
        return (
            f"{self.articles} articles from {self.files} files; boilerplate lines removed: {removed}; "
            f"{len(self.duplicates)} duplicates dropped; {len(self.skipped)} inputs skipped"
        )


def _md_line(line: str) -> str:
    line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)
    line = re.sub(r"^\s{0,3}>\s?", "", line)
    line = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line)
    line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)
    return re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)


def _is_wrapped(lines: list[str]) -> bool:
    if len(lines) < 2:
        return False
    longest = max(len(line) for line in lines)
    return all(len(line) >= 30 and len(line) >= 0.6 * longest for line in lines[:-1])


def _continues(line: str, nxt: str) -> bool:
    return line.rstrip()[-1:] in ",;-–—([" or nxt[:1].islower()


def _blocks_to_paragraphs(blocks: list[list[str]]) -> list[str]:
    paragraphs: list[str] = []
    for lines in blocks:
        if _is_wrapped(lines):
            paragraphs.append(" ".join(lines))
            continue
        current = lines[0]
        for nxt in lines[1:]:
            if _continues(current, nxt) and current.rstrip()[-1:] not in CLOSING:
                current = f"{current} {nxt}"
            else:
                paragraphs.append(current)
                current = nxt
        paragraphs.append(current)
    return paragraphs


def build_article(text: str, *, source: str, title: str | None, removed: Counter, keep_title: bool,
                  meta: dict[str, Any] | None = None, markdown: bool = False) -> dict[str, Any] | None:
    """Clean one article's text into an article record (None when nothing is left)."""
    text = normalise_text(text)
    blocks: list[list[str]] = [[]]
    for raw_line in text.split("\n"):
        line = " ".join((_md_line(raw_line) if markdown else raw_line).split())
        if not line:
            if blocks[-1]:
                blocks.append([])
            continue
        if keep_title and title is None:
            title = line
            blocks[-1].append(line)
            blocks.append([])
            continue
        rule = boilerplate_rule(line, title or "")
        if rule:
            removed[rule] += 1
            continue
        blocks[-1].append(line)
    blocks = [b for b in blocks if b]
    if not blocks:
        return None
    paragraphs = _blocks_to_paragraphs(blocks)
    body = "\n\n".join(paragraphs)
    spans, pos = [], 0
    for paragraph in paragraphs:
        spans.append([pos, pos + len(paragraph)])
        pos += len(paragraph) + 2
    record: dict[str, Any] = {"id": content_id(body), "title": title, "text": body, "source": source,
                              "paragraphs": spans}
    if meta:
        record["meta"] = meta
    return record


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise InputError(f"{path}: empty file")
    if b"\0" in data:
        raise InputError(f"{path}: binary file (contains NUL bytes); only UTF-8 text is read")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 (invalid byte at offset {err.start}); re-save it as UTF-8") from None


def _read_text_file(path: Path, source: str, report: IngestReport) -> list[dict[str, Any]]:
    text = _decode(path, path.read_bytes())
    article = build_article(text, source=source, title=None, removed=report.removed, keep_title=True,
                            markdown=path.suffix == ".md")
    if article is None:
        raise InputError(f"{path}: nothing left after removing boilerplate")
    return [article]


_JSONL_KEYS = {"text", "title", "url", "meta", "id"}


def _read_jsonl_file(path: Path, source: str, report: IngestReport) -> list[dict[str, Any]]:
    text = _decode(path, path.read_bytes())
    articles = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            report.skipped.append(f"{where}: not valid JSON ({err.msg}, column {err.colno})")
            continue
        problem = None
        if not isinstance(obj, dict):
            problem = "expected a JSON object"
        elif not isinstance(obj.get("text"), str) or not obj["text"].strip():
            problem = "`text` is required and must be a non-empty string"
        elif set(obj) - _JSONL_KEYS:
            problem = f"unknown key(s) {sorted(set(obj) - _JSONL_KEYS)}; allowed: text, title, url, meta"
        elif not isinstance(obj.get("title", ""), (str, type(None))) or not isinstance(obj.get("meta", {}), dict):
            problem = "`title` must be a string and `meta` an object"
        if problem:
            report.skipped.append(f"{where}: {problem}")
            continue
        meta = dict(obj.get("meta") or {})
        if obj.get("url"):
            meta["url"] = obj["url"]
        title = normalise_text(obj["title"]).strip() if obj.get("title") else None
        article = build_article(obj["text"], source=where, title=title, removed=Counter(), keep_title=False,
                                meta=meta or None)
        if article is None:
            report.skipped.append(f"{where}: `text` is empty after normalisation")
            continue
        articles.append(article)
    return articles


READERS = {".txt": _read_text_file, ".md": _read_text_file, ".jsonl": _read_jsonl_file}


def _expand(paths: Iterable[str | Path], report: IngestReport) -> list[Path]:
    files: set[Path] = set()
    for path in map(Path, paths):
        if path.is_dir():
            files.update(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            files.add(path)
        else:
            report.skipped.append(f"{path}: no such file or folder")
    return sorted(files, key=lambda p: p.as_posix())


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def ingest(paths: Iterable[str | Path]) -> tuple[list[dict[str, Any]], IngestReport]:
    """Read raw articles from files or folders; return (articles, report).

    Articles come out in source order; an article whose cleaned text was already seen is
    dropped and listed in `report.duplicates`. Bad inputs are listed in `report.skipped` with the
    reason; the good ones are still returned.

    >>> articles, report = ingest(["corpus/raw"])
    """
    report = IngestReport()
    articles: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for path in _expand(paths, report):
        source = _display(path)
        reader = READERS.get(path.suffix.lower())
        if reader is None:
            report.skipped.append(f"{source}: unsupported file type {path.suffix or '(none)'}; use .txt, .md or .jsonl")
            continue
        report.files += 1
        try:
            found = reader(path, source, report)
        except InputError as err:
            report.skipped.append(str(err).replace(str(path), source, 1))
            continue
        for article in found:
            if article["id"] in seen:
                report.duplicates.append(f"{article['source']} repeats {seen[article['id']]}")
                continue
            seen[article["id"]] = article["source"]
            articles.append(article)
    report.articles = len(articles)
    return articles, report
