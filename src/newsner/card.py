"""The dataset card (README.md with YAML metadata) written by `publish`."""

from __future__ import annotations

import json
from typing import Any

from newsner import __version__
from newsner.adjudicate import RULE
from newsner.agreement_output import agreement_markdown
from newsner.config import Settings
from newsner.partition import SPLITS
from newsner.tokens import class_names


def _given(value: str | None, default: str) -> str:
    """A setting's text when the settings give one (an empty text too), else the default."""
    return default if value is None else value


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def _yaml(settings: Settings, report: Any) -> str:
    """The card's YAML header, serialised by `datasets` itself from the features and files publish wrote.

    Each config states its splits' rows and bytes, and carries the sha256 of its parquet files in its
    `description`: `datasets` names the cache of a local folder after the card's YAML (not the files),
    so a rebuilt dataset must change the YAML to be reloaded rather than served from the old cache.
    """
    from datasets import DatasetInfo, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.splits import SplitDict
    from huggingface_hub import DatasetCardData

    name = settings.dataset.name
    infos, configs = {}, []
    for config_name, files in report.configs.items():
        splits = SplitDict(dataset_name=name)
        for split in SPLITS:
            splits.add(
                SplitInfo(
                    name=split,
                    num_bytes=files.num_bytes.get(split, 0),
                    num_examples=files.num_examples.get(split, 0),
                    dataset_name=name,
                )
            )
        infos[config_name] = DatasetInfo(
            features=files.features,
            splits=splits,
            config_name=config_name,
            download_size=files.download_size,
            dataset_size=sum(files.num_bytes.values()),
        )
        config: dict[str, Any] = {"config_name": config_name}
        if config_name == "default":
            config["default"] = True
        config["data_files"] = [{"split": split, "path": f"{files.folder}/{split}-*.parquet"} for split in SPLITS]
        config["description"] = f"{config_name}; parquet sha256 {files.fingerprint}"
        configs.append(config)
    card = DatasetCardData(
        pretty_name=_given(settings.dataset.pretty_name, name),
        license=settings.dataset.license,
        language=[settings.dataset.language],
        task_categories=["token-classification"],
        task_ids=["named-entity-recognition"],
        annotations_creators=["expert-generated", "machine-generated"],
        language_creators=["found"],
        multilinguality=["monolingual"],
        source_datasets=["original"],
        size_categories=[_size_category(sum(report.rows.values()))],
        configs=configs,
    )
    DatasetInfosDict(infos).to_dataset_card_data(card)
    return f"---\n{card.to_yaml()}\n---\n"


def dataset_card(
    settings: Settings,
    report: Any,
    agreement: dict[str, Any],
    tasks: list[dict[str, Any]] | None,
    provenance: dict[str, str],
    pull_report: dict[str, Any] | None = None,
    sources: list[dict[str, Any]] | None = None,
) -> str:
    """The whole README.md: YAML header and body. No timestamps, so identical input gives identical bytes."""
    name = settings.dataset.name
    pretty = _given(settings.dataset.pretty_name, name)
    names = class_names(settings.entities)
    model = next((t["predictions"][0]["model_version"] for t in (tasks or []) if t["predictions"]), "(no tasks given)")
    body = [
        f"# {pretty}",
        "",
        _given(
            settings.dataset.description,
            f"Named-entity annotations of news sentences ({', '.join(settings.entities)}), "
            "pre-labelled by a spaCy model, corrected by human annotators in Label Studio, "
            f"adjudicated and split by {settings.split.group_by}. Built with newsner.",
        ),
        "",
        "## Annotation",
        "",
        _given(settings.dataset.annotators_note, "Annotated by the dataset maintainers in Label Studio."),
        "",
        f"**Adjudication**: {RULE}. Sentences: " + ", ".join(f"{k} {v}" for k, v in sorted(report.how.items())) + ".",
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
        f"Grouped by {settings.split.group_by} (no {settings.split.group_by} in two splits), assigned by a "
        f"seeded hash of the group id (seed `{settings.split.seed}`; test fraction "
        f"{settings.split.test_fraction}, validation fraction {settings.split.validation_fraction}), so "
        f"adding articles never moves an existing one. `validation` is for model selection and early stopping; "
        f"report `test` once.",
    ]
    if settings.split.group_by == "paragraph":
        body += [
            "",
            "**Warning**: split by paragraph, so sentences of one article appear in several splits; "
            "test scores will be optimistic.",
        ]
    total = sum(report.rows.values()) or 1
    body += [
        "",
        "| split | sentences | share | " + settings.split.group_by + "s | " + " | ".join(settings.entities) + " |",
        "|---|---|---|---|" + "---|" * len(settings.entities),
    ]
    for split in SPLITS:
        body.append(
            f"| {split} | {report.rows[split]} | {report.rows[split] / total:.0%} | {report.groups[split]} | "
            + " | ".join(str(report.labels[split][e]) for e in settings.entities)
            + " |"
        )
    fractions = {"test": settings.split.test_fraction, "validation": settings.split.validation_fraction}
    larger = [
        f"{split} holds {report.rows[split] / total:.0%} of the sentences for a fraction of {fraction}"
        for split, fraction in fractions.items()
        if report.rows[split] / total > fraction + 0.05
    ]
    if larger:
        body += [
            "",
            "Why a split is larger than its fraction: " + "; ".join(larger) + f". Whole "
            f"{settings.split.group_by}s are assigned, and with {sum(report.groups.values())} "
            f"{settings.split.group_by}s of different lengths the shares of sentences vary; the fractions "
            f"hold for the {settings.split.group_by}s, on average.",
        ]
    body += ["", "## Columns", "", "| column | type | meaning |", "|---|---|---|"]
    body += [f"| `{name}` | {kind} | {meaning} |" for name, kind, meaning in _columns(settings)]
    body += [
        "",
        "The `annotations` config has one row per annotator and sentence (reviewers are not annotators):",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    body += [f"| `{name}` | {kind} | {meaning} |" for name, kind, meaning in ANNOTATION_COLUMNS]
    body += [
        "",
        "## Source texts and rights",
        "",
        f"The annotations (spans, labels, splits, the per-annotator layer) are released under "
        f"`{settings.dataset.license}`. The sentences are quoted from news articles whose rights stay with "
        f"their publishers; what is known of each article's source and rights is listed here (from a front-matter "
        f"block in the raw file, or the fields of a JSONL input; blank where nothing was stated).",
    ]
    if sources is None:
        body += ["", "(No articles.jsonl was given to `newsner publish`: the sources are not listed.)"]
    else:
        body += [
            "",
            "| article | title | publisher | date | URL | rights | raw file |",
            "|---|---|---|---|---|---|---|",
        ]
        for article in sources:
            meta = article.get("meta") or {}
            cells = [meta.get(key, "") for key in ("publisher", "date", "url")]
            rights = meta.get("rights") or meta.get("license") or "not stated"
            body.append(
                f"| `{article['id']}` | {_cell(article.get('title') or '')} | "
                + " | ".join(_cell(str(c)) for c in cells)
                + f" | {_cell(str(rights))} | `{article['source']}` |"
            )
    body += [
        "",
        "## Personal data",
        "",
        "The sentences are news text and name real, public people. Annotators appear only under keyed "
        "pseudonyms (`annotator-…`); their e-mail addresses are not in this dataset.",
    ]
    body += [
        "",
        "## Agreement",
        "",
        agreement_markdown(agreement),
        "![Span F1 per label (exact and overlap, 95% CI)](f1_per_label.png)",
        "",
        "![Exact span F1 for each annotator pair](annotator_pairs.png)",
        "",
        "![Label confusion between annotators](label_confusion.png)",
        "",
        "All figures are in `agreement.json`.",
        "",
        "## How to load",
        "",
        "```python",
        "from datasets import load_dataset",
        f'ds = load_dataset("path/to/{name}")            # train, validation and test',
        'names = ds["train"].features["ner_tags"].feature.names',
        f'layer = load_dataset("path/to/{name}", "annotations")  # one row per annotation',
        "```",
        "",
        "The parquet files were written by `datasets` ≥ 4, which stores lists as `List` features; "
        "`datasets` < 4 cannot read this feature type: upgrade `datasets` to load this dataset.",
        "",
        "## Provenance",
        "",
        f"- pre-labelling model: `{model}`",
        f"- built with newsner {__version__}",
    ]
    if pull_report:
        body += [
            f"- annotated in Label Studio {pull_report.get('label_studio_version') or '(version not recorded)'}; "
            f"export snapshot `{pull_report.get('export')}` ({pull_report.get('annotations')} annotations of "
            f"{pull_report.get('tasks')} tasks)"
        ]
    body += [f"- `{path}` sha256 `{digest}`" for path, digest in provenance.items()]
    body += [
        "",
        "## Citation",
        "",
        "```bibtex",
        f"@misc{{{name.replace('-', '_')},",
        f"  title = {{{{{pretty}}}: named entities in news sentences}},",
        f"  note = {{Built with newsner {__version__}; license {settings.dataset.license}}}",
        "}",
        "```",
    ]
    return _yaml(settings, report) + "\n".join(body) + "\n"


def _cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


ANNOTATION_COLUMNS = [
    ("sentence_id", "string", "the sentence (as in the default config's `id`)"),
    ("article_id", "string", "the article the sentence comes from"),
    ("annotator", "string", "the annotator's pseudonym"),
    ("text", "string", "the sentence"),
    ("spans", "list of {start, end, label}", "this annotator's entities: half-open code-point offsets into `text`"),
    ("category", "string or null", "this annotator's sentence category (when categories are configured)"),
    ("ground_truth", "bool", "whether the annotation was flagged ground truth in Label Studio"),
]


def _columns(settings: Settings) -> list[tuple[str, str, str]]:
    """The default config's columns, as publish writes them."""
    columns = [
        ("id", "string", "the sentence's content-hash id"),
        ("article_id", "string", "the article's content-hash id"),
        ("text", "string", "the sentence, as annotated"),
        ("tokens", "list of string", f"spaCy `{settings.dataset.language}` tokens of `text`"),
        ("ner_tags", "list of ClassLabel", "IOB2 tag per token (names in the Label scheme above)"),
        ("spans", "list of {start, end, label}", "the adjudicated entities: half-open code-point offsets into `text`"),
    ]
    if settings.categories:
        columns.append(
            ("category", "ClassLabel", f"the adjudicated sentence category: {', '.join(settings.categories)}")
        )
    columns += [
        ("n_annotators", "int32", "how many annotators labelled the sentence"),
        ("agreement", "float64 or null", "mean pairwise exact span F1 on this sentence (null with one annotator)"),
    ]
    return columns
