"""Overlap controlled by the toolkit: exactly k per sentence, balanced, deterministic, incremental."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import pytest

from newsner.assign import assign, by_annotator, read_assignments, write_assignments

POOL = [f"annotator-{i:012x}" for i in range(4)]
SENTENCES = [f"s{i:04d}" for i in range(200)]


def test_each_sentence_gets_k_distinct_annotators_balanced_and_every_pair_overlaps():
    result, report = assign(SENTENCES, POOL, 2)
    assert all(len(names) == 2 == len(set(names)) for names in result.values())
    loads = Counter(n for names in result.values() for n in names)
    assert max(loads.values()) - min(loads.values()) <= 1
    pairs = Counter(frozenset(names) for names in result.values())
    assert set(pairs) == {frozenset(p) for p in combinations(POOL, 2)}, "some annotator pair never overlaps"
    assert report.new_pairs == 400 and report.short == 0


def test_deterministic():
    assert assign(SENTENCES, POOL, 2)[0] == assign(list(SENTENCES), list(POOL), 2)[0]


def test_new_sentences_and_a_new_annotator_move_nothing_already_assigned():
    first, _ = assign(SENTENCES, POOL, 2)
    newcomer = "annotator-ffffffffffff"
    more = SENTENCES + [f"t{i:04d}" for i in range(100)]
    second, report = assign(more, POOL + [newcomer], 2, first)
    assert all(second[s] == first[s] for s in SENTENCES)
    assert report.new_pairs == 200
    new_load = Counter(n for s in more[200:] for n in second[s])
    assert new_load[newcomer] == max(new_load.values()), "the newcomer should take the most new work"


def test_small_pool_is_topped_up_later():
    first, report = assign(SENTENCES[:3], POOL[:1], 2)
    assert report.short == 3 and all(len(v) == 1 for v in first.values())
    second, report = assign(SENTENCES[:3], POOL[:2], 2, first)
    assert report.short == 0 and all(second[s][0] == first[s][0] and len(second[s]) == 2 for s in SENTENCES[:3])


@pytest.mark.parametrize("k", [1, 3])
def test_k_is_honoured(k):
    result, _ = assign(SENTENCES[:10], POOL, k)
    assert {len(v) for v in result.values()} == {k}


def test_round_trip_and_by_annotator(tmp_path):
    result, _ = assign(SENTENCES[:5], POOL, 2)
    write_assignments(tmp_path, result)
    assert read_assignments(tmp_path) == result
    flipped = by_annotator(result)
    assert sum(len(v) for v in flipped.values()) == 10
    assert all(s in flipped[n] for s, names in result.items() for n in names)
