"""NER context: sentence vs paragraph, measured against the adjudicated annotations.

    python benchmarks/bench_context.py

Pre-labels the committed sentences both ways and scores each against the adjudicated spans of
annotation/annotations.jsonl (exact match, per label and micro), plus throughput of each mode.
"""

from __future__ import annotations

import time
from pathlib import Path

from newsner.agreement import prelabel_quality
from newsner.annotations import group_units, read_annotations
from newsner.config import load_settings, settings_from_dict
from newsner.io import read_records
from newsner.prelabel import prelabel

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    settings = load_settings(ROOT / "newsner.toml")
    units = group_units(read_annotations(ROOT / "annotation/annotations.jsonl", settings))
    sentences = read_records(ROOT / "corpus/sentences.jsonl")
    print(f"{len(units)} adjudicated sentences")
    list(prelabel(sentences[:1], settings))  # load the model once so neither mode pays for it
    for context in ("sentence", "paragraph"):
        raw = dict(settings.raw)
        raw["prelabel"] = {**raw.get("prelabel", {}), "context": context}
        start = time.perf_counter()
        tasks = list(prelabel(sentences, settings_from_dict(raw)))
        seconds = time.perf_counter() - start
        quality = prelabel_quality(units, tasks, settings.entities)
        micro = quality["micro"]
        per_label = ", ".join(f"{k} {v['f1']}" for k, v in quality["per_label"].items())
        print(
            f"  {context:9s} micro P {micro['precision']} R {micro['recall']} F1 {micro['f1']}  ({per_label})  "
            f"{seconds:.2f} s"
        )


if __name__ == "__main__":
    main()
