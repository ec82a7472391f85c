"""Label Studio round trip at scale, against a real local server started here.

    python benchmarks/bench_studio.py [--tasks 10000]

Measured, each in its own process (time and peak RSS of that process):
  raw import   one `projects.import_tasks` call with all tasks (plain SDK), project created first
  push         `newsner push` logic (validate, list ids, batches of 500) into a fresh project
  re-push      the same again: nothing new            (goal <= 0.5x the first push)
  raw export   plain SDK snapshot export + download of N tasks with 2 annotations each
  pull         `newsner pull` logic on the same project (export, normalise, write)   (goal <= 1.2x)
Goal for push: <= 1.15x the raw import.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["PER", "ORG", "LOC", "MISC"]


def make_tasks(n: int) -> list[dict]:
    from newsner.ingest import content_id

    base = [json.loads(line) for line in (ROOT / "annotation/tasks.jsonl").read_text().splitlines()]
    tasks = []
    for i in range(n):
        task = json.loads(json.dumps(base[i % len(base)]))
        task["data"]["article_id"] = content_id("bench-article", i // 30)
        task["data"]["sentence_id"] = content_id("bench-sentence", i)
        tasks.append(task)
    return tasks


def settings(url: str, project: str):
    from newsner.config import settings_from_dict

    return settings_from_dict({"labels": {"entities": LABELS},
                               "studio": {"url": url, "project": project, "annotators_per_task": 2}})


def op(name: str, url: str, n: int, work: Path) -> dict:
    from label_studio_sdk import LabelStudio

    from newsner.labelconfig import label_config
    from newsner.studio.client import connect

    key = os.environ["LABEL_STUDIO_API_KEY"]
    tasks = make_tasks(n)
    start = time.perf_counter()
    if name == "raw_import":
        client = LabelStudio(base_url=url, api_key=key, timeout=600)
        project = client.projects.create(title="bench-raw", label_config=label_config(settings(url, "x")))
        client.projects.import_tasks(project.id, request=tasks, return_task_ids=True)
    elif name in ("push", "repush"):
        from newsner.studio.push import push_tasks

        s = settings(url, "bench-push")
        push_tasks(connect(s), s, tasks)
    elif name == "seed":
        client = LabelStudio(base_url=url, api_key=key, timeout=600)
        ids = json.loads((work / "annotators.json").read_text())
        project = client.projects.create(title="bench-pull", label_config=label_config(settings(url, "x")))
        for task in tasks:
            result = task["predictions"][0]["result"]
            task["annotations"] = [{"result": [{k: v for k, v in r.items() if k != "score"} for r in result],
                                    "completed_by": ids[0], "lead_time": 4.0},
                                   {"result": [{k: v for k, v in r.items() if k != "score"} for r in result[:1]],
                                    "completed_by": ids[1], "lead_time": 6.0}]
        client.projects.import_tasks(project.id, request=tasks)
    elif name == "raw_export":
        client = LabelStudio(base_url=url, api_key=key, timeout=600)
        project = next(p for p in client.projects.list() if p.title == "bench-pull")
        export = client.projects.exports.create(project.id, title="raw", serialization_options={
            "predictions": {"only_id": False}, "annotations__completed_by": {"only_id": False}})
        while export.status not in ("completed", "failed"):
            time.sleep(0.5)
            export = client.projects.exports.get(project.id, export.id)
        data = b"".join(client.projects.exports.download(project.id, export.id, export_type="JSON"))
        json.loads(data)
    elif name == "pull":
        from newsner.studio.pull import pull_annotations

        s = settings(url, "bench-pull")
        pull_annotations(connect(s), s, work / "annotation")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--op")
    parser.add_argument("--url")
    parser.add_argument("--work")
    args = parser.parse_args()
    if args.op:
        print(json.dumps(op(args.op, args.url, args.tasks, Path(args.work))))
        return
    from newsner.studio.server import LocalStudio

    work = Path(tempfile.mkdtemp(prefix="bench-studio-"))
    studio = LocalStudio(state_dir=work / "studio", port=18231)
    studio.start(timeout=300)
    try:
        env = {**os.environ, "LABEL_STUDIO_API_KEY": studio.credentials()["admin"]["token"]}
        ids = [studio.add_annotator(f"bench{i}@example.org")["id"] for i in (1, 2)]
        (work / "annotators.json").write_text(json.dumps(ids))
        results = {}
        for name in ("raw_import", "push", "repush", "seed", "raw_export", "pull"):
            out = subprocess.run([sys.executable, __file__, "--op", name, "--url", studio.url, "--work", str(work),
                                  "--tasks", str(args.tasks)], env=env, check=True, capture_output=True, text=True)
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
            if name != "seed":
                r = results[name]
                print(f"  {name:11s} {r['seconds']:6.1f} s   peak {r['peak_mib']:5.0f} MiB")
        print(f"{args.tasks} tasks (2 annotations each for the pull):")
        print(f"  push / raw import:   {results['push']['seconds'] / results['raw_import']['seconds']:.2f}x (goal <= 1.15)")
        print(f"  re-push / push:      {results['repush']['seconds'] / results['push']['seconds']:.2f}x (goal <= 0.5)")
        print(f"  pull / raw export:   {results['pull']['seconds'] / results['raw_export']['seconds']:.2f}x (goal <= 1.2)")
    finally:
        studio.stop()


if __name__ == "__main__":
    main()
