"""`newsner pull`: snapshot export, raw copy kept, offsets verified and repaired, records normalised."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsner.config import Settings
from newsner.errors import StudioError
from newsner.labelconfig import CATEGORY_NAME, FROM_NAME
from newsner.studio.client import Connection
from newsner.studio.push import find_project

SERIALIZATION = {"predictions": {"only_id": False}, "annotations__completed_by": {"only_id": False}}


@dataclass
class PullReport:
    """Every count of a pull; `problems` name the task id and what was wrong."""

    export: str = ""
    label_studio_version: str | None = None
    tasks: int = 0
    annotations: int = 0
    counts: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"export": self.export, "label_studio_version": self.label_studio_version, "tasks": self.tasks, "annotations": self.annotations,
                "counts": dict(sorted(self.counts.items())), "problems": self.problems}

    def summary(self) -> str:
        extra = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "nothing else"
        return f"{self.annotations} annotations of {self.tasks} tasks; {extra}"


def pseudonym(url: str, user_id: int) -> str:
    """A stable pseudonym for a Label Studio user: the same for every pull from the same server."""
    host = re.sub(r"^https?://", "", url.rstrip("/"))
    return "annotator-" + hashlib.sha256(f"{host}|{user_id}".encode()).hexdigest()[:8]


def _fold(text: str) -> str:
    return " ".join(text.replace("\\n", " ").split())


def _utf16_to_codepoints(text: str, offset: int) -> int | None:
    units = 0
    for index, ch in enumerate(text):
        if units == offset:
            return index
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text) if units == offset else None


def check_span(text: str, start: int, end: int, shown: str | None) -> tuple[int, int, str] | None:
    """Verify a span against the task text; return (start, end, how) or None when it must be rejected.

    `how` is "ok" or "utf16" (offsets were UTF-16 code units and were converted).
    """
    if shown is None:
        return (start, end, "ok") if 0 <= start < end <= len(text) else None
    if 0 <= start < end <= len(text) and _fold(text[start:end]) == _fold(shown):
        return start, end, "ok"
    s16, e16 = _utf16_to_codepoints(text, start), _utf16_to_codepoints(text, end)
    if s16 is not None and e16 is not None and s16 < e16 and _fold(text[s16:e16]) == _fold(shown):
        return s16, e16, "utf16"
    return None


def export_snapshot(connection: Connection, project_id: int, timeout: float = 600.0) -> bytes:
    """Create a snapshot export with full predictions and annotators, wait for it, download JSON."""
    exports = connection.client.projects.exports
    export = connection.call("create an export", exports.create, project_id, title="newsner pull",
                             serialization_options=SERIALIZATION)
    deadline = time.monotonic() + timeout
    while getattr(export, "status", "completed") not in ("completed", "failed"):
        if time.monotonic() > deadline:
            raise StudioError(f"the export on {connection.url} did not finish within {timeout:.0f} s")
        time.sleep(0.5)
        export = connection.call("check the export", exports.get, project_id, export.id)
    if export.status == "failed":
        raise StudioError(f"Label Studio at {connection.url} failed to build the export of project {project_id}")
    return connection.call("download the export",
                           lambda: b"".join(exports.download(project_id, export.id, export_type="JSON")))


def normalise_export(tasks: list[dict[str, Any]], url: str, project_id: int,
                     known_sentences: set[str] | None = None) -> tuple[list[dict[str, Any]], PullReport]:
    """Turn an LS JSON export into annotation records (DESIGN §3) and a report."""
    report = PullReport(tasks=len(tasks))
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for task in tasks:
        data = task.get("data") or {}
        text, sentence_id = data.get("text"), data.get("sentence_id")
        if not isinstance(text, str) or not sentence_id:
            report.counts["tasks_without_sentence_id"] += 1
            report.problems.append(f"task {task.get('id')}: no data.text or data.sentence_id; not a newsner task")
            continue
        if known_sentences is not None and sentence_id not in known_sentences:
            report.counts["orphan_tasks"] += 1
            report.problems.append(f"task {task['id']}: sentence {sentence_id} is not in corpus/sentences.jsonl (orphan)")
        if task.get("drafts"):
            report.counts["drafts"] += len(task["drafts"])
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                report.counts["cancelled"] += 1
                continue
            record = _annotation_record(task, annotation, text, url, project_id, report)
            if record is None:
                continue
            key = (sentence_id, record["annotator"])
            if key in latest:
                report.counts["same_annotator_duplicates_resolved"] += 1
                if (record.get("updated_at") or "") < (latest[key].get("updated_at") or ""):
                    continue
            latest[key] = record
    records = sorted(latest.values(), key=lambda r: (r["source"]["task_id"], r["annotator"]))
    report.annotations = len(records)
    return records, report


def _annotation_record(task: dict[str, Any], annotation: dict[str, Any], text: str, url: str, project_id: int,
                       report: PullReport) -> dict[str, Any] | None:
    user = annotation.get("completed_by")
    user_id = user.get("id") if isinstance(user, dict) else user
    if user_id is None:
        report.counts["annotations_without_annotator"] += 1
        report.problems.append(f"task {task['id']}: annotation {annotation.get('id')} has no annotator; skipped")
        return None
    spans, category = [], None
    for item in annotation.get("result") or []:
        value = item.get("value") or {}
        if item.get("type") == "choices" and item.get("from_name") == CATEGORY_NAME:
            category = (value.get("choices") or [None])[0]
            continue
        if item.get("type") != "labels" or item.get("from_name") != FROM_NAME:
            report.counts["other_results_ignored"] += 1
            continue
        checked = check_span(text, value.get("start", -1), value.get("end", -1), value.get("text"))
        label = (value.get("labels") or [None])[0]
        if checked is None or not label:
            report.counts["spans_rejected"] += 1
            report.problems.append(
                f"task {task['id']}: annotation {annotation.get('id')}: span [{value.get('start')}, {value.get('end')}) "
                f"{value.get('text')!r} does not match the task text; rejected"
            )
            continue
        start, end, how = checked
        if how == "utf16":
            report.counts["spans_repaired_utf16"] += 1
        spans.append({"start": start, "end": end, "label": label})
    record: dict[str, Any] = {
        "sentence_id": task["data"]["sentence_id"],
        "article_id": task["data"].get("article_id", ""),
        "annotator": pseudonym(url, int(user_id)),
        "text": text,
        "spans": sorted(spans, key=lambda s: (s["start"], s["end"], s["label"])),
    }
    if category is not None:
        record["category"] = category
    record["ground_truth"] = bool(annotation.get("ground_truth"))
    if annotation.get("lead_time") is not None:
        record["lead_time"] = round(float(annotation["lead_time"]), 3)
    for key in ("created_at", "updated_at"):
        if annotation.get(key):
            record[key] = annotation[key]
    record["source"] = {"project": project_id, "task_id": task["id"], "annotation_id": annotation["id"]}
    return record


def pull_annotations(connection: Connection, settings: Settings, out_dir: Path,
                     sentences_path: Path | None = None, *, replace: bool = False) -> tuple[Path, PullReport]:
    """Export the project, keep the raw copy, write `annotations.jsonl` atomically and a pull report.

    Annotations already in `annotations.jsonl` that the server does not have (an earlier round, another
    server, a fresh local studio) are kept and counted, so a pull never loses committed work;
    `replace=True` makes the file an exact copy of the server's annotations (the dropped ones counted).
    Records come out in corpus order (by `sentences_path`), then by annotator.
    """
    from newsner.io import read_jsonl, write_json, write_jsonl
    from newsner.validate import record_problems

    project = find_project(connection, settings.studio["project"])
    if project is None:
        raise StudioError(f"no project {settings.studio['project']!r} on {connection.url}; run `newsner push` first")
    raw = export_snapshot(connection, project.id)
    try:
        tasks = json.loads(raw)
    except json.JSONDecodeError:
        raise StudioError(f"the export from {connection.url} is not valid JSON") from None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    export_path = out_dir / "exports" / f"{settings.studio['project']}-{stamp}.json"
    export_path.parent.mkdir(parents=True, exist_ok=True)
    export_path.write_bytes(raw)
    position: dict[str, int] = {}
    if sentences_path is not None and sentences_path.is_file():
        position = {record["id"]: i for i, (_, record) in enumerate(read_jsonl(sentences_path))}
    records, report = normalise_export(tasks, connection.url, project.id, set(position) if position else None)
    report.export = export_path.name
    version = connection.call("read the server version", connection.client.versions.get)
    report.label_studio_version = getattr(version, "release", None)
    labels = set(settings.entities)
    for record in records:
        problems = record_problems("annotation", record, labels)
        if problems:
            raise StudioError(f"task {record['source']['task_id']}: " + "; ".join(problems))
    path = out_dir / "annotations.jsonl"
    pulled = {(r["sentence_id"], r["annotator"]) for r in records}
    previous = [r for _, r in read_jsonl(path) if (r.get("sentence_id"), r.get("annotator")) not in pulled] \
        if path.is_file() else []
    if previous:
        report.counts["previous_annotations_dropped" if replace else "previous_annotations_kept"] += len(previous)
        if not replace:
            records = records + previous
    records.sort(key=lambda r: (position.get(r["sentence_id"], len(position)), r["sentence_id"], r["annotator"]))
    write_jsonl(path, records)
    write_json(out_dir / "pull-report.json", report.as_dict())
    return path, report
