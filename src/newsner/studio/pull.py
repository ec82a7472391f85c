"""`newsner pull`: export every annotator's project, check who made each annotation, normalise.

Attribution: an annotation is credited to its author only when the author made it in their own
project and nobody else changed it afterwards (Label Studio records `completed_by` and `updated_by`).
Anything else is *held*: written to `held.jsonl`, counted and listed in the pull report, and kept out
of agreement and adjudication until it is settled in Label Studio (the author reviews it in their
project, or `newsner studio settle` deletes the stray annotation so that the sentence returns to its
owner's queue). The pull report lists, per annotator, the sentences they can no longer reach.

Reviewers are not annotators. Decisions made in the review project (`newsner review`) by the maintainer
(the account that pulls) or a pool reviewer become adjudication records (`adjudications.jsonl`, with
the versions that were on screen), and so does a reviewer's annotation flagged ground truth in an
annotator's project; none of them ever enters `annotations.jsonl`. A reviewer's annotation in an
annotator's project without the flag is held, with a message saying what to do instead.

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
from newsner.studio.people import People, server_people
from newsner.studio.projects import annotator_projects, list_projects, review_project

SERIALIZATION = {"predictions": {"only_id": False}, "annotations__completed_by": {"only_id": False}}
HELD_FILE = "held.jsonl"
ADJUDICATIONS_FILE = "adjudications.jsonl"
ROUNDS = ("new", "changed", "unchanged", "kept", "dropped")
# what changes between two pulls of the same annotation
CONTENT_KEYS = ("text", "spans", "category", "ground_truth", "updated_at")
DECISION_KEYS = ("text", "spans", "category", "how", "reviewer", "based_on", "versions", "decided_at")


@dataclass
class PullReport:
    """Every count of a pull; `problems` name the task id and what was wrong."""

    export: str = ""
    label_studio_version: str | None = None
    tasks: int = 0
    annotations: int = 0
    counts: Counter = field(default_factory=Counter)
    rounds: Counter = field(default_factory=Counter)
    round_ids: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in ROUNDS})
    decisions: Counter = field(default_factory=Counter)
    decision_ids: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in ROUNDS})
    unreachable: dict[str, list[str]] = field(default_factory=dict)  # annotator -> sentences taken by others
    new_annotators: list[str] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    without_prelabels: list[dict[str, Any]] = field(default_factory=list)
    guideline_checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"export": self.export, "label_studio_version": self.label_studio_version, "tasks": self.tasks,
                "annotations": self.annotations, "counts": dict(sorted(self.counts.items())),
                "rounds": {k: self.rounds[k] for k in ROUNDS}, "annotation_ids": self.round_ids,
                "decisions": {"rounds": {k: self.decisions[k] for k in ROUNDS}, "records": self.decision_ids},
                "unreachable": self.unreachable,
                "new_annotators": self.new_annotators, "held": self.held,
                "started_without_prelabels": self.without_prelabels, "guideline_checks": self.guideline_checks,
                "problems": self.problems}

    def summary(self) -> str:
        rounds = ", ".join(f"{k} {self.rounds[k]}" for k in ROUNDS)
        decided = ", ".join(f"{k} {self.decisions[k]}" for k in ROUNDS if self.decisions[k])
        extra = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "nothing else"
        lost = sum(len(v) for v in self.unreachable.values())
        return (f"{self.annotations} annotations of {self.tasks} tasks ({rounds}); "
                f"adjudications {sum(self.decisions[k] for k in ROUNDS if k != 'dropped')}"
                + (f" ({decided})" if decided else "") + f"; held for review {len(self.held)}; "
                + (f"sentences out of their annotator's reach {lost}; " if lost else "") +
                f"started without pre-labels {len(self.without_prelabels)}; "
                f"spans against the guidelines {self.guideline_checks.get('n_spans', 0)}; {extra}")


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


@dataclass
class Pulled:
    """What one project's export gave: annotation records, held records and reviewers' decisions."""

    records: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)


def _newsner_task(task: dict[str, Any], report: PullReport, known_sentences: set[str] | None) -> bool:
    data = task.get("data") or {}
    if not isinstance(data.get("text"), str) or not data.get("sentence_id"):
        report.counts["tasks_without_sentence_id"] += 1
        report.problems.append(f"task {task.get('id')}: no data.text or data.sentence_id; not a newsner task")
        return False
    if known_sentences is not None and data["sentence_id"] not in known_sentences:
        report.counts["orphan_tasks"] += 1
        report.problems.append(f"task {task['id']}: sentence {data['sentence_id']} is not in corpus/sentences.jsonl "
                               f"(orphan)")
    return True


def _author(task: dict[str, Any], annotation: dict[str, Any], people: People, report: PullReport) -> str | None:
    """The pseudonym of the annotation's author, or None (counted and reported: not pulled)."""
    author = people.name(annotation.get("completed_by"))
    if author is None:
        report.counts["annotations_without_known_author"] += 1
        report.problems.append(f"task {task['id']}: annotation {annotation.get('id')} has no known author; "
                               f"not pulled (is the account deleted?)")
    return author


def _hold(pulled: Pulled, report: PullReport, task: dict[str, Any], annotation: dict[str, Any],
          record: dict[str, Any], editor: str, author: str, owner: str, reason: str) -> None:
    record["annotator"] = editor
    record["held"] = {"reason": reason, "author": author, "project_of": owner}
    pulled.held.append(record)
    report.held.append({"sentence_id": record["sentence_id"], "task_id": task["id"],
                        "annotation_id": annotation.get("id"), "annotator": editor, "reason": reason})


def normalise_export(tasks: list[dict[str, Any]], people: People, owner: str, project_id: int,
                     report: PullReport, known_sentences: set[str] | None = None) -> Pulled:
    """Turn one annotator project's JSON export into accepted, held and decision records; count into `report`.

    The maintainer's or a reviewer's annotation flagged ground truth is a decision (an adjudication
    record), never an annotation; without the flag it is held with a message saying what to do.
    """
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    pulled = Pulled()
    report.tasks += len(tasks)
    for task in tasks:
        if not _newsner_task(task, report, known_sentences):
            continue
        sentence_id, text = task["data"]["sentence_id"], task["data"]["text"]
        if task.get("drafts"):
            report.counts["drafts"] += len(task["drafts"])
        prelabelled = any(p.get("result") for p in task.get("predictions") or [])
        owner_done, taken = False, False
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                report.counts["cancelled"] += 1
                owner_done = owner_done or people.name(annotation.get("completed_by")) == owner
                continue
            author = _author(task, annotation, people, report)
            if author is None:
                continue
            record = _annotation_record(task, annotation, text, author, project_id, report)
            if author != owner and people.may_review(annotation.get("completed_by")):
                reviewer = people.reviewer(annotation.get("completed_by"))
                if annotation.get("ground_truth"):
                    pulled.decisions.append(_decision(record, reviewer, "ground_truth", None, {}))
                    continue
                taken = True
                role = "the maintainer's account" if _same_user(annotation.get("completed_by"), people.maintainer) \
                    else "reviewer"
                _hold(pulled, report, task, annotation, record, reviewer, author, owner,
                      f"made by {role} ({reviewer}) in the project of {owner}, without the ground-truth flag: "
                      f"decide in the review project (`newsner review`), or flag it ground truth; "
                      f"`newsner studio settle` removes it")
                continue
            reason = _attribution_problem(annotation, author, owner, people)
            if reason is not None:
                taken = taken or author != owner
                _hold(pulled, report, task, annotation, record, people.name(annotation.get("updated_by")) or author,
                      author, owner, reason)
                continue
            owner_done = True
            if prelabelled and annotation.get("parent_prediction") is None and not annotation.get("ground_truth"):
                report.without_prelabels.append({"sentence_id": sentence_id, "task_id": task["id"],
                                                 "annotation_id": annotation.get("id"), "annotator": author})
            key = (sentence_id, author)
            if key in latest:
                report.counts["same_annotator_duplicates_resolved"] += 1
                if (record.get("updated_at") or "") < (latest[key].get("updated_at") or ""):
                    continue
            latest[key] = record
        if taken and not owner_done:  # labelled by someone else: the owner's Label All Tasks skips it
            report.unreachable.setdefault(owner, []).append(sentence_id)
    pulled.records = list(latest.values())
    return pulled


def _same_user(user: Any, user_id: int | None) -> bool:
    value = user.get("id") if isinstance(user, dict) else user
    return value is not None and user_id is not None and int(value) == int(user_id)


def _attribution_problem(annotation: dict[str, Any], author: str, owner: str, people: People) -> str | None:
    """Why an annotation cannot be credited to its author, or None."""
    completed = annotation.get("completed_by")
    author_id = completed.get("id") if isinstance(completed, dict) else completed
    editor_id = annotation.get("updated_by")
    if author != owner:
        return f"made by {author} in the project of {owner}"
    if editor_id is not None and author_id is not None and int(editor_id) != int(author_id):
        return f"changed by {people.name(editor_id) or f'user {editor_id}'} after its author {author} submitted it"
    return None


def _decision(record: dict[str, Any], reviewer: str, how: str, based_on: str | None,
              versions: dict[str, str]) -> dict[str, Any]:
    """An adjudication record from a pulled annotation record."""
    decision: dict[str, Any] = {"sentence_id": record["sentence_id"], "article_id": record["article_id"],
                                "text": record["text"], "spans": record["spans"]}
    if record.get("category") is not None:
        decision["category"] = record["category"]
    decision.update({"how": how, "reviewer": reviewer, "based_on": based_on, "versions": versions,
                     "decided_at": record.get("updated_at") or record.get("created_at"), "source": record["source"]})
    return decision


def normalise_review_export(tasks: list[dict[str, Any]], people: People, project_id: int, report: PullReport,
                            previous: dict[str, dict[str, Any]], known_sentences: set[str] | None = None) -> Pulled:
    """Turn the review project's JSON export into decisions (one per sentence: the latest) and held records.

    Only the maintainer and the pool's reviewers decide; anyone else's annotation there is held. A
    decision records the versions on screen: the task's when the decision was saved after newsner last
    changed them, else the versions recorded for the same annotation at an earlier pull.
    """
    pulled = Pulled()
    for task in tasks:
        if not _newsner_task(task, report, known_sentences):
            continue
        data = task["data"]
        if task.get("drafts"):
            report.counts["review_drafts"] += len(task["drafts"])
        names = {p.get("id"): p.get("model_version") for p in task.get("predictions") or []}
        chosen = None
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                report.counts["review_skipped"] += 1
                continue
            author = _author(task, annotation, people, report)
            if author is None:
                continue
            record = _annotation_record(task, annotation, data["text"], author, project_id, report)
            editor = annotation.get("updated_by") or annotation.get("completed_by")
            if not (people.may_review(annotation.get("completed_by")) and people.may_review(editor)):
                _hold(pulled, report, task, annotation, record, people.name(editor) or author, author, "review",
                      f"made by {people.name(editor) or author} in the review project; only the maintainer and "
                      f"reviewers (`newsner studio add-reviewer`) decide there")
                continue
            if chosen is None or (record.get("updated_at") or "") >= (chosen[0].get("updated_at") or ""):
                chosen = (record, annotation)
        if chosen is None:
            continue
        record, annotation = chosen
        if annotation.get("parent_prediction") is not None:
            based_on = names.get(annotation["parent_prediction"])
        elif annotation.get("parent_annotation") is not None:
            based_on = "decision"
        else:
            based_on = None
        seen = data.get("versions") if isinstance(data.get("versions"), dict) else {}
        if (record.get("updated_at") or "") < str(data.get("versions_at") or ""):
            earlier = previous.get(data["sentence_id"]) or {}
            same = (earlier.get("source") or {}).get("annotation_id") == annotation.get("id")
            seen = earlier.get("versions", {}) if same else {}
        editor = annotation.get("updated_by") or annotation.get("completed_by")
        pulled.decisions.append(_decision(record, people.reviewer(editor), "review", based_on, seen))
    return pulled


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


def _compare(records: list[dict[str, Any]], previous: dict[tuple, dict[str, Any]], key: Any, content: tuple[str, ...],
             counts: Counter, ids: dict[str, list[dict[str, Any]]], replace: bool) -> list[dict[str, Any]]:
    """Count and list pulled records as new/changed/unchanged against the file's; return the file's new content."""
    pulled = set()

    def entry(record: dict[str, Any]) -> dict[str, Any]:
        return {"sentence_id": record["sentence_id"], **{k: record[k] for k in ("annotator", "reviewer") if k in record},
                "annotation_id": (record.get("source") or {}).get("annotation_id")}

    for record in records:
        pulled.add(key(record))
        before = previous.get(key(record))
        kind = "new" if before is None else "changed" if any(before.get(k) != record.get(k) for k in content) \
            else "unchanged"
        counts[kind] += 1
        ids[kind].append(entry(record))
    rest = [r for k, r in previous.items() if k not in pulled]
    kind = "dropped" if replace else "kept"
    counts[kind] += len(rest)
    ids[kind] += [entry(r) for r in rest]
    return records if replace else records + rest


def _export(connection: Connection, project_id: int, path: Path) -> list[dict[str, Any]]:
    """Download a snapshot export, keep it (0600: it names people by e-mail), return its tasks."""
    import os

    raw = export_snapshot(connection, project_id)
    try:
        tasks = json.loads(raw)
    except json.JSONDecodeError:
        raise StudioError(f"the export of project {project_id} from {connection.url} is not valid JSON") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
    return tasks


def pull_annotations(connection: Connection, settings: Settings, out_dir: Path,
                     sentences_path: Path | None = None, *, replace: bool = False) -> tuple[Path, PullReport]:
    """Export every annotator project and the review project, keep the raw copies, write `annotations.jsonl`,
    `adjudications.jsonl`, `held.jsonl` and a report.

    Annotations and decisions already in their files that the server does not have (an earlier round,
    another server, a fresh local studio) are kept and counted, so a pull never loses committed work;
    `replace=True` makes the files exact copies of the server's (the dropped ones counted and listed).
    Records come out in corpus order (by `sentences_path`), then by annotator.
    """
    from newsner.io import read_jsonl, write_json, write_jsonl
    from newsner.spancheck import check_records
    from newsner.validate import record_problems

    base = settings.studio["project"]
    listed = list_projects(connection)
    projects = annotator_projects(connection, base, listed)
    if not projects:
        raise StudioError(f"no annotator projects of {base!r} on {connection.url}; "
                          f"add annotators and run `newsner push` first")
    people = server_people(connection, settings)
    position: dict[str, int] = {}
    if sentences_path is not None and sentences_path.is_file():
        position = {record["id"]: i for i, (_, record) in enumerate(read_jsonl(sentences_path))}
    report = PullReport()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    everything = Pulled()
    exports = []
    known = set(position) or None
    decisions_path = out_dir / ADJUDICATIONS_FILE
    previous_decisions = {r["sentence_id"]: r for _, r in read_jsonl(decisions_path)} if decisions_path.is_file() else {}
    review = review_project(connection, base, listed)
    for owner, project in [*sorted(projects.items()), *([("review", review)] if review else [])]:
        export_path = out_dir / "exports" / f"{base}-{owner}-{stamp}.json"
        tasks = _export(connection, project.id, export_path)
        exports.append(export_path.name)
        if project is review:
            pulled = normalise_review_export(tasks, people, project.id, report, previous_decisions, known)
        else:
            pulled = normalise_export(tasks, people, owner, project.id, report, known)
        everything.records += pulled.records
        everything.held += pulled.held
        everything.decisions += pulled.decisions
    report.export = ", ".join(exports)
    version = connection.call("read the server version", connection.client.versions.get)
    report.label_studio_version = getattr(version, "release", None)
    labels = set(settings.entities)
    checks = [("annotation", r) for r in everything.records + everything.held]
    for kind, record in checks + [("adjudication", r) for r in everything.decisions]:
        problems = record_problems(kind, record, labels)
        if problems:
            raise StudioError(f"task {record['source']['task_id']}: " + "; ".join(problems))
    records = everything.records
    report.annotations = len(records)
    report.guideline_checks = check_records((r["sentence_id"], r["annotator"], r["text"], r["spans"]) for r in records)
    path = out_dir / "annotations.jsonl"
    previous = {(r.get("sentence_id"), r.get("annotator")): r for _, r in read_jsonl(path)} if path.is_file() else {}
    earlier_annotators = {annotator for _, annotator in previous}
    report.new_annotators = sorted({r["annotator"] for r in records} - earlier_annotators) if previous else []
    records = _compare(records, previous, lambda r: (r["sentence_id"], r["annotator"]), CONTENT_KEYS,
                       report.rounds, report.round_ids, replace)
    decisions = _latest_decisions(everything.decisions)
    decisions = _compare(decisions, {(sid,): r for sid, r in previous_decisions.items()},
                         lambda r: (r["sentence_id"],), DECISION_KEYS, report.decisions, report.decision_ids, replace)
    order = lambda r: (position.get(r["sentence_id"], len(position)), r["sentence_id"], r.get("annotator", ""))  # noqa: E731
    for entries in (*report.round_ids.values(), *report.decision_ids.values()):
        entries.sort(key=order)
    for owner in report.unreachable:
        report.unreachable[owner].sort(key=lambda sid: (position.get(sid, len(position)), sid))
    write_jsonl(path, sorted(records, key=order))
    if decisions or decisions_path.is_file():
        write_jsonl(decisions_path, sorted(decisions, key=order))
    write_jsonl(out_dir / HELD_FILE, sorted(everything.held, key=order))
    report.held.sort(key=order)
    write_json(out_dir / "pull-report.json", report.as_dict())
    return path, report


def _latest_decisions(decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One decision per sentence: a review decision beats a ground-truth one; the latest wins among equals."""
    best: dict[str, dict[str, Any]] = {}
    for decision in decisions:
        rank = (decision["how"] == "review", decision.get("decided_at") or "")
        current = best.get(decision["sentence_id"])
        if current is None or rank >= (current["how"] == "review", current.get("decided_at") or ""):
            best[decision["sentence_id"]] = decision
    return list(best.values())
