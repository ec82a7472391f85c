"""Pre-labelling on Dask against one process and `--n-process 2`, same input, same run.

    python benchmarks/bench_cluster.py [--sentences 50000] [--memory 10000,100000]

1. throughput on N sentences: `newsner prelabel` in one process, with `--n-process 2`, and with
   `--workers 2` (a local Dask cluster of 2 single-threaded workers); ratios to one process.
   Goal on this 2-core machine: Dask >= 1.8x one process (the physical limit is 2x).
2. client memory: a scheduler and 2 workers started here as separate processes (`dask scheduler`,
   `dask worker`), then `newsner prelabel --scheduler` on 10k and on 100k sentences; the client
   process's peak RSS. Goal: flat (100k <= 1.2x 10k).
Every output is compared with the one-process output byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _measure import measured

from newsner.ids import content_id, sentence_id

ROOT = Path(__file__).resolve().parents[1]


def make_sentences(path: Path, n: int) -> int:
    base = [json.loads(line)["text"] for line in (ROOT / "corpus/sentences.jsonl").read_text().splitlines()]
    words = 0
    with path.open("w") as handle:
        for i in range(n):
            text = base[i % len(base)].replace("8,000", f"{8000 + i:,}").replace("2,500", f"{2500 + i:,}")
            article, start = content_id("bench-cluster", i // 30), (i % 30) * 1000
            handle.write(
                json.dumps(
                    {
                        "id": sentence_id(article, start, text),
                        "article_id": article,
                        "index": i % 30,
                        "text": text,
                        "start": start,
                        "end": start + len(text),
                        "paragraph": i % 30,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            words += len(text.split())
    return words


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one `newsner` command (the client process only)."""
    return measured([sys.executable, "-m", "newsner.cli", *args], env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=50_000)
    parser.add_argument("--memory", default="10000,100000", help="sentence counts for part 2 ('' skips it)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    (work / "newsner.toml").write_text((ROOT / "newsner.toml").read_text())
    config = ["--config", str(work / "newsner.toml")]
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}

    words = make_sentences(work / "s.jsonl", args.sentences)
    modes = {"one process": [], "--n-process 2": ["--n-process", "2"], "Dask, 2 local workers": ["--workers", "2"]}
    results = {}
    for i, (name, extra) in enumerate(modes.items()):
        results[name] = run(["prelabel", str(work / "s.jsonl"), "-o", str(work / f"t{i}.jsonl"), *config, *extra], env)
    print(f"{args.sentences} sentences, {words} words:")
    one = results["one process"][0]
    for i, (name, (seconds, peak)) in enumerate(results.items()):
        same = (work / f"t{i}.jsonl").read_bytes() == (work / "t0.jsonl").read_bytes()
        print(
            f"  {name:24s} {seconds:7.1f} s  {words / seconds:8.0f} words/s  {one / seconds:.2f}x one process  "
            f"client peak {peak:5.0f} MiB  output identical: {same}"
        )

    if not args.memory:
        return
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    # workers without a nanny (Dask's pre-spawn MALLOC_TRIM_THRESHOLD_ does not apply), started as
    # docs/maintainers.md says
    cluster_env = {**env, "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
    daemons = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dashboard-address",
                ":0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=cluster_env,
        )
    ]
    time.sleep(3)
    daemons += [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
                "--preload",
                "newsner.cluster",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=cluster_env,
        )
        for _ in range(2)
    ]
    time.sleep(5)
    try:
        peaks = {}
        for n in map(int, args.memory.split(",")):
            make_sentences(work / f"m{n}.jsonl", n)
            seconds, peaks[n] = run(
                ["prelabel", str(work / f"m{n}.jsonl"), "-o", str(work / f"m{n}.out"), *config, "--scheduler", address],
                env,
            )
            print(
                f"  --scheduler (2 external workers), {n:>7} sentences: {seconds:6.1f} s, "
                f"client peak {peaks[n]:5.0f} MiB"
            )
        small, large = min(peaks), max(peaks)
        print(f"  client peak {large} / {small} sentences: {peaks[large] / peaks[small]:.2f}x (goal <= 1.2)")
    finally:
        for daemon in daemons:
            daemon.terminate()
        for daemon in daemons:
            try:
                daemon.wait(timeout=15)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()


if __name__ == "__main__":
    main()
