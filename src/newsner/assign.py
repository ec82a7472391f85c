"""Which annotators label which sentence: `[studio] annotators_per_task` each, balanced, incremental.

The assignment lives in `annotation/assignments.jsonl` (one `{"sentence_id", "annotators"}` per line,
committed). New sentences go to the least-loaded annotators (ties broken by a seeded hash of sentence
and annotator, so the result does not depend on the machine), and a sentence with fewer annotators than
wanted (the pool was small) is topped up when the pool grows. When loads differ by more than one (a
newcomer joined after everything was assigned), `rebalance` moves sentences that their annotator has not
started (no annotation, no draft) from the most loaded to the least loaded; nothing started ever moves.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from newsner.errors import InputError
from newsner.io import read_jsonl, write_jsonl

ASSIGNMENTS_FILE = Path("annotation/assignments.jsonl")


@dataclass
class AssignReport:
    sentences: int = 0
    new_pairs: int = 0
    short: int = 0  # sentences with fewer annotators than wanted (pool too small)
    load: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        loads = ", ".join(f"{name} {n}" for name, n in sorted(self.load.items()))
        short = f"; {self.short} sentences have fewer annotators than wanted (add annotators)" if self.short else ""
        return f"{self.new_pairs} new assignments over {self.sentences} sentences ({loads}){short}"


def _tiebreak(seed: str, sentence_id: str, annotator: str) -> str:
    return hashlib.sha256(f"{seed}|{sentence_id}|{annotator}".encode()).hexdigest()


def assign(
    sentence_ids: Iterable[str],
    pool: list[str],
    per_sentence: int,
    existing: dict[str, list[str]] | None = None,
    *,
    seed: str = "newsner",
) -> tuple[dict[str, list[str]], AssignReport]:
    """Extend `existing` so that every sentence has `per_sentence` annotators from `pool` (fewer if the pool is small).

    Returns the whole assignment (existing sentences first, in their order, then new ones in input
    order) and a report. Nothing already assigned is removed or moved.

    >>> assign(["s1", "s2"], ["a", "b", "c"], 2, seed="x")[0]["s1"].__len__()
    2
    """
    result = {sid: list(names) for sid, names in (existing or {}).items()}
    report = AssignReport()
    load = Counter(name for names in result.values() for name in names)
    wanted = min(per_sentence, len(pool))
    for sid in sentence_ids:
        current = result.setdefault(sid, [])
        need = wanted - len(current)
        if need > 0:
            candidates = sorted((p for p in pool if p not in current), key=lambda p: (load[p], _tiebreak(seed, sid, p)))
            for name in candidates[:need]:
                current.append(name)
                load[name] += 1
                report.new_pairs += 1
    report.sentences = len(result)
    report.short = sum(len(names) < per_sentence for names in result.values())
    report.load = Counter({name: load[name] for name in pool})
    return result, report


def rebalance(
    assignments: dict[str, list[str]], pool: list[str], started: set[tuple[str, str]], *, seed: str = "newsner"
) -> list[tuple[str, str, str]]:
    """Move unstarted (sentence, annotator) pairs from the most to the least loaded annotator until loads
    differ by at most one (or nothing more may move). Changes `assignments` in place.

    `started`: (sentence_id, annotator) pairs with an annotation or a draft: these never move. A sentence
    never goes to someone who has it already. Returns the moves as (sentence_id, from, to), in order.

    >>> a = {"s1": ["x", "y"], "s2": ["x", "y"]}
    >>> rebalance(a, ["x", "y", "z"], {("s1", "x"), ("s1", "y")}, seed="t")
    [('s2', 'x', 'z')]
    >>> a["s2"]
    ['z', 'y']
    """
    load = Counter({name: 0 for name in pool})
    load.update(name for names in assignments.values() for name in names if name in load)
    moves: list[tuple[str, str, str]] = []
    while True:
        low = min(pool, key=lambda p: (load[p], p))
        donors = sorted((p for p in pool if load[p] - load[low] > 1), key=lambda p: (-load[p], p))
        move = None
        for donor in donors:
            movable = [
                sid
                for sid, names in assignments.items()
                if donor in names and low not in names and (sid, donor) not in started
            ]
            if movable:
                sid = max(movable, key=lambda s: _tiebreak(seed, s, low))
                move = (sid, donor, low)
                break
        if move is None:
            return moves
        sid, donor, receiver = move
        names = assignments[sid]
        names[names.index(donor)] = receiver
        load[donor] -= 1
        load[receiver] += 1
        moves.append(move)


def read_assignments(root: Path) -> dict[str, list[str]]:
    """The committed assignment (empty when there is none yet)."""
    path = root / ASSIGNMENTS_FILE
    if not path.is_file():
        return {}
    result: dict[str, list[str]] = {}
    for number, record in read_jsonl(path):
        sid, names = record.get("sentence_id"), record.get("annotators")
        if not isinstance(sid, str) or not isinstance(names, list) or sid in result:
            raise InputError(f"{path}:{number}: expected a unique sentence_id and a list of annotators")
        result[sid] = names
    return result


def write_assignments(root: Path, assignments: dict[str, list[str]]) -> None:

    write_jsonl(
        root / ASSIGNMENTS_FILE,
        ({"sentence_id": sid, "annotators": names} for sid, names in assignments.items() if names),
    )


def by_annotator(assignments: dict[str, list[str]]) -> dict[str, list[str]]:
    """annotator -> the sentence ids assigned to them, in assignment order."""
    result: dict[str, list[str]] = {}
    for sid, names in assignments.items():
        for name in names:
            result.setdefault(name, []).append(sid)
    return result
