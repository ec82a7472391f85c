"""Tokens and IOB2 tags, only through spaCy's tokenizer and offset helpers."""

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
    """IOB2 tags of `doc` for `spans`; returns (tags, number of spans left out).

    Offsets go through spaCy's `Doc.char_span` (strict alignment) and `Doc.set_ents`. A span that does
    not fall on token boundaries is not shifted: its tokens are tagged `O` and it is counted, as is a
    span that overlaps a longer one (IOB2 cannot hold both). `doc`'s entities are overwritten.
    """
    from spacy.util import filter_spans

    entities, left_out = [], 0
    for span in spans:
        aligned = doc.char_span(span["start"], span["end"], label=span["label"])
        if aligned is None:
            left_out += 1
        else:
            entities.append(aligned)
    kept = filter_spans(entities)
    left_out += len(entities) - len(kept)
    doc.set_ents(kept, default="outside")
    strings = doc.vocab.strings
    return [
        ("B-" if iob == 3 else "I-") + strings[label] if iob in (1, 3) else "O"
        for iob, label in zip(doc.to_array("ENT_IOB").tolist(), doc.to_array("ENT_TYPE").tolist(), strict=True)
    ], left_out


def class_names(entities: list[str]) -> list[str]:
    """ClassLabel names in config order: ["O", "B-X", "I-X", …]."""
    names = ["O"]
    for entity in entities:
        names += [f"B-{entity}", f"I-{entity}"]
    return names
