"""Shared by the benchmarks: run one command in its own process, measure its wall time and peak RSS."""

from __future__ import annotations

import os
import subprocess
import time


def measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of `cmd`; exits with its stderr when it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(cmd)}\n{process.stderr.read()}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024
