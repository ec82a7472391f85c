"""Agreement at scale: `agreement_report` on N sentences x 3 annotators, at two sizes, same run.

    python benchmarks/bench_agree.py [--small 10000] [--large 100000]

Annotations are synthetic but realistic: news-like sentences with 0-3 entities, each annotator
dropping, relabelling or shifting a span now and then. Prints seconds, sentences/s and the
large/small time ratio against the size ratio (linear growth = ratios equal).
"""

from __future__ import annotations

import argparse
import random
import resource
import time

from newsner.agreement import agreement_report
from newsner.annotations import Unit
from newsner.config import settings_from_dict

TEMPLATES = [
    ("{p} met {q} in {l} on Monday to discuss the crisis.", ["PER", "PER", "LOC"]),
    ("The {o} said that troops would leave {l} within a week.", ["ORG", "LOC"]),
    ("Protests spread from {l} to {l2} after fuel prices doubled.", ["LOC", "LOC"]),
    ("Officials declined to comment on the number of arrests.", []),
    ("{p} told {o} reporters that order had been restored.", ["PER", "ORG"]),
]
NAMES = {
    "p": ["Tokayev", "Putin", "Blinken", "Nazarbayev"],
    "q": ["Lukashenko", "Pashinyan"],
    "l": ["Almaty", "Moscow", "Nur-Sultan"],
    "l2": ["Shymkent", "Aktobe"],
    "o": ["CSTO", "Kazinform", "CNN"],
}


def make_units(n: int, seed: int = 1) -> list[Unit]:
    rng = random.Random(seed)
    units = []
    for i in range(n):
        template, labels = TEMPLATES[i % len(TEMPLATES)]
        text, spans = "", []
        pieces = template.replace("{", "\0{").replace("}", "}\0").split("\0")
        slot = 0
        for piece in pieces:
            if piece.startswith("{"):
                word = rng.choice(NAMES[piece[1:-1]])
                spans.append((len(text), len(text) + len(word), labels[slot]))
                slot += 1
                text += word
            else:
                text += piece
        annotations = {}
        for who in ("annotator-a", "annotator-b", "annotator-c"):
            mine = []
            for s, e, label in spans:
                roll = rng.random()
                if roll < 0.05:
                    continue
                if roll < 0.08:
                    label = rng.choice(["ORG", "LOC", "MISC"])
                mine.append({"start": s, "end": e, "label": label})
            annotations[who] = {"annotator": who, "spans": mine}
        units.append(Unit(f"s{i:07d}", f"a{i // 20:06d}", text, annotations))
    return units


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()
    settings = settings_from_dict({"labels": {"entities": ["PER", "ORG", "LOC", "MISC"]}})
    times = {}
    for n in (args.small, args.large):
        units = make_units(n)
        start = time.perf_counter()
        report = agreement_report(units, settings)
        times[n] = time.perf_counter() - start
        print(
            f"{n:>7} sentences x 3 annotators: {times[n]:6.1f} s ({n / times[n]:8.0f} sentences/s); "
            f"exact F1 {report['span_f1']['exact']['mean']}, alpha {report['token']['krippendorff_alpha']}"
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"time ratio {times[args.large] / times[args.small]:.1f}x for size ratio {args.large / args.small:.0f}x")


if __name__ == "__main__":
    main()
