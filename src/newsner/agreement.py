"""Inter-annotator agreement (DESIGN §4): span F1, token κ/α, category agreement, disagreements.

Units are sentences with at least two distinct annotators. Span F1 is positive specific agreement
(F1 = 2a / (2a + b + c)), micro-summed over the units both annotators of a pair annotated; a unit
where neither marked a span adds nothing. The mean is over annotator pairs.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections import defaultdict
from typing import Any

import numpy as np

from newsner.adjudicate import adjudicate
from newsner.annotations import Unit
from newsner.config import Settings
from newsner.tokens import iob2_tags, tokenizer_nlp

Span = tuple[int, int, str]
BOOTSTRAP_SAMPLES = 200
MAX_DISAGREEMENTS = 500
NOTE = ("Token-level kappa is inflated by the many `O` tokens (Brandsen et al. 2020); "
        "pairwise span F1 is the headline figure.")


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
        ((min(ea, eb) - max(sa, sb), x, y) for x, (sa, ea, la) in enumerate(ordered_a)
         for y, (sb, eb, lb) in enumerate(ordered_b) if la == lb and sa < eb and sb < ea),
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
    pair_rows: dict[tuple[str, str], list[tuple[int, dict[str, list[int]]]]] = defaultdict(list)
    for index, unit in enumerate(units):
        for x, y in itertools.combinations(sorted(unit.annotations), 2):
            pair_rows[(x, y)].append((index, match_counts(unit.spans(x), unit.spans(y), mode)))
    label_index = {label: i for i, label in enumerate(labels)}
    pairs = sorted(pair_rows)
    rows, values = [], []  # (unit, pair, label) -> [tp, a, b]; the last label slot is the total
    for p, pair in enumerate(pairs):
        for unit_index, counts in pair_rows[pair]:
            for label, row in counts.items():
                rows += [(unit_index, p, label_index[label]), (unit_index, p, len(labels))]
                values += [row, row]
    data = np.zeros((len(units), len(pairs), len(labels) + 1, 3))
    if rows:
        index = np.array(rows)
        np.add.at(data, (index[:, 0], index[:, 1], index[:, 2]), np.array(values, dtype=float))
    sums = data.sum(axis=0)  # [pair][label+total][3]

    def f1s(totals: np.ndarray) -> np.ndarray:  # totals [..., 3]
        denom = totals[..., 1] + totals[..., 2]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denom > 0, 2 * totals[..., 0] / denom, np.nan)

    scores = f1s(sums)  # [pair][label+total]
    rng = np.random.default_rng(seed)
    ci = np.full((len(labels) + 1, 2), np.nan)
    if units and pairs:
        weights = rng.multinomial(len(units), np.full(len(units), 1 / len(units)), size=BOOTSTRAP_SAMPLES)
        boot = (weights @ data.reshape(len(units), -1)).reshape(BOOTSTRAP_SAMPLES, *data.shape[1:])
        with warnings.catch_warnings():  # labels nobody used give all-NaN columns: reported as null
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.nanmean(f1s(boot), axis=1)  # mean over pairs
            ci = np.nanpercentile(means, [2.5, 97.5], axis=0).T
    per_label = {}
    for label, i in label_index.items():
        per_label[label] = {"f1": _mean([_round(v) for v in scores[:, i]]) if pairs else None,
                            "ci95": [_round(ci[i][0]), _round(ci[i][1])],
                            "support": int(sums[:, i, 1].sum() + sums[:, i, 2].sum())}
    return {
        "mean": _mean([_round(v) for v in scores[:, -1]]) if pairs else None,
        "ci95": [_round(ci[-1][0]), _round(ci[-1][1])],
        "per_label": per_label,
        "pairs": [{"annotators": list(pair), "f1": _round(scores[p, -1]), "units": len(pair_rows[pair]),
                   "tp": int(sums[p, -1, 0]), "a": int(sums[p, -1, 1]), "b": int(sums[p, -1, 2])}
                  for p, pair in enumerate(pairs)],
    }


def _nominal(units: list[Unit], sequences: dict[str, dict[int, list[Any]]], annotators: list[str],
             lengths: list[int]) -> dict[str, Any]:
    """Cohen (pairs), Fleiss (equal raters), Krippendorff α for aligned nominal sequences.

    `sequences[annotator][unit index]` is that annotator's list of values for the unit's items.
    """
    from sklearn.metrics import cohen_kappa_score

    values = sorted({v for seqs in sequences.values() for seq in seqs.values() for v in seq}, key=str)
    code = {v: i for i, v in enumerate(values)}
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    total = int(starts[-1])
    matrix = np.full((len(annotators), total), np.nan)  # annotator x item, NaN = missing
    for r, annotator in enumerate(annotators):
        for index, seq in sequences[annotator].items():
            matrix[r, starts[index] : starts[index] + len(seq)] = [code[v] for v in seq]
    cohen = []
    for (i, x), (j, y) in itertools.combinations(enumerate(annotators), 2):
        shared = ~np.isnan(matrix[i]) & ~np.isnan(matrix[j])
        if not shared.any():
            continue
        a, b = matrix[i][shared], matrix[j][shared]
        kappa = cohen_kappa_score(a, b) if len(np.union1d(a, b)) > 1 else float("nan")
        cohen.append({"annotators": [x, y], "kappa": _round(kappa), "items": int(shared.sum())})
    out: dict[str, Any] = {"cohen_kappa": {"mean": _mean([c["kappa"] for c in cohen]), "pairs": cohen}}
    counts = np.zeros((total, len(values)))  # items x values: how many annotators chose each value
    for row in matrix:
        present = ~np.isnan(row)
        np.add.at(counts, (np.flatnonzero(present), row[present].astype(int)), 1)
    raters = {len(u.annotations) for u in units}
    if len(raters) == 1 and units:
        from statsmodels.stats.inter_rater import fleiss_kappa

        out["fleiss_kappa"] = _round(fleiss_kappa(counts)) if len(values) > 1 else None
        out["fleiss_kappa_skipped"] = None if len(values) > 1 else "only one category was used"
    else:
        out["fleiss_kappa"] = None
        out["fleiss_kappa_skipped"] = (f"units have different numbers of annotators ({sorted(raters)}); "
                                       "Fleiss' kappa needs the same number for every unit")
    out["krippendorff_alpha"] = _round(krippendorff_alpha_nominal(counts))
    return out


def krippendorff_alpha_nominal(counts: np.ndarray) -> float:
    """Krippendorff's α (nominal) from an items × values table of how many coders chose each value.

    Items with fewer than two values are not pairable and drop out (missing values). Uses the
    coincidence matrix o = Σ_u n_u n_uᵀ / (m_u − 1) without its self-pairs, in O(items × values)
    memory; equal to the `krippendorff` package's result (tested), which needs items × values².
    """
    pairable = counts.sum(axis=1)
    counts = counts[pairable >= 2]
    if counts.shape[0] == 0:
        return float("nan")
    weight = 1.0 / (counts.sum(axis=1) - 1.0)
    coincidences = (counts * weight[:, None]).T @ counts - np.diag((counts * weight[:, None]).sum(axis=0))
    n_c = coincidences.sum(axis=1)
    n = n_c.sum()
    observed = coincidences.sum() - np.trace(coincidences)
    expected = (n_c.sum() ** 2 - (n_c**2).sum()) / (n - 1)
    return float("nan") if expected == 0 else float(1.0 - observed / expected)


def token_agreement(units: list[Unit], annotators: list[str], language: str) -> dict[str, Any]:
    """Token-level IOB2 agreement with the spaCy tokenizer of `language`."""
    nlp = tokenizer_nlp(language)
    sequences: dict[str, dict[int, list[str]]] = {a: {} for a in annotators}
    lengths, misaligned = [], 0
    for index, doc in enumerate(nlp.pipe(u.text for u in units)):
        lengths.append(len(doc))
        for annotator, record in units[index].annotations.items():
            tags, bad = iob2_tags(doc, record["spans"])
            sequences[annotator][index] = tags
            misaligned += bad
    out = _nominal(units, sequences, annotators, lengths)
    out["tokens"] = sum(lengths)
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
    agree = [len({r.get("category") for r in u.annotations.values() if r.get("category") is not None}) == 1
             for u in with_category]
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


def disagreements(units: list[Unit]) -> list[dict[str, Any]]:
    """Units ranked by their lowest pairwise exact F1, each annotator's spans side by side."""
    rows = []
    for unit in units:
        lowest = min(pair_f1s(unit), default=1.0)
        if lowest < 1.0:
            rows.append({
                "sentence_id": unit.sentence_id, "article_id": unit.article_id, "text": unit.text,
                "lowest_f1": round(lowest, 4),
                "spans": {a: [[s["start"], s["end"], s["label"], unit.text[s["start"]:s["end"]]] for s in r["spans"]]
                          for a, r in unit.annotations.items()},
            })
    rows.sort(key=lambda r: (r["lowest_f1"], r["sentence_id"]))
    return rows


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
        t["data"]["sentence_id"]: {(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
                                   for r in (t["predictions"][0]["result"] if t["predictions"] else [])}
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
            counts[label] = [x + y for x, y in zip(counts[label], row)]

    def prf(row: list[int]) -> dict[str, Any]:
        tp, a, b = row
        return {"precision": _round(tp / a if a else None), "recall": _round(tp / b if b else None),
                "f1": _round(f1(tp, a, b)), "predicted": a, "gold": b}

    return {"model_version": model_version, "sentences": compared,
            "per_label": {label: prf(counts[label]) for label in labels}, "micro": prf(_total(counts))}


def agreement_report(records_units: list[Unit], settings: Settings,
                     tasks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Everything `agree` reports, as the `agreement.json` mapping (DESIGN §8 keys)."""
    units = [u for u in records_units if len(u.annotations) >= 2]
    annotators = sorted({a for u in records_units for a in u.annotations})
    labels = settings.entities
    report: dict[str, Any] = {
        "n_units": len(units),
        "n_sentences": len(records_units),
        "n_single_annotator_sentences": len(records_units) - len(units),
        "n_annotators": len(annotators),
        "annotators": annotators,
        "span_f1": {mode: span_agreement(units, labels, mode) for mode in ("exact", "overlap")},
        "token": token_agreement(units, annotators, settings.dataset["language"]),
        "label_confusion": label_confusion(units, labels),
    }
    if settings.categories:
        report["categories"] = category_agreement(units, annotators)
    rows = disagreements(units)
    report["n_disagreements"] = len(rows)
    report["disagreements"] = rows[:MAX_DISAGREEMENTS]
    if tasks is not None:
        report["prelabel_quality"] = prelabel_quality(records_units, tasks, labels)
    return report
