"""Writing the agreement report: `agreement.json`, `agreement.md` and PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsner.io import write_json, write_text


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _ci(measure: dict[str, Any]) -> str:
    return f"{_fmt(measure['ci95'][0])}–{_fmt(measure['ci95'][1])}"


def adjudication_markdown(summary: dict[str, Any], labels: list[str]) -> list[str]:
    """How the gold was decided, and each annotator's exact-span P/R/F1 against it (lines of Markdown)."""
    counts = summary["sentences"]
    lines = [
        "",
        f"Gold: **{counts['review']}** sentences decided by a reviewer, {counts['ground_truth']} by a "
        f"ground-truth annotation, {counts['majority']} by majority, {counts['single']} with one annotator. "
        "Reviewers are not annotators: no figure above counts them.",
    ]
    if summary["stale_reviews"]:
        lines += [
            "",
            f"**{len(summary['stale_reviews'])}** review decisions were made before an annotator changed "
            f"their version (run `newsner review` to show the reviewer the new versions): "
            + ", ".join(f"`{s}`" for s in summary["stale_reviews"][:20]),
        ]
    if summary["orphan_adjudications"]:
        lines += [
            "",
            f"{len(summary['orphan_adjudications'])} adjudications concern sentences nobody annotated "
            "(not used): " + ", ".join(f"`{s}`" for s in summary["orphan_adjudications"][:20]),
        ]
    if summary["annotators_vs_gold"]:
        lines += [
            "",
            "Each annotator against the adjudicated gold (exact spans; sentences whose gold is not "
            "their own single annotation):",
            "",
            "| annotator | sentences | precision | recall | F1 | "
            + " | ".join(f"{label} F1" for label in labels)
            + " |",
            "|---|---|---|---|---|" + "---|" * len(labels),
        ]
        for name, row in summary["annotators_vs_gold"].items():
            micro = row["micro"]
            lines.append(
                f"| {name} | {row['sentences']} | {_fmt(micro['precision'])} | {_fmt(micro['recall'])} | "
                f"{_fmt(micro['f1'])} | " + " | ".join(_fmt(row["per_label"][label]["f1"]) for label in labels) + " |"
            )
    return lines


def agreement_markdown(report: dict[str, Any]) -> str:
    """The Markdown summary (also used in the dataset card)."""
    exact, overlap = report["span_f1"]["exact"], report["span_f1"]["overlap"]
    token = report["token"]
    lines = [
        f"Units (sentences with ≥ 2 annotators): **{report['n_units']}** of {report['n_sentences']} sentences; "
        f"annotators: {report['n_annotators']}.",
        "",
        "| measure | value | 95% CI |",
        "|---|---|---|",
        f"| span F1, exact (mean over pairs) | {_fmt(exact['mean'])} | {_ci(exact)} |",
        f"| span F1, overlap (mean over pairs) | {_fmt(overlap['mean'])} | {_ci(overlap)} |",
        f"| token Cohen's κ (mean over pairs) | {_fmt(token['cohen_kappa']['mean'])} | |",
        f"| token Fleiss' κ | {_fmt(token['fleiss_kappa'])} | |",
        f"| token Krippendorff's α (nominal) | {_fmt(token['krippendorff_alpha'])} | |",
        "",
    ]
    if token.get("fleiss_kappa_skipped"):
        lines += [f"Fleiss' κ not computed: {token['fleiss_kappa_skipped']}.", ""]
    lines += ["| label | exact F1 | 95% CI | overlap F1 | spans |", "|---|---|---|---|---|"]
    for label, row in exact["per_label"].items():
        lines.append(
            f"| {label} | {_fmt(row['f1'])} | {_fmt(row['ci95'][0])}–{_fmt(row['ci95'][1])} | "
            f"{_fmt(overlap['per_label'][label]['f1'])} | {row['support']} |"
        )
    lines += ["", "| annotator pair | exact F1 | shared sentences |", "|---|---|---|"]
    lines += [
        f"| {p['annotators'][0]} × {p['annotators'][1]} | {_fmt(p['f1'])} | {p['units']} |" for p in exact["pairs"]
    ]
    if "categories" in report:
        cat = report["categories"]
        lines += [
            "",
            f"Sentence categories: percent agreement {_fmt(cat['percent_agreement'])}, Cohen's κ "
            f"{_fmt(cat['cohen_kappa']['mean'])}, Fleiss' κ {_fmt(cat['fleiss_kappa'])}, Krippendorff's α "
            f"{_fmt(cat['krippendorff_alpha'])}.",
        ]
    if "prelabel_quality" in report:
        quality = report["prelabel_quality"]
        lines += [
            "",
            f"Pre-label quality of `{quality['model_version']}` against the adjudicated spans "
            f"({quality['sentences']} sentences):",
            "",
            "| label | precision | recall | F1 |",
            "|---|---|---|---|",
        ]
        for label, row in [*quality["per_label"].items(), ("all (micro)", quality["micro"])]:
            lines.append(f"| {label} | {_fmt(row['precision'])} | {_fmt(row['recall'])} | {_fmt(row['f1'])} |")
    if "adjudication" in report:
        lines += adjudication_markdown(report["adjudication"], list(report["span_f1"]["exact"]["per_label"]))
    checks = report.get("guideline_checks")
    if checks is not None:
        lines += [
            "",
            f"Spans that break a mechanical guideline rule: **{checks['n_spans']}** (listed in "
            f"`agreement.json` → `guideline_checks`; not rewritten, the adjudicator decides).",
        ]
        if checks["per_annotator"]:
            codes = list(checks["checks"])
            lines += [
                "",
                "| annotator | " + " | ".join(checks["checks"][c] for c in codes) + " |",
                "|---|" + "---|" * len(codes),
            ]
            lines += [
                f"| {name} | " + " | ".join(str(found.get(c, 0)) for c in codes) + " |"
                for name, found in checks["per_annotator"].items()
            ]
    lines += ["", f"{report['n_disagreements']} sentences with disagreements. {token['note']}", ""]
    return "\n".join(lines)


def write_plots(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Per-label F1 bars with CIs, annotator-pair heatmap, label confusion between annotators."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "newsner"
    paths = []
    exact = report["span_f1"]["exact"]
    labels = list(exact["per_label"])
    values = [exact["per_label"][label]["f1"] or 0.0 for label in labels]
    low = [max(0.0, v - (exact["per_label"][label]["ci95"][0] or v)) for v, label in zip(values, labels, strict=True)]
    high = [max(0.0, (exact["per_label"][label]["ci95"][1] or v) - v) for v, label in zip(values, labels, strict=True)]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(labels, values, yerr=[low, high], capsize=4, color="#4363d8")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("exact span F1 (mean over pairs)")
    ax.set_title("Inter-annotator span F1 per label (95% bootstrap CI)")
    paths.append(_save(fig, out_dir / "f1_per_label.png"))

    annotators = report["annotators"]
    import numpy as np

    grid = np.full((len(annotators), len(annotators)), np.nan)
    for pair in exact["pairs"]:
        i, j = annotators.index(pair["annotators"][0]), annotators.index(pair["annotators"][1])
        if pair["f1"] is not None:
            grid[i, j] = grid[j, i] = pair["f1"]
    np.fill_diagonal(grid, 1.0)
    fig, ax = plt.subplots(figsize=(1.6 + 1.2 * len(annotators), 1.2 + 1.0 * len(annotators)))
    image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(annotators)), annotators, rotation=30, ha="right")
    ax.set_yticks(range(len(annotators)), annotators)
    for i in range(len(annotators)):
        for j in range(len(annotators)):
            if not np.isnan(grid[i, j]):
                ax.text(
                    j, i, f"{grid[i, j]:.2f}", ha="center", va="center", color="white" if grid[i, j] < 0.6 else "black"
                )
    fig.colorbar(image, ax=ax, label="exact span F1")
    ax.set_title("Agreement between annotator pairs")
    paths.append(_save(fig, out_dir / "annotator_pairs.png"))

    confusion = report["label_confusion"]
    names = list(confusion)
    counts = np.array([[confusion[a][b] for b in names] for a in names], dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("label by the other annotator (overlapping span)")
    ax.set_ylabel("label by one annotator")
    for i in range(len(names)):
        for j in range(len(names)):
            dark = counts[i, j] > 0.6 * counts.max()
            ax.text(j, i, int(counts[i, j]), ha="center", va="center", color="white" if dark else "black")
    ax.set_title("Label confusion between annotators")
    paths.append(_save(fig, out_dir / "label_confusion.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def write_agreement(report: dict[str, Any], out_dir: Path, *, plots: bool = True) -> list[Path]:
    """Write agreement.json, agreement.md and (optionally) the plots into `out_dir`, as one set.

    Every file is written into a staging folder inside `out_dir` first and moved into place only when
    all of them were written, so a failure (a full disk) leaves the previous report set whole.
    """
    import os
    import shutil
    import tempfile

    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".agreement.", suffix=".tmp", dir=out_dir))
    try:
        write_json(stage / "agreement.json", report)
        write_text(stage / "agreement.md", "# Inter-annotator agreement\n\n" + agreement_markdown(report))
        names = ["agreement.json", "agreement.md"] + ([p.name for p in write_plots(report, stage)] if plots else [])
        for name in names:
            os.replace(stage / name, out_dir / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [out_dir / name for name in names]
