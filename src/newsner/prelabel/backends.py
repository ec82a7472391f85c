"""Where pre-labelling runs: here, in forked processes, or on a Dask cluster, behind one small interface.

A backend takes batches of sentence records and a `Job`, and yields each batch's (tasks, report) in
batch order, so the output is the same, byte for byte, whichever runs it. A worker process keeps one
`Prelabeller` per job (`tasks.prelabeller_for`); a local Dask cluster's workers inherit the one loaded
here before they are forked.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from newsner.cluster import dask_client, map_in_order, scheduler_address
from newsner.prelabel.model import load_pipeline
from newsner.prelabel.tasks import Job, Prelabeller, PrelabelReport, prelabeller_for, run_batch

Batches = Iterator[list[dict[str, Any]]]
Results = Iterator[tuple[list[dict[str, Any]], PrelabelReport]]


class Backend(Protocol):
    def run(self, batches: Batches, job: Job) -> Results:
        """Pre-label every batch; yield (tasks, report) per batch, in batch order."""
        ...


class InProcess:
    """Everything in this process (the default); the pipeline is released when the run ends."""

    def run(self, batches: Batches, job: Job) -> Results:
        worker = Prelabeller(job)
        for batch in batches:
            yield worker.run(batch)


@dataclass(frozen=True)
class Processes:
    """`n_process` forked worker processes (`--n-process`); at most 4 batches each in flight."""

    n_process: int

    def run(self, batches: Batches, job: Job) -> Results:
        load_pipeline(job.model)  # a missing model fails here, before any worker starts
        context = multiprocessing.get_context("fork")
        with cf.ProcessPoolExecutor(self.n_process, mp_context=context) as pool:
            pending: deque[cf.Future] = deque()
            for batch in batches:
                pending.append(pool.submit(run_batch, batch, job))
                if len(pending) >= 4 * self.n_process:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()


@dataclass(frozen=True)
class OnDask:
    """A Dask cluster at `scheduler`, or a local one of `workers` processes (`newsner.cluster`)."""

    scheduler: str | None = None
    workers: int | None = None

    def run(self, batches: Batches, job: Job) -> Results:
        if not self.scheduler:
            # a local cluster's workers are forked from here: loaded once, they all have it (and a missing
            # model fails here, before any worker starts)
            prelabeller_for(job)
        with dask_client(self.scheduler, self.workers) as client:
            yield from map_in_order(client, run_batch, batches, job)


def choose_backend(*, n_process: int, scheduler: str | None = None, workers: int | None = None) -> Backend:
    """Dask when a scheduler (else `DASK_SCHEDULER_ADDRESS`) or workers are given, else processes when
    `n_process > 1`, else this process."""
    scheduler = scheduler_address(scheduler, workers)
    if scheduler or workers:
        return OnDask(scheduler, workers)
    return Processes(n_process) if n_process > 1 else InProcess()
