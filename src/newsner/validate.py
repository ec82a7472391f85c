"""`newsner validate`: every record against its schema, plus the rules a schema cannot express."""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from newsner.config import Settings
from newsner.errors import InputError, NewsnerError
from newsner.ids import article_id, sentence_id
from newsner.io import read_jsonl
from newsner.schemas import schema_errors

# file name -> schema name; anything else needs --schema
SCHEMA_BY_FILENAME = {
    "articles.jsonl": "article",
    "sentences.jsonl": "sentence",
    "tasks.jsonl": "task",
    "annotations.jsonl": "annotation",
    "held.jsonl": "annotation",
    "settled.jsonl": "annotation",
    "adjudications.jsonl": "adjudication",
    "assignments.jsonl": "assignment",
}
RECORD_DIRS = ("corpus", "annotation")


def _span_problems(text: str, spans: Iterable[dict[str, Any]], labels: set[str] | None, where: str) -> Iterator[str]:
    for i, span in enumerate(spans):
        start, end = span["start"], span["end"]
        if start >= end:
            yield f"[$.{where}[{i}]] start {start} is not before end {end}"
        elif end > len(text):
            yield f"[$.{where}[{i}]] span [{start}, {end}) lies outside the text (length {len(text)})"
        label = span.get("label") or (span.get("labels") or [None])[0]
        if labels is not None and label not in labels:
            yield f"[$.{where}[{i}]] label {label!r} is not in the label set {sorted(labels)}"


def _check_article(record: dict[str, Any], labels: set[str] | None) -> Iterator[str]:
    text = record["text"]
    if record["id"] != article_id(text):
        yield f"[$.id] {record['id']} is not the content hash of the text (expected {article_id(text)})"
    previous = 0
    for i, (start, end) in enumerate(record["paragraphs"]):
        if not (previous <= start < end <= len(text)):
            yield f"[$.paragraphs[{i}]] [{start}, {end}) is out of order or outside the text (length {len(text)})"
        previous = end


def _check_sentence(record: dict[str, Any], labels: set[str] | None) -> Iterator[str]:
    if record["start"] >= record["end"]:
        yield f"[$.start] start {record['start']} is not before end {record['end']}"
    if record["end"] - record["start"] != len(record["text"]):
        yield f"[$.text] length {len(record['text'])} differs from end - start = {record['end'] - record['start']}"
    expected = sentence_id(record["article_id"], record["start"], record["text"])
    if record["id"] != expected:
        yield f"[$.id] {record['id']} is not the content hash of (article_id, start, text) (expected {expected})"


def _check_task(record: dict[str, Any], labels: set[str] | None) -> Iterator[str]:
    text = record["data"]["text"]
    for p, prediction in enumerate(record["predictions"]):
        results = prediction["result"]
        yield from _span_problems(text, [r["value"] for r in results], labels, f"predictions[{p}].result")
        for i, item in enumerate(results):
            value = item["value"]
            if value["start"] < value["end"] <= len(text) and text[value["start"] : value["end"]] != value["text"]:
                yield (
                    f"[$.predictions[{p}].result[{i}].value.text] {value['text']!r} differs from "
                    f"text[{value['start']}:{value['end']}] = {text[value['start'] : value['end']]!r}"
                )


def _check_annotation(record: dict[str, Any], labels: set[str] | None) -> Iterator[str]:
    yield from _span_problems(record["text"], record["spans"], labels, "spans")


CROSS_FIELD: dict[str, Callable[[dict[str, Any], set[str] | None], Iterator[str]]] = {
    "article": _check_article,
    "sentence": _check_sentence,
    "task": _check_task,
    "annotation": _check_annotation,
    "adjudication": _check_annotation,
}

# which field must be unique within a file
UNIQUE_KEY: dict[str, Callable[[dict[str, Any]], Any]] = {
    "article": lambda r: r.get("id"),
    "sentence": lambda r: r.get("id"),
    "task": lambda r: (r.get("data") or {}).get("sentence_id"),
    "annotation": lambda r: (r.get("sentence_id"), r.get("annotator")),
    "assignment": lambda r: r.get("sentence_id"),
    "adjudication": lambda r: r.get("sentence_id"),
}


def record_problems(schema: str, record: dict[str, Any], labels: set[str] | None = None) -> list[str]:
    """Every problem of one record: schema errors first, then cross-field rules (when the schema passed)."""
    problems = list(schema_errors(schema, record))
    if not problems and schema in CROSS_FIELD:
        problems.extend(CROSS_FIELD[schema](record, labels))
    return problems


def schema_for(path: Path, schema: str | None = None) -> str:
    """The schema of a record file: `schema` if given, else from its file name."""
    if schema:
        return schema
    if path.name in SCHEMA_BY_FILENAME:
        return SCHEMA_BY_FILENAME[path.name]
    raise InputError(
        f"{path}: cannot tell the record type from the file name; name it one of "
        f"{', '.join(SCHEMA_BY_FILENAME)} or pass --schema"
    )


def validate_file(
    path: str | Path, *, schema: str | None = None, settings: Settings | None = None
) -> tuple[int, list[str]]:
    """Validate one JSONL record file; return (records checked, `file:line: [path] message` problems).

    Memory stays small whatever the file's size: duplicate keys are found from an 8-byte digest per
    record (sorted once), and only the few digests seen twice are looked up again, in a second pass,
    to name the lines.
    """
    path = Path(path)
    name = schema_for(path, schema)
    labels = set(settings.entities) if settings else None
    key_of = UNIQUE_KEY.get(name)
    digests = array("Q")
    problems: list[tuple[int, str]] = []
    count = 0
    failure = None
    try:
        for number, record in read_jsonl(path):
            count += 1
            problems.extend((number, f"{path}:{number}: {p}") for p in record_problems(name, record, labels))
            key = key_of(record) if key_of else None
            if key is not None and key != (None, None):
                digests.append(_digest(key))
    except NewsnerError as err:
        failure = str(err)
    twice = _repeated(digests)
    if twice and key_of:
        seen: dict[Any, int] = {}
        try:
            for number, record in read_jsonl(path):
                key = key_of(record)
                if key is None or key == (None, None) or _digest(key) not in twice:
                    continue
                if key in seen:
                    problems.append((number, f"{path}:{number}: [$] duplicate {key!r}, first on line {seen[key]}"))
                else:
                    seen[key] = number
        except NewsnerError:
            pass  # the first pass reported it
    ordered = [text for _, text in sorted(problems, key=lambda item: item[0])]
    return count, ordered + ([failure] if failure else [])


def _digest(key: Any) -> int:
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "little")


def _repeated(digests: array) -> set[int]:
    """The digests that occur more than once."""
    if len(digests) < 2:
        return set()
    import numpy

    values = numpy.sort(numpy.frombuffer(digests, dtype=numpy.uint64))
    return set(values[1:][values[1:] == values[:-1]].tolist())


def default_paths(root: Path) -> list[Path]:
    """Every record file under `corpus/` and `annotation/` (exports excluded)."""
    found = []
    for folder in RECORD_DIRS:
        for name in SCHEMA_BY_FILENAME:
            candidate = root / folder / name
            if candidate.is_file():
                found.append(candidate)
    return found


def validate_paths(
    paths: Iterable[str | Path], *, schema: str | None = None, settings: Settings | None = None
) -> tuple[int, int, list[str]]:
    """Validate several files; return (files, records, problems)."""
    files = records = 0
    problems: list[str] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            raise InputError(f"{path}: is a folder; name the record files (e.g. {path}/sentences.jsonl)")
        try:
            count, found = validate_file(path, schema=schema, settings=settings)
        except InputError as err:
            problems.append(str(err))
            continue
        files += 1
        records += count
        problems.extend(found)
    return files, records, problems
