"""Label Studio round trip at scale, against a real local server started here.

    python benchmarks/bench_studio.py [--tasks 10000]

Two annotators, every sentence assigned to both: newsner keeps one project per annotator, so each
operation handles N tasks in each of two projects. Measured, each in its own process (time and peak
RSS of that process):
  raw import   one `projects.import_tasks` call with all N tasks into each of two fresh projects (plain SDK)
  push         `newsner push` logic (validate, assign, list ids, batches of 500) into two fresh projects
  re-push      the same again: nothing new            (goal <= 0.5x the first push)
  raw export   plain SDK snapshot export + download of both annotator projects (N tasks, 1 annotation each)
  pull         `newsner pull` logic on the same projects (export, attribution, normalise, write)   (goal <= 1.2x)
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
    from newsner.ids import content_id

    base = [json.loads(line) for line in (ROOT / "annotation/tasks.jsonl").read_text().splitlines()]
    tasks = []
    for i in range(n):
        task = json.loads(json.dumps(base[i % len(base)]))
        task["data"]["article_id"] = content_id("bench-article", i // 30)
        task["data"]["sentence_id"] = content_id("bench-sentence", i)
        tasks.append(task)
    return tasks


def settings(url: str, project: str, work: Path):
    from newsner.config import settings_from_dict

    return settings_from_dict(
        {"labels": {"entities": LABELS}, "studio": {"url": url, "project": project, "annotators_per_task": 2}},
        path=work / "newsner.toml",
    )


def op(name: str, url: str, n: int, work: Path) -> dict:
    from label_studio_sdk import LabelStudio

    from newsner.labelconfig import label_config
    from newsner.studio.client import connect

    key = os.environ["LABEL_STUDIO_API_KEY"]
    tasks = make_tasks(n)
    accounts = json.loads((work / "accounts.json").read_text())  # [[pseudonym, user id], ...]
    client = LabelStudio(base_url=url, api_key=key, timeout=600)
    config = label_config(settings(url, "x", work))
    start = time.perf_counter()
    if name == "raw_import":
        for i, _ in enumerate(accounts):
            project = client.projects.create(title=f"bench-raw-{i}", label_config=config)
            client.projects.import_tasks(project.id, request=tasks, return_task_ids=True)
    elif name in ("push", "repush"):
        from newsner.studio.push import push_tasks

        s = settings(url, "bench-push", work)
        push_tasks(connect(s), s, tasks)
    elif name == "seed":
        for pseudonym, user_id in accounts:
            project = client.projects.create(title=f"bench-pull / {pseudonym}", label_config=config)
            seeded = []
            for task in tasks:
                result = [{k: v for k, v in r.items() if k != "score"} for r in task["predictions"][0]["result"]]
                seeded.append({**task, "annotations": [{"result": result, "completed_by": user_id, "lead_time": 4.0}]})
            client.projects.import_tasks(project.id, request=seeded)
    elif name == "raw_export":
        for project in [p for p in client.projects.list() if p.title.startswith("bench-pull / ")]:
            export = client.projects.exports.create(
                project.id,
                title="raw",
                serialization_options={
                    "predictions": {"only_id": False},
                    "annotations__completed_by": {"only_id": False},
                },
            )
            while export.status not in ("completed", "failed"):
                time.sleep(0.5)
                export = client.projects.exports.get(project.id, export.id)
            json.loads(b"".join(client.projects.exports.download(project.id, export.id, export_type="JSON")))
    elif name == "pull":
        from newsner.studio.pull import pull_annotations

        s = settings(url, "bench-pull", work)
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
        from newsner.pseudonyms import register

        emails = [f"bench{i}@example.org" for i in (1, 2)]
        ids = [studio.add_annotator(email)["id"] for email in emails]
        names, _ = register(work, emails)
        (work / "accounts.json").write_text(json.dumps([list(pair) for pair in zip(names, ids, strict=True)]))
        results = {}
        for name in ("raw_import", "push", "repush", "seed", "raw_export", "pull"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--op",
                    name,
                    "--url",
                    studio.url,
                    "--work",
                    str(work),
                    "--tasks",
                    str(args.tasks),
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
            if name != "seed":
                r = results[name]
                print(f"  {name:11s} {r['seconds']:6.1f} s   peak {r['peak_mib']:5.0f} MiB")
        print(f"{args.tasks} sentences x 2 annotators (one project each, one annotation per task for the pull):")
        print(
            f"  push / raw import:   "
            f"{results['push']['seconds'] / results['raw_import']['seconds']:.2f}x (goal <= 1.15)"
        )
        print(f"  re-push / push:      {results['repush']['seconds'] / results['push']['seconds']:.2f}x (goal <= 0.5)")
        print(
            f"  pull / raw export:   {results['pull']['seconds'] / results['raw_export']['seconds']:.2f}x (goal <= 1.2)"
        )
    finally:
        studio.stop()


if __name__ == "__main__":
    main()
