"""Pre-labelling on a Dask cluster (real `distributed` workers on 127.0.0.1): same bytes as one process."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from newsner.cli import app
from newsner.ids import content_id, sentence_id
from tests.conftest import ROOT

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow  # local Dask clusters: seconds each


def write_sentences(path: Path, n: int) -> Path:
    """`n` valid sentence records made from the seed article's sentences."""
    seed = [json.loads(line)["text"] for line in (ROOT / "corpus" / "sentences.jsonl").read_text().splitlines()]
    lines = []
    for i in range(n):
        article, text, start = content_id("cluster-test", i // 20), seed[i % len(seed)], (i % 20) * 1000
        lines.append(
            json.dumps(
                {
                    "id": sentence_id(article, start, text),
                    "article_id": article,
                    "index": i % 20,
                    "text": text,
                    "start": start,
                    "end": start + len(text),
                    "paragraph": i % 20,
                },
                ensure_ascii=False,
            )
        )
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def sentences(project: Path) -> Path:
    return write_sentences(project / "sentences.jsonl", 600)


def prelabel(runner, *args: str) -> str:
    result = runner.invoke(app, ["prelabel", "sentences.jsonl", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_two_local_workers_write_the_one_process_bytes(sentences: Path, runner, monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    prelabel(runner, "-o", "one.jsonl", "--batch-size", "32")
    prelabel(runner, "-o", "dask.jsonl", "--batch-size", "32", "--workers", "2")
    assert Path("one.jsonl").read_bytes() == Path("dask.jsonl").read_bytes()
    assert len(Path("dask.jsonl").read_text().splitlines()) == 600


def test_a_worker_killed_mid_run_changes_nothing(project: Path, runner, monkeypatch):
    from distributed import Client, LocalCluster

    write_sentences(project / "sentences.jsonl", 2400)
    prelabel(runner, "-o", "one.jsonl", "--batch-size", "32")
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, silence_logs=40
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = sorted(client.run(os.getpid).values())
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        state = {}

        def completed(dask_scheduler) -> int:  # batches finished so far (the count survives forgotten tasks)
            return sum(
                prefix.state_counts["memory"]
                for name, prefix in dask_scheduler.task_prefixes.items()
                if "run_batch" in name
            )

        def kill_one_worker_mid_run() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and client.run_on_scheduler(completed) < 3:
                time.sleep(0.02)
            os.kill(pids[0], signal.SIGKILL)
            state["done_at_kill"] = client.run_on_scheduler(completed)

        killer = threading.Thread(target=kill_one_worker_mid_run)
        killer.start()
        prelabel(runner, "-o", "dask.jsonl", "--batch-size", "32")
        killer.join()
        batches = 2400 // 32
        assert 3 <= state["done_at_kill"] < batches, "the worker was not killed mid-run: the test proves nothing"
        with pytest.raises(ProcessLookupError):
            os.kill(pids[0], 0)
    assert Path("one.jsonl").read_bytes() == Path("dask.jsonl").read_bytes()


def test_an_unreachable_scheduler_is_a_clear_error_in_bounded_time(sentences: Path, runner):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    start = time.monotonic()
    result = runner.invoke(
        app, ["prelabel", "sentences.jsonl", "-o", "t.jsonl", "--scheduler", f"tcp://127.0.0.1:{port}"]
    )
    assert time.monotonic() - start < 30
    assert result.exit_code == 1
    assert f"Error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 10 s" in result.output
    assert not Path("t.jsonl").exists()


def test_split_on_two_local_workers_writes_the_local_bytes(project: Path, runner, monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    raw = project / "raw"
    raw.mkdir()
    seed = (ROOT / "corpus" / "raw" / "kazakhstan-unrest-2022-01.txt").read_text()
    for i in range(150):
        (raw / f"a{i:03d}.txt").write_text(seed.replace("8,000", f"{8000 + i:,}"))
    (raw / "table.txt").write_text("Scraped table\n\n" + "cells without full stops " * 300 + "\n")
    assert runner.invoke(app, ["ingest", "raw", "-o", "articles.jsonl"]).exit_code == 0
    local = runner.invoke(app, ["split", "articles.jsonl", "-o", "local.jsonl"])
    dask = runner.invoke(app, ["split", "articles.jsonl", "-o", "dask.jsonl", "--workers", "2"])
    assert local.exit_code == dask.exit_code == 0, dask.output
    assert Path("local.jsonl").read_bytes() == Path("dask.jsonl").read_bytes()
    assert local.output.splitlines()[-1].replace("local", "dask") == dask.output.splitlines()[-1]
    assert "1 runs longer than 1000 characters" in dask.output


def test_local_workers_inherit_the_pipeline_and_a_killed_one_is_replaced_alike(project: Path):
    import sys

    from newsner.cluster import WORKER_SWITCH_INTERVAL, dask_client, map_in_order
    from newsner.config import load_settings
    from newsner.prelabel.stream import batches as make_batches
    from newsner.prelabel.tasks import Job, prelabeller_for, run_batch

    settings = load_settings(project / "newsner.toml")
    records = [json.loads(line) for line in write_sentences(project / "s.jsonl", 1200).read_text().splitlines()]
    batches = list(make_batches(iter(records), 32, False))
    job = Job.create(settings)
    here = prelabeller_for(job)  # what a local cluster's workers inherit
    expected = [task for batch in batches for task in here.run(batch)[0]]

    def loaded() -> int:
        from newsner.prelabel.tasks import LOADED

        return len(LOADED)

    with dask_client(workers=2) as client:
        assert set(client.run(loaded).values()) == {1}, "the workers are forked: the pipeline is already there"
        assert list(client.run(sys.getswitchinterval).values()) == [pytest.approx(WORKER_SWITCH_INTERVAL)] * 2
        pids = sorted(client.run(os.getpid).values())
        got = []
        for i, (tasks, _) in enumerate(map_in_order(client, run_batch, batches, job)):
            got.extend(tasks)
            if i == 2:
                os.kill(pids[0], signal.SIGKILL)
        client.wait_for_workers(2, timeout=60)
        assert pids[0] not in client.run(os.getpid).values()
        assert list(client.run(sys.getswitchinterval).values()) == [pytest.approx(WORKER_SWITCH_INTERVAL)] * 2, (
            "the replacement is set up too"
        )
        assert set(client.run(loaded).values()) == {1}
    assert got == expected


def test_the_client_keeps_no_batch_once_its_result_is_in():
    """Flat client memory: nothing of a submitted batch stays in the client (Dask's message log included)."""
    import gc

    from distributed.protocol.serialize import Serialized

    from newsner.cluster import dask_client, map_in_order

    with dask_client(workers=1) as client:
        sizes = list(map_in_order(client, len, (bytes([i]) * 50_000 for i in range(60))))
        gc.collect()
        kept = [o for o in gc.get_objects() if isinstance(o, Serialized)]
    assert sizes == [50_000] * 60
    assert len(kept) <= 2, f"{len(kept)} of 60 serialized submissions are still held by the client"


def test_remote_workers_started_as_the_docs_say_are_set_up():
    """`dask worker --preload newsner.cluster` (docs/maintainers.md) runs newsner's set-up on the worker."""
    import sys

    from distributed import Client, LocalCluster

    from newsner.cluster import WORKER_SWITCH_INTERVAL

    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=40,
            preload=["newsner.cluster"],
        ) as cluster,
        Client(cluster) as client,
    ):
        assert list(client.run(sys.getswitchinterval).values()) == [pytest.approx(WORKER_SWITCH_INTERVAL)]
