"""Folders a command writes as a whole (a published dataset, a trained model): never half there, never
someone else's.

A command builds its folder beside the target (`.<name>.newsner-tmp`) and swaps it in with one atomic
exchange (Linux `renameat2(RENAME_EXCHANGE)`; elsewhere two renames, a window of microseconds), so at
every instant the target is the old complete folder or the new one. Each folder carries a mark
(`.newsner-output`, naming the command), and a command only ever replaces an empty folder, its own earlier
output, or (with `force`) a folder the user says it may. A run killed half-way leaves a marked temporary
folder, which the next run of the command removes.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from newsner.errors import OutputError

MARK = ".newsner-output"
TMP_SUFFIX = ".newsner-tmp"
FAULT_ENV = "NEWSNER_FAULT"  # tests: "before-swap" or "after-swap" kills the process there (SIGKILL)
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def is_output_of(folder: Path, command: str, legacy: Callable[[Path], bool] | None = None) -> bool:
    """True when `folder` carries `command`'s mark (or, without a mark, `legacy` recognises it)."""
    try:
        return json.loads((folder / MARK).read_text())["command"] == command
    except (OSError, ValueError, KeyError, TypeError):
        return bool(legacy and legacy(folder))


@dataclass(frozen=True)
class OutputTarget:
    """The folder a command writes as a whole, and what it may replace there.

    `root` is the project folder (never replaced); `force` allows replacing a folder the command did not
    write; `legacy` recognises an earlier version's output that carries no mark.
    """

    folder: Path
    command: str
    root: Path | None = None
    force: bool = False
    legacy: Callable[[Path], bool] | None = None

    def check(self) -> None:
        """Raise `OutputError` unless the command may replace the folder as a whole."""
        target, command = self.folder, self.command
        resolved = target.resolve()
        for protected in {Path.cwd().resolve(), *([self.root.resolve()] if self.root else [])}:
            if resolved == protected or protected.is_relative_to(resolved):
                raise OutputError(
                    f"{target}: is the project folder (or holds it); `{command}` replaces its output "
                    f"folder as a whole: choose a folder of its own, e.g. -o dist/NAME"
                )
        if not target.exists() and not target.is_symlink():
            return
        if not target.is_dir() or target.is_symlink():
            raise OutputError(
                f"{target}: exists and is not a folder; `{command}` writes a folder: remove it or choose another -o"
            )
        if self.force or not any(target.iterdir()) or is_output_of(target, command, self.legacy):
            return
        raise OutputError(
            f"{target}: is not empty and was not written by `newsner {command}`; nothing was changed. "
            f"Choose another -o, or pass --force to replace this folder and everything in it"
        )


@contextlib.contextmanager
def output_folder(output: OutputTarget) -> Iterator[Path]:
    """Yield an empty temporary folder; when the block succeeds it replaces the target folder atomically.

    On an error the temporary folder is removed and the target is untouched.
    """
    output.check()
    target, command = output.folder, output.command
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}{TMP_SUFFIX}")
    if tmp.exists():  # a killed run's leftover: ours only if marked
        if not is_output_of(tmp, command):
            raise OutputError(f"{tmp}: is in the way and was not made by `newsner {command}`; remove it")
        shutil.rmtree(tmp)
    tmp.mkdir()
    (tmp / MARK).write_text(json.dumps({"command": command}) + "\n")
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fault("before-swap")
    if target.exists():
        _exchange(tmp, target)
        _fault("after-swap")
        shutil.rmtree(tmp)
    else:
        os.rename(tmp, target)


def _fault(where: str) -> None:
    if os.environ.get(FAULT_ENV) == where:
        os.kill(os.getpid(), signal.SIGKILL)


def _exchange(a: Path, b: Path) -> None:
    """Swap two paths atomically (renameat2 RENAME_EXCHANGE), else by two renames."""
    libc_name = ctypes.util.find_library("c")
    renameat2 = getattr(ctypes.CDLL(libc_name, use_errno=True), "renameat2", None) if libc_name else None
    if renameat2 is not None:
        if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
            return
        if ctypes.get_errno() not in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: no exchange on this filesystem
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
    aside = b.with_name(b.name + ".newsner-old")
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)
