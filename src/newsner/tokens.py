"""Tokens and IOB2 tags, only through spaCy's tokenizer and offset helpers (DESIGN §7.3)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any


@functools.cache
def tokenizer_nlp(language: str) -> Any:
    """A blank spaCy pipeline of `language` (its tokenizer only)."""
    import spacy

    return spacy.blank(language)


def iob2_tags(doc: Any, spans: Iterable[dict[str, Any]]) -> tuple[list[str], int]:
    """IOB2 tags of `doc` for `spans`; returns (tags, number of spans not aligned with tokens).

    A span that does not fall on token boundaries is not shifted: its tokens are tagged `O` and it
    is counted.
    """
    from spacy.training import offsets_to_biluo_tags

    entities = [(s["start"], s["end"], s["label"]) for s in spans]
    biluo = offsets_to_biluo_tags(doc, entities, missing="O") if entities else ["O"] * len(doc)
    misaligned = 0
    if "-" in biluo:
        aligned = [e for e in entities if doc.char_span(e[0], e[1]) is not None]
        misaligned = len(entities) - len(aligned)
        biluo = offsets_to_biluo_tags(doc, aligned, missing="O")
    tags = []
    for tag in biluo:
        if tag[:2] in ("B-", "U-"):
            tags.append("B-" + tag[2:])
        elif tag[:2] in ("I-", "L-"):
            tags.append("I-" + tag[2:])
        else:
            tags.append("O")
    return tags, misaligned


def class_names(entities: list[str]) -> list[str]:
    """ClassLabel names in config order: ["O", "B-X", "I-X", …]."""
    names = ["O"]
    for entity in entities:
        names += [f"B-{entity}", f"I-{entity}"]
    return names
