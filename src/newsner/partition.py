"""The train/validation/test partition ([split] settings): groups assigned by a seeded hash, stable when
groups are added.

A group's hash, read as a number u in [0, 1), puts it in `test` when u < test_fraction, in `validation`
when u ≥ 1 − validation_fraction, else in `train`. It depends only on (seed, group id), so adding
articles never moves an existing one; test keeps the groups it had before validation existed.
"""

from __future__ import annotations

import hashlib

from newsner.errors import SplitError

SPLITS = ("train", "validation", "test")


def assign_split(group_id: str, seed: str, test_fraction: float, validation_fraction: float = 0.0) -> str:
    """`"test"`, `"validation"` or `"train"` for a group; depends only on (seed, group id).

    >>> assign_split("a1", "newsner", 0.2, 0.1) in SPLITS
    True
    """
    digest = hashlib.sha256(f"{seed}\0{group_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < test_fraction:
        return "test"
    return "validation" if u >= 1 - validation_fraction else "train"


def split_groups(
    group_ids: list[str], seed: str, test_fraction: float, validation_fraction: float = 0.0
) -> dict[str, str]:
    """Assign every group; raise `SplitError` when a split would be empty."""
    assignment = {g: assign_split(g, seed, test_fraction, validation_fraction) for g in sorted(set(group_ids))}
    wanted = [s for s in SPLITS if s != "validation" or validation_fraction > 0]
    for split in wanted:
        if split not in assignment.values():
            raise SplitError(
                f"the {split} split would be empty ({len(assignment)} groups; test_fraction {test_fraction}, "
                f"validation_fraction {validation_fraction}); annotate more articles, change [split] seed or the "
                f'fractions, or set [split] group_by = "paragraph" for a tiny corpus'
            )
    return assignment
