"""`newsner export spacy|conll`: the published rows (same adjudication and split) for other trainers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsner.annotations import Unit
from newsner.config import Settings
from newsner.errors import InputError
from newsner.partition import SPLITS
from newsner.rows import RowsReport, dataset_rows
from newsner.tokens import class_names, tokenizer_nlp


def export_spacy(rows: dict[str, list], settings: Settings, out_dir: Path) -> list[Path]:
    """`<split>.spacy` DocBin files; entities are the adjudicated spans that align with tokens."""
    from spacy.tokens import DocBin
    from spacy.util import filter_spans

    nlp = tokenizer_nlp(settings.dataset.language)
    paths = []
    for split in SPLITS:
        docbin = DocBin(store_user_data=False)
        for row, doc in zip(rows[split], nlp.pipe(r["text"] for r in rows[split]), strict=True):
            spans = [doc.char_span(s["start"], s["end"], label=s["label"]) for s in row["spans"]]
            doc.set_ents(filter_spans([s for s in spans if s is not None]), default="outside")
            docbin.add(doc)
        path = out_dir / f"{split}.spacy"
        docbin.to_disk(path)
        paths.append(path)
    return paths


def export_conll(rows: dict[str, list], settings: Settings, out_dir: Path) -> list[Path]:
    """CoNLL-2003-style `<split>.conll`: `token -X- _ TAG`, a blank line between sentences and a
    `-DOCSTART-` line before each article."""
    names = class_names(settings.entities)
    paths = []
    for split in SPLITS:
        lines: list[str] = []
        article = None
        for row in rows[split]:
            if row["article_id"] != article:
                article = row["article_id"]
                lines += ["-DOCSTART- -X- -X- O", ""]
            lines += [
                f"{token} -X- _ {names[tag]}"
                for token, tag in zip(row["tokens"], row["ner_tags"], strict=True)
                if not token.isspace()
            ]
            lines.append("")
        path = out_dir / f"{split}.conll"
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


def read_conll(path: Path) -> list[tuple[list[str], list[str]]]:
    """Sentences of a CoNLL file as (tokens, tags), `-DOCSTART-` lines skipped."""
    sentences, tokens, tags = [], [], []
    for line in path.read_text(encoding="utf-8").split("\n") + [""]:
        if not line.strip():
            if tokens:
                sentences.append((tokens, tags))
            tokens, tags = [], []
        elif not line.startswith("-DOCSTART-"):
            parts = line.split(" ")
            tokens.append(parts[0])
            tags.append(parts[-1])
    return sentences


EXPORTERS: dict[str, Callable[[dict[str, list], Settings, Path], list[Path]]] = {
    "spacy": export_spacy,
    "conll": export_conll,
}


def export(
    kind: str, units: list[Unit], settings: Settings, out_dir: Path, *, sentences: list[dict[str, Any]] | None = None
) -> tuple[list[Path], RowsReport]:
    """Write the `kind` export of the adjudicated, split data into `out_dir`."""
    if kind not in EXPORTERS:
        raise InputError(f"unknown export format {kind!r}; choose one of {', '.join(EXPORTERS)}")
    rows, report = dataset_rows(units, settings, sentences=sentences)
    out_dir.mkdir(parents=True, exist_ok=True)
    return EXPORTERS[kind](rows, settings, out_dir), report
