"""Content-hash ids: the same content always gets the same id, on any machine.

Articles, sentences and pre-label regions are named by a hash of what they hold, so re-running a step
never renames a record and an id says whether the content changed.
"""

from __future__ import annotations

import hashlib


def content_id(*parts: object) -> str:
    """A 16-hex-digit SHA-256 content hash of `parts` (joined with NUL).

    >>> content_id("Almaty")
    '869b5619f769ee6c'
    """
    return hashlib.sha256("\0".join(map(str, parts)).encode("utf-8")).hexdigest()[:16]


def article_id(text: str) -> str:
    """The id of an article: the content hash of its cleaned text."""
    return content_id(text)


def sentence_id(article_id: str, start: int, text: str) -> str:
    """The id of a sentence: the content hash of (article id, start offset, sentence text)."""
    return content_id(article_id, start, text)


def region_id(sentence_id: str, start: int, end: int, label: str) -> str:
    """The id of a pre-labelled region in a Label Studio task (10 hex digits, as Label Studio's own)."""
    return content_id(sentence_id, start, end, label)[:10]
