"""The dataset card (README.md with YAML metadata) written by `publish`."""

from __future__ import annotations

import json
from typing import Any

from newsner import __version__
from newsner.adjudicate import RULE
from newsner.agreement_output import agreement_markdown
from newsner.config import Settings
from newsner.tokens import class_names


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def _yaml(settings: Settings, report: Any) -> str:
    names = class_names(settings.entities)
    name = settings.dataset["name"]
    lines = [
        "---",
        f"pretty_name: {json.dumps(settings.dataset.get('pretty_name', name))}",
        f"license: {settings.dataset['license']}",
        "language:", f"- {settings.dataset['language']}",
        "task_categories:", "- token-classification",
        "task_ids:", "- named-entity-recognition",
        "annotations_creators:", "- expert-generated", "- machine-generated",
        "size_categories:", f"- {_size_category(sum(report.rows.values()))}",
        "configs:",
        "- config_name: default", "  default: true", "  data_files:",
        "  - split: train", "    path: data/train-*.parquet", "  - split: test", "    path: data/test-*.parquet",
        "- config_name: annotations", "  data_files:",
        "  - split: train", "    path: data/annotations/train-*.parquet",
        "  - split: test", "    path: data/annotations/test-*.parquet",
        "dataset_info:", "- config_name: default", "  features:",
        "  - name: id", "    dtype: string", "  - name: article_id", "    dtype: string",
        "  - name: text", "    dtype: string", "  - name: tokens", "    list: string",
        "  - name: ner_tags", "    list:", "      class_label:", "        names:",
    ]
    lines += [f"          '{i}': {n}" for i, n in enumerate(names)]
    lines += ["  - name: spans", "    list:", "    - name: start", "      dtype: int32", "    - name: end",
              "      dtype: int32", "    - name: label", "      dtype: string"]
    if settings.categories:
        lines += ["  - name: category", "    dtype:", "      class_label:", "        names:"]
        lines += [f"          '{i}': {json.dumps(c)}" for i, c in enumerate(settings.categories)]
    lines += ["  - name: n_annotators", "    dtype: int32", "  - name: agreement", "    dtype: float64",
              "  splits:", "  - name: train", f"    num_examples: {report.rows['train']}",
              "  - name: test", f"    num_examples: {report.rows['test']}", "---", ""]
    return "\n".join(lines)


def dataset_card(settings: Settings, report: Any, agreement: dict[str, Any], tasks: list[dict[str, Any]] | None,
                 provenance: dict[str, str], pull_report: dict[str, Any] | None = None) -> str:
    """The whole README.md: YAML header and body. No timestamps, so identical input gives identical bytes."""
    name = settings.dataset["name"]
    pretty = settings.dataset.get("pretty_name", name)
    names = class_names(settings.entities)
    model = next((t["predictions"][0]["model_version"] for t in (tasks or []) if t["predictions"]), "(no tasks given)")
    body = [
        f"# {pretty}",
        "",
        settings.dataset.get("description", f"Named-entity annotations of news sentences ({', '.join(settings.entities)}), "
                             "pre-labelled by a spaCy model, corrected by human annotators in Label Studio, "
                             f"adjudicated and split by {settings.split['group_by']}. Built with newsner."),
        "",
        "## Annotation",
        "",
        settings.dataset.get("annotators_note", "Annotated by the dataset maintainers in Label Studio."),
        "",
        f"**Adjudication**: {RULE}. Sentences: "
        + ", ".join(f"{k} {v}" for k, v in sorted(report.how.items())) + ".",
        f"The per-annotator layer is published as the `annotations` config, so you can adjudicate differently. "
        f"Spans not on token boundaries: {report.misaligned} (tagged `O`).",
        "",
        "## Label scheme",
        "",
        f"IOB2 tags; `ner_tags` is a ClassLabel with names in this order: `{json.dumps(names)}`. "
        f"Character spans (`spans`, half-open code-point offsets into `text`) are included.",
        "",
        "## Splits",
        "",
        f"Grouped by {settings.split['group_by']} (no {settings.split['group_by']} in both splits), assigned by a "
        f"seeded hash of the group id (seed `{settings.split['seed']}`, test fraction "
        f"{settings.split['test_fraction']}), so adding articles never moves an existing one.",
    ]
    if settings.split["group_by"] == "paragraph":
        body += ["", "**Warning**: split by paragraph, so sentences of one article appear in both splits; "
                 "test scores will be optimistic."]
    body += ["", "| split | sentences | " + " | ".join(settings.entities) + " |",
             "|---|---|" + "---|" * len(settings.entities)]
    for split in ("train", "test"):
        body.append(f"| {split} | {report.rows[split]} | "
                    + " | ".join(str(report.labels[split][e]) for e in settings.entities) + " |")
    body += ["", "## Agreement", "", agreement_markdown(agreement),
             "Plots: `f1_per_label.png`, `annotator_pairs.png`, `label_confusion.png`; all figures in `agreement.json`.",
             "", "## How to load", "", "```python", "from datasets import load_dataset",
             f'ds = load_dataset("path/to/{name}")            # train and test',
             'names = ds["train"].features["ner_tags"].feature.names',
             f'layer = load_dataset("path/to/{name}", "annotations")  # one row per annotation', "```", "",
             "The parquet files were written by `datasets` ≥ 4, which stores lists as `List` features; "
             "`datasets` < 4 cannot read this feature type: upgrade `datasets` to load this dataset.", "",
             "## Provenance", "",
             f"- pre-labelling model: `{model}`",
             f"- built with newsner {__version__}"]
    if pull_report:
        body += [f"- annotated in Label Studio {pull_report.get('label_studio_version') or '(version not recorded)'}; "
                 f"export snapshot `{pull_report.get('export')}` ({pull_report.get('annotations')} annotations of "
                 f"{pull_report.get('tasks')} tasks)"]
    body += [f"- `{path}` sha256 `{digest}`" for path, digest in provenance.items()]
    return _yaml(settings, report) + "\n".join(body) + "\n"
