"""Ingest raw articles: normalise text once, strip page boilerplate, assign content-hash ids.

Layout of `.txt`/`.md` inputs (one article per file):

* the first non-empty line is the title and stays in the text as paragraph 0;
* blank lines separate paragraphs;
* a line break inside a block is a *soft wrap* (joined with one space) when the block looks
  hard-wrapped (every line but the last is at least 30 characters and at least 60% of the longest
  line) or when the next line continues the sentence (it starts with a lower-case letter, or the line
  ends with `,`, `;`, `-` or an opening bracket). Otherwise each line is its own paragraph, so a
  headline, subheading or byline is never glued to the following sentence.

`.md` inputs are parsed as Markdown (CommonMark, markdown-it-py) and reduced to their plain text first:
headings, paragraphs, list items and quotes become blocks without their markers; emphasis, links and
code keep only their text; images and raw HTML are dropped. Then they are read like `.txt`.

`.jsonl` inputs hold one article per line (schema `raw-article`: `text` required; `title`, `url`,
`meta`, `id` optional). The body is cleaned exactly like a `.txt` body (normalised, boilerplate lines
removed and counted), but no title is taken from it (the `title` key is metadata) and it is not read
as Markdown. A bad line is skipped and listed with its line number; the others are kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner.errors import InputError
from newsner.ids import article_id
from newsner.io import read_jsonl
from newsner.schemas import schema_errors

ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
CLOSING = ".!?…:\"'”’»)]"


def normalise_text(text: str) -> str:
    """NFC, `\\r\\n`/`\\r` → `\\n`, control and zero-width characters removed (`\\n` and `\\t` kept).

    >>> normalise_text("Cafe\\u0301\\r\\n\\u200bX")
    'Café\\nX'
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(ch for ch in text if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in ZERO_WIDTH))


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


def markdown_to_text(source: str) -> str:
    """The plain text of a Markdown document: one block per heading, paragraph, list item or quote line.

    Blocks are separated by blank lines; a soft line break stays a line break (the wrap rules decide).

    >>> print(markdown_to_text("# Protests in *Almaty*\\n\\n- First **point**, [link](http://x)\\n- Second"))
    Protests in Almaty
    <BLANKLINE>
    First point, link
    <BLANKLINE>
    Second
    """
    from markdown_it import MarkdownIt

    blocks = []
    for token in MarkdownIt("commonmark").parse(source):
        if token.type == "inline":
            text = "".join(_INLINE_TEXT.get(child.type, lambda c: "")(child) for child in token.children or [])
            if text.strip():
                blocks.append(text)
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(blocks)


_INLINE_TEXT = {
    "text": lambda t: t.content,
    "code_inline": lambda t: t.content,
    "softbreak": lambda t: "\n",
    "hardbreak": lambda t: "\n",
}


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


def build_article(
    text: str, *, source: str, title: str | None, removed: Counter, keep_title: bool, meta: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Clean one article's text into an article record (None when nothing is left)."""
    text = normalise_text(text)
    blocks: list[list[str]] = [[]]
    for raw_line in text.split("\n"):
        line = " ".join(raw_line.split())
        if not line:
            if blocks[-1]:
                blocks.append([])
            continue
        if keep_title and title is None:
            rule = boilerplate_rule(line, "")
            if rule:  # page furniture above the headline ("Advertisement") is no title
                removed[rule] += 1
                continue
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
    record: dict[str, Any] = {
        "id": article_id(body),
        "title": title,
        "text": body,
        "source": source,
        "paragraphs": spans,
    }
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


FRONT_MATTER_KEYS = ("url", "publisher", "author", "date", "license", "rights", "language", "title")


def front_matter(text: str, path: Path) -> tuple[dict[str, str], str]:
    r"""Split a leading `---` block of `key: value` lines (provenance) from the article text.

    Keys: url, publisher, author, date, license, rights, language, title (kept in `meta`); the rest of the
    file is the article.

    >>> front_matter("---\nurl: https://example.org/a\npublisher: Example News\n---\nTitle\n", Path("a.txt"))
    ({'url': 'https://example.org/a', 'publisher': 'Example News'}, 'Title\n')
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise InputError(
            f"{path}: the front matter opened by `---` on line 1 is never closed; add a `---` line after it"
        ) from None
    meta: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in FRONT_MATTER_KEYS:
            raise InputError(
                f"{path}:{number}: front matter lines are `key: value` with a key among "
                f"{', '.join(FRONT_MATTER_KEYS)}; got {line.strip()!r}"
            )
        meta[key] = value.strip()
    return meta, "\n".join(lines[end + 1 :])


def _read_text_file(path: Path, source: str, report: IngestReport) -> list[dict[str, Any]]:
    meta, text = front_matter(normalise_text(_decode(path, path.read_bytes())), path)
    if path.suffix.lower() == ".md":
        text = markdown_to_text(text)
    article = build_article(text, source=source, title=None, removed=report.removed, keep_title=True, meta=meta or None)
    if article is None:
        raise InputError(f"{path}: nothing left after removing boilerplate")
    return [article]


def _read_jsonl_file(path: Path, source: str, report: IngestReport) -> list[dict[str, Any]]:

    _decode(path, path.read_bytes())  # empty, binary and non-UTF-8 files are refused whole
    articles = []
    for number, obj in read_jsonl(source, skipped=report.skipped):
        where = f"{source}:{number}"
        problems = list(schema_errors("raw-article", obj))
        if problems:
            report.skipped.append(f"{where}: " + "; ".join(problems))
            continue
        meta = dict(obj.get("meta") or {})
        if obj.get("url"):
            meta["url"] = obj["url"]
        if obj.get("id") is not None:
            meta["source_id"] = obj["id"]
        title = normalise_text(obj["title"]).strip() if obj.get("title") else None
        article = build_article(
            obj["text"], source=where, title=title, removed=report.removed, keep_title=False, meta=meta or None
        )
        if article is None:
            report.skipped.append(f"{where}: nothing left of `text` after removing boilerplate")
            continue
        articles.append(article)
    return articles


READERS = {".txt": _read_text_file, ".md": _read_text_file, ".jsonl": _read_jsonl_file}


def _expand(paths: Iterable[str | Path], report: IngestReport, root: Path | None = None) -> list[Path]:
    files: set[Path] = set()
    for path in map(Path, paths):
        if path.is_dir():
            for found in path.rglob("*"):
                if found.name.startswith("."):
                    continue
                if found.is_symlink() and not found.exists():
                    report.skipped.append(
                        f"{_display(found, root)}: a broken or looping symbolic link; fix or remove it"
                    )
                elif found.is_file():
                    files.add(found)
        elif path.is_file():
            files.add(path)
        else:
            report.skipped.append(f"{path}: no such file or folder")
    return sorted(files, key=lambda p: p.as_posix())


def _display(path: Path, root: Path | None = None) -> str:
    """The path relative to the project root (default: the working folder), as an article's `source`."""
    base = (root or Path.cwd()).resolve()
    try:
        return path.resolve().relative_to(base).as_posix()
    except (ValueError, RuntimeError, OSError):  # outside the project; a symbolic-link loop
        try:
            return path.absolute().relative_to(base).as_posix()
        except ValueError:
            return path.as_posix()


def ingest(paths: Iterable[str | Path], *, root: Path | None = None) -> tuple[list[dict[str, Any]], IngestReport]:
    """Read raw articles from files or folders; return (articles, report).

    Articles come out in source order; an article whose cleaned text was already seen is
    dropped and listed in `report.duplicates`. Bad inputs are listed in `report.skipped` with the
    reason; the good ones are still returned. Each `source` is the file's path relative to `root` (the
    project folder; default: the working folder).

    >>> articles, report = ingest(["corpus/raw"])
    """
    report = IngestReport()
    articles: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for path in _expand(paths, report, root):
        source = _display(path, root)
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
