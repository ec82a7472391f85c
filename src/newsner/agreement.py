"""Inter-annotator agreement: span F1, token κ/α, category agreement, disagreements.

Units are sentences with at least two distinct annotators. Span F1 is positive specific agreement
(F1 = 2a / (2a + b + c)), micro-summed over the units both annotators of a pair annotated; a unit
where neither marked a span adds nothing. The mean is over annotator pairs.
"""

from __future__ import annotations

import heapq
import itertools
import math
import warnings
from array import array
from collections import Counter
from typing import Any

import numpy as np

from newsner.adjudicate import HOWS, adjudicate, is_stale
from newsner.annotations import Unit
from newsner.config import Settings
from newsner.spancheck import check_records
from newsner.tokens import iob2_tags, tokenizer_nlp

Span = tuple[int, int, str]
BOOTSTRAP_SAMPLES = 200
BOOTSTRAP_CHUNK = 20
MAX_DISAGREEMENTS = 500
NOTE = (
    "Token-level kappa is inflated by the many `O` tokens (Brandsen et al. 2020); "
    "pairwise span F1 is the headline figure."
)


def match_counts(a: frozenset[Span], b: frozenset[Span], mode: str) -> dict[str, list[int]]:
    """Per label: [tp, spans of the first, spans of the second], with one-to-one matching."""
    counts: dict[str, list[int]] = {}
    for _, _, label in a:
        counts.setdefault(label, [0, 0, 0])[1] += 1
    for _, _, label in b:
        counts.setdefault(label, [0, 0, 0])[2] += 1
    if mode == "exact":
        for _, _, label in a & b:
            counts[label][0] += 1
        return counts
    ordered_a, ordered_b = sorted(a), sorted(b)
    pairs = sorted(
        (
            (min(ea, eb) - max(sa, sb), x, y)
            for x, (sa, ea, la) in enumerate(ordered_a)
            for y, (sb, eb, lb) in enumerate(ordered_b)
            if la == lb and sa < eb and sb < ea
        ),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    used_a, used_b = set(), set()
    for _, x, y in pairs:
        if x not in used_a and y not in used_b:
            used_a.add(x)
            used_b.add(y)
            counts[ordered_a[x][2]][0] += 1
    return counts


def f1(tp: float, a: float, b: float) -> float | None:
    """2tp / (a + b); None when neither side has a span."""
    return None if a + b == 0 else 2 * tp / (a + b)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 4) if present else None


def _round(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 4)


def span_agreement(units: list[Unit], labels: list[str], mode: str, seed: int = 0) -> dict[str, Any]:
    """Pairwise span F1 (micro per pair), per label, mean over pairs, bootstrap 95% CI over units."""
    label_index = {label: i for i, label in enumerate(labels)}
    pair_ids: dict[tuple[str, str], int] = {}
    pair_units: Counter = Counter()
    # one entry per (unit, pair, label) with counts: compact typed arrays, not Python tuples
    cols = {key: array("i") for key in ("unit", "pair", "label", "tp", "a", "b")}
    for index, unit in enumerate(units):
        for pair in itertools.combinations(sorted(unit.annotations), 2):
            p = pair_ids.setdefault(pair, len(pair_ids))
            pair_units[pair] += 1
            for label, (tp, a, b) in match_counts(unit.spans(pair[0]), unit.spans(pair[1]), mode).items():
                for slot in (label_index[label], len(labels)):  # the last label slot is the total
                    for key, value in zip(cols, (index, p, slot, tp, a, b), strict=True):
                        cols[key].append(value)
    pairs = sorted(pair_ids)
    rank = np.empty(len(pairs), dtype=np.int64)  # pair id -> position among the sorted pairs
    for position, pair in enumerate(pairs):
        rank[pair_ids[pair]] = position
    data = np.zeros((len(units), len(pairs), len(labels) + 1, 3))
    if cols["unit"]:
        arrays = {key: np.frombuffer(col, dtype=np.int32) for key, col in cols.items()}
        where = (arrays["unit"], rank[arrays["pair"]], arrays["label"])
        for k, key in enumerate(("tp", "a", "b")):
            np.add.at(data[..., k], where, arrays[key])
    sums = data.sum(axis=0)  # [pair][label+total][3]

    def f1s(totals: np.ndarray) -> np.ndarray:  # totals [..., 3]
        denom = totals[..., 1] + totals[..., 2]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denom > 0, 2 * totals[..., 0] / denom, np.nan)

    scores = f1s(sums)  # [pair][label+total]
    rng = np.random.default_rng(seed)
    ci = np.full((len(labels) + 1, 2), np.nan)
    if units and pairs:
        flat = data.reshape(len(units), -1)
        uniform = np.full(len(units), 1 / len(units))
        boot = np.concatenate(
            [  # resample weights drawn in chunks: memory stays O(units), not O(samples x units)
                rng.multinomial(len(units), uniform, size=BOOTSTRAP_CHUNK) @ flat
                for _ in range(BOOTSTRAP_SAMPLES // BOOTSTRAP_CHUNK)
            ]
        ).reshape(BOOTSTRAP_SAMPLES, *data.shape[1:])
        with warnings.catch_warnings():  # labels nobody used give all-NaN columns: reported as null
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.nanmean(f1s(boot), axis=1)  # mean over pairs
            ci = np.nanpercentile(means, [2.5, 97.5], axis=0).T
    per_label = {}
    for label, i in label_index.items():
        per_label[label] = {
            "f1": _mean([_round(v) for v in scores[:, i]]) if pairs else None,
            "ci95": [_round(ci[i][0]), _round(ci[i][1])],
            "support": int(sums[:, i, 1].sum() + sums[:, i, 2].sum()),
        }
    return {
        "mean": _mean([_round(v) for v in scores[:, -1]]) if pairs else None,
        "ci95": [_round(ci[-1][0]), _round(ci[-1][1])],
        "per_label": per_label,
        "pairs": [
            {
                "annotators": list(pair),
                "f1": _round(scores[p, -1]),
                "units": pair_units[pair],
                "matched": int(sums[p, -1, 0]),
                "spans": [int(sums[p, -1, 1]), int(sums[p, -1, 2])],
            }
            for p, pair in enumerate(pairs)
        ],
    }


def _nominal(
    units: list[Unit], sequences: dict[str, dict[int, list[Any]]], annotators: list[str], lengths: list[int]
) -> dict[str, Any]:
    """Cohen (pairs), Fleiss (equal raters), Krippendorff α for aligned nominal sequences.

    `sequences[annotator][unit index]` is that annotator's list of values for the unit's items.
    """
    values = sorted({v for seqs in sequences.values() for seq in seqs.values() for v in seq}, key=str)
    code = {v: i for i, v in enumerate(values)}
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    matrix = np.full((len(annotators), int(starts[-1])), np.nan)  # annotator x item, NaN = missing
    for r, annotator in enumerate(annotators):
        for index, seq in sequences[annotator].items():
            matrix[r, starts[index] : starts[index] + len(seq)] = [code[v] for v in seq]
    return _nominal_matrix(units, matrix, annotators, len(values))


def _nominal_matrix(units: list[Unit], matrix: np.ndarray, annotators: list[str], n_values: int) -> dict[str, Any]:
    """Cohen, Fleiss and Krippendorff from an annotators x items matrix of value codes (NaN = missing)."""
    from sklearn.metrics import cohen_kappa_score

    cohen = []
    for (i, x), (j, y) in itertools.combinations(enumerate(annotators), 2):
        shared = ~np.isnan(matrix[i]) & ~np.isnan(matrix[j])
        if not shared.any():
            continue
        a, b = matrix[i][shared], matrix[j][shared]
        kappa = cohen_kappa_score(a, b) if len(np.union1d(a, b)) > 1 else float("nan")
        cohen.append({"annotators": [x, y], "kappa": _round(kappa), "items": int(shared.sum())})
    out: dict[str, Any] = {"cohen_kappa": {"mean": _mean([c["kappa"] for c in cohen]), "pairs": cohen}}
    patterns, weights = value_patterns(matrix, n_values)
    raters = {len(u.annotations) for u in units}
    if len(raters) == 1 and units:
        out["fleiss_kappa"] = _round(fleiss_kappa_weighted(patterns, weights)) if n_values > 1 else None
        out["fleiss_kappa_skipped"] = None if n_values > 1 else "only one category was used"
    else:
        out["fleiss_kappa"] = None
        out["fleiss_kappa_skipped"] = (
            f"units have different numbers of annotators ({sorted(raters)}); "
            "Fleiss' kappa needs the same number for every unit"
        )
    out["krippendorff_alpha"] = _round(krippendorff_alpha_nominal(patterns, weights))
    return out


def value_patterns(matrix: np.ndarray, n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """From an annotators x items matrix of value codes (NaN = missing): the distinct rows of the
    items x values count table and how often each occurs. Memory grows with the number of distinct
    patterns, not with the items (a token corpus has a few hundred patterns for millions of tokens).
    """
    present = ~np.isnan(matrix)
    base = matrix.shape[0] + 1
    if base**n_values < 2**62:  # each item's counts as the digits of one integer
        keys = np.zeros(matrix.shape[1], dtype=np.int64)
        powers = base ** np.arange(n_values, dtype=np.int64)
        for row, mask in zip(matrix, present, strict=True):
            keys[mask] += powers[row[mask].astype(np.int64)]
        unique, weights = np.unique(keys, return_counts=True)
        patterns = (unique[:, None] // powers[None, :]) % base
        return patterns.astype(float), weights.astype(float)
    counts = np.zeros((matrix.shape[1], n_values))
    for row, mask in zip(matrix, present, strict=True):
        np.add.at(counts, (np.flatnonzero(mask), row[mask].astype(int)), 1)
    patterns, weights = np.unique(counts, axis=0, return_counts=True)
    return patterns, weights.astype(float)


def fleiss_kappa_weighted(patterns: np.ndarray, weights: np.ndarray) -> float:
    """Fleiss' kappa from distinct count rows and their multiplicities (equal raters per item).

    Equal to statsmodels' `fleiss_kappa` on the expanded table (tested).
    """
    n = patterns[0].sum()
    items = weights.sum()
    p_j = (weights[:, None] * patterns).sum(axis=0) / (items * n)
    p_i = ((patterns**2).sum(axis=1) - n) / (n * (n - 1))
    p_bar, p_e = (weights * p_i).sum() / items, (p_j**2).sum()
    return float("nan") if p_e == 1 else float((p_bar - p_e) / (1 - p_e))


def krippendorff_alpha_nominal(patterns: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Krippendorff's alpha (nominal) from count rows (items x values: how many coders chose each value).

    `weights` are the rows' multiplicities (default 1). Items with fewer than two values are not
    pairable and drop out (missing values). Uses the coincidence matrix
    o = sum_u w_u (n_u n_u^T - diag n_u) / (m_u - 1); equal to the `krippendorff` package (tested).
    """
    weights = np.ones(len(patterns)) if weights is None else weights
    pairable = patterns.sum(axis=1) >= 2
    counts, weights = patterns[pairable], weights[pairable]
    if counts.shape[0] == 0:
        return float("nan")
    scale = weights / (counts.sum(axis=1) - 1.0)
    coincidences = (counts * scale[:, None]).T @ counts - np.diag((counts * scale[:, None]).sum(axis=0))
    n_c = coincidences.sum(axis=1)
    n = n_c.sum()
    observed = coincidences.sum() - np.trace(coincidences)
    expected = (n**2 - (n_c**2).sum()) / (n - 1)
    return float("nan") if expected == 0 else float(1.0 - observed / expected)


def token_agreement(units: list[Unit], annotators: list[str], language: str) -> dict[str, Any]:
    """Token-level IOB2 agreement with the spaCy tokenizer of `language`."""
    nlp = tokenizer_nlp(language)
    code: dict[str, int] = {}
    columns = {a: array("f") for a in annotators}  # per annotator: one code per token, NaN = not annotated
    tokens = misaligned = 0
    for unit, doc in zip(units, nlp.pipe(u.text for u in units), strict=True):
        tokens += len(doc)
        for annotator, column in columns.items():
            record = unit.annotations.get(annotator)
            if record is None:
                column.extend([math.nan] * len(doc))
                continue
            tags, bad = iob2_tags(doc, record["spans"])
            column.extend([code.setdefault(tag, len(code)) for tag in tags])
            misaligned += bad
    matrix = np.array([np.frombuffer(columns[a], dtype=np.float32) for a in annotators], dtype=float)
    out = _nominal_matrix(units, matrix, annotators, len(code))
    out["tokens"] = tokens
    out["misaligned_spans"] = misaligned
    out["note"] = NOTE
    return out


def category_agreement(units: list[Unit], annotators: list[str]) -> dict[str, Any]:
    with_category = [u for u in units if sum(a.get("category") is not None for a in u.annotations.values()) >= 2]
    sequences: dict[str, dict[int, list[str]]] = {a: {} for a in annotators}
    for index, unit in enumerate(with_category):
        for annotator, record in unit.annotations.items():
            if record.get("category") is not None:
                sequences[annotator][index] = [record["category"]]
    agree = [
        len({r.get("category") for r in u.annotations.values() if r.get("category") is not None}) == 1
        for u in with_category
    ]
    out = _nominal(with_category, sequences, annotators, [1] * len(with_category))
    out["percent_agreement"] = _round(sum(agree) / len(agree)) if agree else None
    out["units"] = len(with_category)
    return out


def _total(counts: dict[str, list[int]]) -> list[int]:
    """[tp, a, b] summed over labels."""
    return [sum(row[k] for row in counts.values()) for k in range(3)]


def pair_f1s(unit: Unit) -> list[float]:
    """Exact span F1 of every annotator pair on one unit (1.0 when neither marked a span)."""
    values = []
    for x, y in itertools.combinations(unit.annotations, 2):
        value = f1(*_total(match_counts(unit.spans(x), unit.spans(y), "exact")))
        values.append(1.0 if value is None else value)
    return values


def disagreements(units: list[Unit], limit: int = MAX_DISAGREEMENTS) -> tuple[int, list[dict[str, Any]]]:
    """(how many units disagree, the `limit` worst): ranked by lowest pairwise exact F1, each
    annotator's spans side by side. Only the kept rows are built."""
    lowest = ((min(pair_f1s(unit), default=1.0), unit.sentence_id, index) for index, unit in enumerate(units))
    disagreeing = [entry for entry in lowest if entry[0] < 1.0]
    rows = []
    for value, _, index in heapq.nsmallest(limit, disagreeing):
        unit = units[index]
        rows.append(
            {
                "sentence_id": unit.sentence_id,
                "article_id": unit.article_id,
                "text": unit.text,
                "lowest_f1": round(value, 4),
                "spans": {
                    a: [[s["start"], s["end"], s["label"], unit.text[s["start"] : s["end"]]] for s in r["spans"]]
                    for a, r in unit.annotations.items()
                },
            }
        )
    return len(disagreeing), rows


def unit_agreement(unit: Unit) -> float | None:
    """Mean pairwise exact span F1 on one sentence (None with one annotator; 1.0 when all are empty)."""
    values = pair_f1s(unit)
    return round(sum(values) / len(values), 4) if values else None


def label_confusion(units: list[Unit], labels: list[str]) -> dict[str, dict[str, int]]:
    """Counts of (label by one annotator, label by another) for overlapping spans; `none` when unmatched."""
    names = [*labels, "none"]
    matrix = {a: {b: 0 for b in names} for a in names}
    for unit in units:
        for x, y in itertools.permutations(unit.annotations, 2):
            for sa, ea, la in unit.spans(x):
                overlapping = [lb for sb, eb, lb in unit.spans(y) if sa < eb and sb < ea]
                matrix[la][la if la in overlapping else (overlapping[0] if overlapping else "none")] += 1
    return matrix


def prelabel_quality(units: list[Unit], tasks: list[dict[str, Any]], labels: list[str]) -> dict[str, Any]:
    """The model's spans against the adjudicated spans: P/R/F1 per label (exact match)."""
    predicted = {
        t["data"]["sentence_id"]: {
            (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
            for r in (t["predictions"][0]["result"] if t["predictions"] else [])
        }
        for t in tasks
    }
    model_version = next((t["predictions"][0]["model_version"] for t in tasks if t["predictions"]), None)
    counts: dict[str, list[int]] = {label: [0, 0, 0] for label in labels}
    compared = 0
    for unit in units:
        if unit.sentence_id not in predicted:
            continue
        compared += 1
        gold = frozenset((s["start"], s["end"], s["label"]) for s in adjudicate(unit)[0])
        for label, row in match_counts(frozenset(predicted[unit.sentence_id]), gold, "exact").items():
            counts.setdefault(label, [0, 0, 0])
            counts[label] = [x + y for x, y in zip(counts[label], row, strict=True)]

    return {
        "model_version": model_version,
        "sentences": compared,
        "per_label": {label: _prf(counts[label]) for label in labels},
        "micro": _prf(_total(counts)),
    }


def _prf(row: list[int]) -> dict[str, Any]:
    tp, a, b = row
    return {
        "precision": _round(tp / a if a else None),
        "recall": _round(tp / b if b else None),
        "f1": _round(f1(tp, a, b)),
        "predicted": a,
        "gold": b,
    }


def adjudication_summary(units: list[Unit], labels: list[str]) -> dict[str, Any]:
    """How each sentence's gold was decided, stale review decisions, and each annotator against the gold.

    An annotator is scored (exact spans, per label) on the sentences whose gold is not their own
    single annotation: precision = their spans that are gold, recall = gold spans they marked.
    """
    how: Counter = Counter()
    stale = []
    scored: dict[str, dict[str, list[int]]] = {}
    sentences: Counter = Counter()
    for unit in units:
        spans, decided, _ = adjudicate(unit)
        how[decided] += 1
        if is_stale(unit):
            stale.append(unit.sentence_id)
        if decided == "single":
            continue
        gold = frozenset((s["start"], s["end"], s["label"]) for s in spans)
        for annotator in unit.annotations:
            sentences[annotator] += 1
            counts = scored.setdefault(annotator, {label: [0, 0, 0] for label in labels})
            for label, row in match_counts(unit.spans(annotator), gold, "exact").items():
                counts[label] = [x + y for x, y in zip(counts.setdefault(label, [0, 0, 0]), row, strict=True)]
    return {
        "sentences": {name: how[name] for name in HOWS},
        "stale_reviews": stale,
        "orphan_adjudications": list(getattr(units, "orphan_adjudications", [])),
        "annotators_vs_gold": {
            annotator: {
                "sentences": sentences[annotator],
                "micro": _prf(_total(counts)),
                "per_label": {label: _prf(counts[label]) for label in labels},
            }
            for annotator, counts in sorted(scored.items())
        },
    }


def agreement_report(
    units: list[Unit], settings: Settings, tasks: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Everything `agree` reports, as the `agreement.json` mapping."""
    all_units, units = units, [u for u in units if len(u.annotations) >= 2]
    annotators = sorted({a for u in all_units for a in u.annotations})
    labels = settings.entities
    report: dict[str, Any] = {
        "n_units": len(units),
        "n_sentences": len(all_units),
        "n_single_annotator_sentences": len(all_units) - len(units),
        "n_annotators": len(annotators),
        "annotators": annotators,
        "span_f1": {mode: span_agreement(units, labels, mode) for mode in ("exact", "overlap")},
        "token": token_agreement(units, annotators, settings.dataset.language),
        "label_confusion": label_confusion(units, labels),
    }
    if settings.categories:
        report["categories"] = category_agreement(units, annotators)
    report["n_disagreements"], report["disagreements"] = disagreements(units)
    report["guideline_checks"] = check_records(
        (u.sentence_id, name, u.text, a["spans"]) for u in all_units for name, a in u.annotations.items()
    )
    report["adjudication"] = adjudication_summary(all_units, labels)
    if tasks is not None:
        report["prelabel_quality"] = prelabel_quality(all_units, tasks, labels)
    return report
