from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from newsner.agreement import _nominal, agreement_report, span_agreement
from newsner.annotations import Unit, group_units
from newsner.cli import app
from newsner.config import load_settings
from newsner.errors import ValidationError
from tests.conftest import ROOT

SETTINGS = load_settings(ROOT / "newsner.toml")
TEXT = "Tokayev met Putin in Moscow and Minsk."


def unit(sid: str, **annotators: list[tuple[int, int, str]]) -> Unit:
    return Unit(
        sid,
        "a" * 16,
        TEXT,
        {
            name: {"annotator": name, "spans": [{"start": s, "end": e, "label": label} for s, e, label in spans]}
            for name, spans in annotators.items()
        },
    )


def test_fleiss_kappa_wikipedia_example():
    # 10 subjects, 14 raters, 5 categories (Wikipedia "Fleiss' kappa" worked example) -> 0.210
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    raters = [f"r{i}" for i in range(14)]
    sequences = {r: {} for r in raters}
    for index, row in enumerate(table):
        ratings = [c for c, n in enumerate(row) for _ in range(n)]
        for r, rating in zip(raters, ratings, strict=False):
            sequences[r][index] = [rating]
    units = [Unit(str(i), "a", "x", {r: {} for r in raters}) for i in range(10)]
    assert _nominal(units, sequences, raters, [1] * 10)["fleiss_kappa"] == pytest.approx(0.20993, abs=5e-5)


def test_krippendorff_alpha_worked_example_with_missing_values():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: 4 coders x 12 units
    nan = None
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
    coders = ["A", "B", "C", "D"]
    sequences = {c: {u: [v] for u, v in enumerate(row) if v is not None} for c, row in zip(coders, data, strict=True)}
    units = [Unit(str(u), "a", "x", {c: {} for c in coders if u in sequences[c]}) for u in range(12)]
    assert _nominal(units, sequences, coders, [1] * 12)["krippendorff_alpha"] == pytest.approx(0.743, abs=5e-4)


def test_cohen_kappa_textbook_table():
    # 3x3 table (rows: rater A, columns: rater B): [[25, 2, 3], [3, 20, 2], [2, 3, 40]] -> kappa = 0.7564
    table = np.array([[25, 2, 3], [3, 20, 2], [2, 3, 40]])
    a = [i for i in range(3) for j in range(3) for _ in range(table[i, j])]
    b = [j for i in range(3) for j in range(3) for _ in range(table[i, j])]
    sequences = {"A": {0: a}, "B": {0: b}}
    result = _nominal([Unit("0", "a", "x", {"A": {}, "B": {}})], sequences, ["A", "B"], [len(a)])
    po = 85 / 100
    pe = (30 * 30 + 25 * 25 + 45 * 45) / 100**2
    assert result["cohen_kappa"]["mean"] == pytest.approx(round((po - pe) / (1 - pe), 4))


@pytest.mark.parametrize(
    "units, exact, overlap",
    [
        ([unit("1", x=[(0, 7, "PER"), (12, 17, "PER")], y=[(0, 7, "PER"), (12, 17, "PER")])], 1.0, 1.0),  # perfect
        ([unit("1", x=[(0, 7, "PER")], y=[(21, 27, "LOC")])], 0.0, 0.0),  # disjoint
        ([unit("1", x=[(0, 7, "PER"), (21, 27, "LOC")], y=[(0, 5, "PER"), (21, 27, "LOC")])], 0.5, 1.0),  # boundary
        ([unit("1", x=[(21, 27, "LOC")], y=[(21, 27, "ORG")])], 0.0, 0.0),  # label mismatch
        ([unit("1", x=[], y=[]), unit("2", x=[(0, 7, "PER")], y=[(0, 7, "PER")])], 1.0, 1.0),  # empty unit adds nothing
    ],
)
def test_span_f1_by_hand(units, exact, overlap):
    assert span_agreement(units, SETTINGS.entities, "exact")["mean"] == exact
    assert span_agreement(units, SETTINGS.entities, "overlap")["mean"] == overlap


def test_three_annotators_one_missing():
    units = [
        unit("1", x=[(0, 7, "PER")], y=[(0, 7, "PER")], z=[(0, 7, "PER"), (21, 27, "LOC")]),
        unit("2", x=[(12, 17, "PER")], y=[(12, 17, "LOC")]),  # z did not annotate this one
    ]
    result = span_agreement(units, SETTINGS.entities, "exact")
    pairs = {tuple(p["annotators"]): p["f1"] for p in result["pairs"]}
    # x-y: unit1 tp1 a1 b1, unit2 tp0 a1 b1 -> 2/4 = 0.5; x-z: 2*1/(1+2) = 0.6667; y-z: same
    assert pairs == {("x", "y"): 0.5, ("x", "z"): 0.6667, ("y", "z"): 0.6667}
    assert result["mean"] == round((0.5 + 0.6667 + 0.6667) / 3, 4)
    # PER only: x-y tp1 a2 b1 -> 0.6667 (y called the second span LOC); x-z and y-z 1.0
    assert result["per_label"]["PER"]["f1"] == round((0.6667 + 1.0 + 1.0) / 3, 4)
    report = agreement_report(units, SETTINGS)
    assert report["token"]["fleiss_kappa"] is None
    assert report["token"]["fleiss_kappa_skipped"].startswith("units have different numbers of annotators")
    assert [d["sentence_id"] for d in report["disagreements"]] == ["2", "1"]


def test_units_with_different_texts_name_the_sentence():
    records = [
        {"sentence_id": "s1", "article_id": "a", "annotator": "x", "text": "One.", "spans": []},
        {"sentence_id": "s1", "article_id": "a", "annotator": "y", "text": "Two.", "spans": []},
    ]
    with pytest.raises(ValidationError, match="sentence s1: annotators saw different texts"):
        group_units(records)


def test_agree_cli_writes_report_and_plots(project: Path, runner):
    records = []
    for i, who in enumerate(["annotator-a", "annotator-b"] * 3):
        spans = [{"start": 0, "end": 7, "label": "PER"}] + ([{"start": 21, "end": 27, "label": "LOC"}] if i % 3 else [])
        records.append(
            {"sentence_id": f"s{i // 2}", "article_id": "a" * 16, "annotator": who, "text": TEXT, "spans": spans}
        )
    Path("annotations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = runner.invoke(app, ["agree", "annotations.jsonl", "-o", "reports"])
    assert result.exit_code == 0, result.output
    report = json.loads(Path("reports/agreement.json").read_text())
    # by hand: s0 a{PER} b{PER,LOC}; s1 a{PER,LOC} b{PER}; s2 both {PER,LOC} -> 4 matched of 5 + 5 spans
    assert (report["n_units"], report["n_annotators"], report["n_disagreements"]) == (3, 2, 2)
    exact = report["span_f1"]["exact"]
    assert exact["pairs"] == [
        {"annotators": ["annotator-a", "annotator-b"], "f1": 0.8, "units": 3, "matched": 4, "spans": [5, 5]}
    ]
    assert exact["mean"] == 0.8
    assert (exact["per_label"]["PER"]["f1"], exact["per_label"]["LOC"]["f1"]) == (1.0, 0.5)
    assert sorted(d["sentence_id"] for d in report["disagreements"]) == ["s0", "s1"]
    assert {"cohen_kappa", "fleiss_kappa", "krippendorff_alpha"} <= set(report["token"])
    assert sorted(p.name for p in Path("reports").glob("*.png")) == [
        "annotator_pairs.png",
        "f1_per_label.png",
        "label_confusion.png",
    ]


def test_agree_rejects_unknown_label(project: Path, runner):
    Path("annotations.jsonl").write_text(
        json.dumps(
            {
                "sentence_id": "s9",
                "article_id": "a",
                "annotator": "x",
                "text": TEXT,
                "spans": [{"start": 0, "end": 7, "label": "CITY"}],
            }
        )
        + "\n"
    )
    result = runner.invoke(app, ["agree", "annotations.jsonl"])
    assert result.exit_code == 1
    assert "annotations.jsonl:1: sentence s9: [$.spans[0]] label 'CITY' is not in the label set" in result.output


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_equals_the_krippendorff_package_with_missing_values(seed):
    import krippendorff

    from newsner.agreement import krippendorff_alpha_nominal

    rng = np.random.default_rng(seed)
    data = rng.integers(0, 4, size=(4, 300)).astype(float)
    data[rng.random(data.shape) < 0.25] = np.nan
    data[:, :150] = np.where(rng.random((4, 150)) < 0.7, data[0, :150], data[:, :150])  # some agreement
    counts = np.zeros((data.shape[1], 4))
    for row in data:
        present = ~np.isnan(row)
        np.add.at(counts, (np.flatnonzero(present), row[present].astype(int)), 1)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(counts) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("raters, values", [(3, 9), (5, 4), (3, 40)])  # (3, 40): the wide-table fallback
def test_pattern_table_fleiss_and_alpha_equal_the_reference_packages(raters, values):
    import krippendorff
    from statsmodels.stats.inter_rater import fleiss_kappa

    from newsner.agreement import fleiss_kappa_weighted, krippendorff_alpha_nominal, value_patterns

    rng = np.random.default_rng(raters * values)
    truth = rng.integers(0, values, size=2000)
    matrix = np.where(rng.random((raters, 2000)) < 0.8, truth, rng.integers(0, values, size=(raters, 2000))).astype(
        float
    )
    table = np.zeros((2000, values))
    for row in matrix:
        np.add.at(table, (np.arange(2000), row.astype(int)), 1)
    patterns, weights = value_patterns(matrix, values)
    assert weights.sum() == 2000 and len(patterns) < 2000
    assert fleiss_kappa_weighted(patterns, weights) == pytest.approx(fleiss_kappa(table), abs=1e-9)
    matrix[rng.random(matrix.shape) < 0.2] = np.nan  # missing values
    patterns, weights = value_patterns(matrix, values)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(patterns, weights) == pytest.approx(expected, abs=1e-9)
