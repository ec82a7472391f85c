"""Reading and writing JSON Lines: one object per line, atomic writes, `-` for stdout."""

from __future__ import annotations

import contextlib
import functools
import glob
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jsonlines

from newsner.errors import InputError

_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def read_jsonl(path: str | Path, *, skipped: list[str] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_number, record)` for every non-blank line of a JSONL file.

    A line that is not a JSON object raises `InputError` naming `file:line`; with `skipped`, the
    message is appended there instead and reading goes on (nothing is dropped without a word).
    A UTF-8 byte-order mark on the first line is ignored.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = path.write_text('{"id": 1}\\n\\n{"id": 2}\\n')
    >>> [(line, record["id"]) for line, record in read_jsonl(path)]
    [(1, 1), (3, 2)]
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path or run the step that writes it") from None
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            try:
                record = _parse_line(path, number, raw)
            except InputError as err:
                if skipped is None:
                    raise
                skipped.append(str(err))
                continue
            yield number, record


def _parse_line(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise InputError(f"{path}:{number}: not UTF-8 (byte {err.start}); re-save the file as UTF-8") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path}:{number}: not valid JSON ({err.msg} at column {err.colno})") from None
    except RecursionError:
        raise InputError(f"{path}:{number}: JSON nested too deeply to be a newsner record") from None
    if not isinstance(record, dict):
        raise InputError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
    return record


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Return all records of a JSONL file as a list."""
    return [record for _, record in read_jsonl(path)]


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write records as JSONL, atomically (temp file + rename); `-` writes to stdout.

    Returns the number of records written. An existing file is only replaced once every
    record has been written, so a failure half-way leaves the old file untouched.
    """
    if str(path) == "-":
        count = 0
        writer = jsonlines.Writer(sys.stdout, dumps=_dumps, flush=True)
        for record in records:
            writer.write(record)
            count += 1
        return count
    count = 0
    with atomic_open(path) as handle:
        writer = jsonlines.Writer(handle, dumps=_dumps)
        for record in records:
            writer.write(record)
            count += 1
    return count


@contextlib.contextmanager
def atomic_open(path: str | Path) -> Iterator[Any]:
    """A text handle whose content replaces `path` only when the block ends without an error.

    The file gets the usual permissions (0666 less the umask, like `open`), not the temporary
    file's private 0600; `\n` line endings, UTF-8.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_leftovers(path: Path) -> None:
    """Remove temporary files of `path` left by writers that were killed (their process no longer exists)."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = leftover.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically with `\n` line endings and the usual permissions."""
    with atomic_open(path) as handle:
        handle.write(text)


def write_json(path: str | Path, data: Any) -> None:
    """Write pretty, key-sorted JSON atomically (deterministic bytes)."""
    write_text(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
