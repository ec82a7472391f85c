"""`newsner pull`: export every annotator's project, check who made each annotation, normalise.

Attribution: an annotation is credited to its author only when the author made it in their own
project and nobody else changed it afterwards (Label Studio records `completed_by` and `updated_by`).
Anything else is *held*: written to `held.jsonl`, counted and listed in the pull report, and kept out
of agreement and adjudication until it is settled in Label Studio (the author reviews it in their
project, or the stray annotation is deleted). A ground-truth annotation by the maintainer (the account
that pulls) is an adjudication and is accepted wherever it was made.

Rounds: the pulled annotations are compared with `annotations.jsonl`: new, changed, unchanged, and
kept (in the file, not on this server: an earlier round, another server). Pseudonyms come from the
annotators' e-mail addresses (`newsner.pseudonyms`), so the same person is the same annotator on
every server.
"""

from __future__ import annotations

import json
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

SERIALIZATION = {"predictions": {"only_id": False}, "annotations__completed_by": {"only_id": False}}
HELD_FILE = "held.jsonl"
# what changes between two pulls of the same annotation
CONTENT_KEYS = ("text", "spans", "category", "ground_truth", "updated_at")


@dataclass
class PullReport:
    """Every count of a pull; `problems` name the task id and what was wrong."""

    export: str = ""
    label_studio_version: str | None = None
    tasks: int = 0
    annotations: int = 0
    counts: Counter = field(default_factory=Counter)
    rounds: Counter = field(default_factory=Counter)
    new_annotators: list[str] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    without_prelabels: list[dict[str, Any]] = field(default_factory=list)
    guideline_checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"export": self.export, "label_studio_version": self.label_studio_version, "tasks": self.tasks,
                "annotations": self.annotations, "counts": dict(sorted(self.counts.items())),
                "rounds": {k: self.rounds[k] for k in ("new", "changed", "unchanged", "kept", "dropped")},
                "new_annotators": self.new_annotators, "held": self.held,
                "started_without_prelabels": self.without_prelabels, "guideline_checks": self.guideline_checks,
                "problems": self.problems}

    def summary(self) -> str:
        rounds = ", ".join(f"{k} {self.rounds[k]}" for k in ("new", "changed", "unchanged", "kept", "dropped"))
        extra = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "nothing else"
        return (f"{self.annotations} annotations of {self.tasks} tasks ({rounds}); held for review {len(self.held)}; "
                f"started without pre-labels {len(self.without_prelabels)}; "
                f"spans against the guidelines {self.guideline_checks.get('n_spans', 0)}; {extra}")


@dataclass
class People:
    """Who is who on one server: Label Studio user id -> pseudonym, and the maintainer's user id."""

    names: dict[int, str]
    maintainer: int | None = None

    def name(self, user: Any) -> str | None:
        user_id = user.get("id") if isinstance(user, dict) else user
        return self.names.get(int(user_id)) if user_id is not None else None


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


def normalise_export(tasks: list[dict[str, Any]], people: People, owner: str, project_id: int,
                     report: PullReport, known_sentences: set[str] | None = None) -> tuple[list[dict], list[dict]]:
    """Turn one annotator project's JSON export into (accepted records, held records); count into `report`."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    held: list[dict[str, Any]] = []
    report.tasks += len(tasks)
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
        prelabelled = any(p.get("result") for p in task.get("predictions") or [])
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                report.counts["cancelled"] += 1
                continue
            author = people.name(annotation.get("completed_by"))
            if author is None:
                report.counts["annotations_without_known_author"] += 1
                report.problems.append(f"task {task['id']}: annotation {annotation.get('id')} has no known author; "
                                       f"not pulled (is the account deleted?)")
                continue
            record = _annotation_record(task, annotation, text, author, project_id, report)
            reason = _attribution_problem(annotation, author, owner, people)
            if reason is not None:
                editor = people.name(annotation.get("updated_by")) or author
                record["annotator"] = editor
                record["held"] = {"reason": reason, "author": author, "project_of": owner}
                held.append(record)
                report.held.append({"sentence_id": sentence_id, "task_id": task["id"],
                                    "annotation_id": annotation.get("id"), "annotator": editor, "reason": reason})
                continue
            if prelabelled and annotation.get("parent_prediction") is None and not annotation.get("ground_truth"):
                report.without_prelabels.append({"sentence_id": sentence_id, "task_id": task["id"],
                                                 "annotation_id": annotation.get("id"), "annotator": author})
            key = (sentence_id, author)
            if key in latest:
                report.counts["same_annotator_duplicates_resolved"] += 1
                if (record.get("updated_at") or "") < (latest[key].get("updated_at") or ""):
                    continue
            latest[key] = record
    return list(latest.values()), held


def _attribution_problem(annotation: dict[str, Any], author: str, owner: str, people: People) -> str | None:
    """Why an annotation cannot be credited to its author, or None."""
    completed = annotation.get("completed_by")
    author_id = completed.get("id") if isinstance(completed, dict) else completed
    editor_id = annotation.get("updated_by")
    adjudication = bool(annotation.get("ground_truth")) and author_id == people.maintainer
    if author != owner and not adjudication:
        return f"made by {author} in the project of {owner}"
    if editor_id is not None and author_id is not None and int(editor_id) != int(author_id):
        return f"changed by {people.name(editor_id) or f'user {editor_id}'} after its author {author} submitted it"
    return None


def _annotation_record(task: dict[str, Any], annotation: dict[str, Any], text: str, annotator: str,
                       project_id: int, report: PullReport) -> dict[str, Any]:
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
        "annotator": annotator,
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


def server_people(connection: Connection, settings: Settings) -> People:
    """Pseudonyms of every account on the server (from their e-mail and the project's key)."""
    from newsner.pseudonyms import checked_key, pseudonym

    key = checked_key(settings.root)
    users = connection.call("list the users", connection.client.users.list)
    me = connection.call("identify the maintainer", connection.client.users.whoami)
    return People(names={int(u.id): pseudonym(key, u.email) for u in users if u.email}, maintainer=int(me.id))


def pull_annotations(connection: Connection, settings: Settings, out_dir: Path,
                     sentences_path: Path | None = None, *, replace: bool = False) -> tuple[Path, PullReport]:
    """Export every annotator project, keep the raw copies, write `annotations.jsonl`, `held.jsonl` and a report.

    Annotations already in `annotations.jsonl` that the server does not have (an earlier round, another
    server, a fresh local studio) are kept and counted, so a pull never loses committed work;
    `replace=True` makes the file an exact copy of the server's annotations (the dropped ones counted).
    Records come out in corpus order (by `sentences_path`), then by annotator.
    """
    from newsner.io import read_jsonl, write_json, write_jsonl
    from newsner.spancheck import check_records
    from newsner.studio.push import annotator_projects
    from newsner.validate import record_problems

    projects = annotator_projects(connection, settings.studio["project"])
    if not projects:
        raise StudioError(f"no annotator projects of {settings.studio['project']!r} on {connection.url}; "
                          f"add annotators and run `newsner push` first")
    people = server_people(connection, settings)
    position: dict[str, int] = {}
    if sentences_path is not None and sentences_path.is_file():
        position = {record["id"]: i for i, (_, record) in enumerate(read_jsonl(sentences_path))}
    report = PullReport()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    records: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    exports = []
    known = set(position) or None
    for owner, project in sorted(projects.items()):
        raw = export_snapshot(connection, project.id)
        try:
            tasks = json.loads(raw)
        except json.JSONDecodeError:
            raise StudioError(f"the export of project {project.id} from {connection.url} is not valid JSON") from None
        export_path = out_dir / "exports" / f"{settings.studio['project']}-{owner}-{stamp}.json"
        export_path.parent.mkdir(parents=True, exist_ok=True)
        export_path.write_bytes(raw)
        exports.append(export_path.name)
        accepted, stray = normalise_export(tasks, people, owner, project.id, report, known)
        records += accepted
        held += stray
    report.export = ", ".join(exports)
    version = connection.call("read the server version", connection.client.versions.get)
    report.label_studio_version = getattr(version, "release", None)
    labels = set(settings.entities)
    for record in records + held:
        problems = record_problems("annotation", record, labels)
        if problems:
            raise StudioError(f"task {record['source']['task_id']}: " + "; ".join(problems))
    report.annotations = len(records)
    report.guideline_checks = check_records((r["sentence_id"], r["annotator"], r["text"], r["spans"]) for r in records)
    path = out_dir / "annotations.jsonl"
    previous = {(r.get("sentence_id"), r.get("annotator")): r for _, r in read_jsonl(path)} if path.is_file() else {}
    earlier_annotators = {annotator for _, annotator in previous}
    report.new_annotators = sorted({r["annotator"] for r in records} - earlier_annotators) if previous else []
    pulled = set()
    for record in records:
        key = (record["sentence_id"], record["annotator"])
        pulled.add(key)
        before = previous.get(key)
        if before is None:
            report.rounds["new"] += 1
        elif any(before.get(k) != record.get(k) for k in CONTENT_KEYS):
            report.rounds["changed"] += 1
        else:
            report.rounds["unchanged"] += 1
    rest = [r for key, r in previous.items() if key not in pulled]
    report.rounds["dropped" if replace else "kept"] += len(rest)
    if not replace:
        records = records + rest
    order = lambda r: (position.get(r["sentence_id"], len(position)), r["sentence_id"], r["annotator"])  # noqa: E731
    write_jsonl(path, sorted(records, key=order))
    write_jsonl(out_dir / HELD_FILE, sorted(held, key=order))
    report.held.sort(key=order)
    write_json(out_dir / "pull-report.json", report.as_dict())
    return path, report
