"""Publishing at scale: time and peak memory of `publish` for 10k and 100k sentences (3 annotators).

    python benchmarks/bench_publish.py [--sizes 10000 100000]

Each size runs in its own process (peak RSS is per process). Prints seconds, peak MiB, and the
100k/10k ratios (goal: peak memory of 100k <= 2x that of 10k).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(n: int) -> None:
    sys.path.insert(0, str(HERE))
    from bench_agree import make_units

    from newsner.config import settings_from_dict
    from newsner.publish import publish

    settings = settings_from_dict({"labels": {"entities": ["PER", "ORG", "LOC", "MISC"]}})
    units = make_units(n)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        report = publish(units, settings, Path(tmp) / "ds")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"n": n, "seconds": seconds, "peak_mib": peak, "train": report.rows["train"], "test": report.rows["test"]}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one)
        return
    results = []
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True, capture_output=True, text=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(
            f"{n:>7} sentences: {r['seconds']:6.1f} s, peak {r['peak_mib']:6.0f} MiB "
            f"(train {r['train']}, test {r['test']})"
        )
    small, large = results
    print(
        f"100k/10k: time {large['seconds'] / small['seconds']:.1f}x, "
        f"peak memory {large['peak_mib'] / small['peak_mib']:.2f}x "
        f"for {large['n'] / small['n']:.0f}x the sentences"
    )


if __name__ == "__main__":
    main()
