"""`newsner train`: time, peak memory and test-split F1 of the defaults, and of training from scratch.

    python benchmarks/bench_train.py [--annotations FILE] [--sentences FILE] [--config FILE] [--max-steps N]

Each configuration runs in its own process (`newsner train`), so the peak RSS is that training's.
The annotations should be real news with this project's labels, at least 10k sentences, grouped as
`[split]` says; without `--annotations` the repository's own (small) annotations are used, which
shows the mechanics, not the quality. Goals on this 2-core machine with the defaults: <= 3 minutes and
<= 1.5 GB for 2,000 sentences; <= 15 minutes and <= 2 GB for 14k.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _measure import measured

ROOT = Path(__file__).resolve().parents[1]


def train(args: list[str]) -> tuple[float, float]:
    return measured([sys.executable, "-m", "newsner.cli", "train", *args])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--annotations", type=Path, default=ROOT / "annotation" / "annotations.jsonl")
    parser.add_argument("--sentences", type=Path, default=ROOT / "corpus" / "sentences.jsonl")
    parser.add_argument("--config", type=Path, default=ROOT / "newsner.toml")
    parser.add_argument("--max-steps", type=int, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    common = [str(args.annotations), "--sentences", str(args.sentences), "--config", str(args.config)]
    if args.max_steps:
        common += ["--max-steps", str(args.max_steps)]
    runs = {"defaults (base weights)": [], "from scratch": ["--from-scratch"]}
    print(f"annotations: {args.annotations}")
    for name, extra in runs.items():
        out = work / name.split()[0]
        seconds, peak = train([*common, "-o", str(out), *extra])
        m = json.loads((out / "metrics.json").read_text())
        labels = ", ".join(f"{label} {v['f1']:.3f}" for label, v in m["per_label"].items())
        print(f"  {name:24s} {m['train_sentences']:>6} train / {m['test_sentences']:>5} test sentences  "
              f"{seconds:6.1f} s  peak {peak:6.0f} MiB  {m['steps']:>5} steps  test F1 {m['test']['f1']:.3f} ({labels})")


if __name__ == "__main__":
    main()
