"""The train/test partition ([split] settings): groups assigned by a seeded hash, stable when groups are added."""

from __future__ import annotations

import hashlib

from newsner.errors import SplitError


def assign_split(group_id: str, seed: str, test_fraction: float) -> str:
    """`"test"` or `"train"` for a group; depends only on (seed, group id), never on other groups."""
    digest = hashlib.sha256(f"{seed}\0{group_id}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_fraction else "train"


def split_groups(group_ids: list[str], seed: str, test_fraction: float) -> dict[str, str]:
    """Assign every group; raise `SplitError` when a split would be empty."""
    assignment = {g: assign_split(g, seed, test_fraction) for g in sorted(set(group_ids))}
    for split in ("train", "test"):
        if split not in assignment.values():
            raise SplitError(
                f"the {split} split would be empty ({len(assignment)} groups, test_fraction {test_fraction}); "
                f"annotate more articles, change [split] seed or test_fraction, or set [split] group_by = "
                f"\"paragraph\" for a tiny corpus"
            )
    return assignment
