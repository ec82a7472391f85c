"""Progress bars on a terminal, silence in pipes and CI."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def interactive() -> bool:
    """True when stderr is a terminal and we are not in CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress(items: Iterable[T], *, total: int | None = None, description: str = "") -> Iterator[T]:
    """Iterate `items`, drawing a rich progress bar on stderr when interactive."""
    if not interactive():
        yield from items
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
