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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsner.annotations import ADJUDICATIONS_FILE
from newsner.config import Settings
from newsner.errors import StudioError
from newsner.io import read_jsonl, write_json, write_jsonl
from newsner.spancheck import check_records
from newsner.studio.client import Connection
from newsner.studio.people import server_people
from newsner.studio.projects import annotator_projects, list_projects, review_project
from newsner.studio.records import Pulled, PullReport, normalise_export, normalise_review_export
from newsner.validate import record_problems

SERIALIZATION = {"predictions": {"only_id": False}, "annotations__completed_by": {"only_id": False}}
HELD_FILE = "held.jsonl"
# what changes between two pulls of the same annotation
CONTENT_KEYS = ("text", "spans", "category", "ground_truth", "updated_at")
DECISION_KEYS = ("text", "spans", "category", "how", "reviewer", "based_on", "versions", "decided_at")


def export_snapshot(connection: Connection, project_id: int, timeout: float = 600.0) -> bytes:
    """Create a snapshot export with full predictions and annotators, wait for it, download JSON."""
    exports = connection.client.projects.exports
    export = connection.call(
        "create an export", exports.create, project_id, title="newsner pull", serialization_options=SERIALIZATION
    )
    deadline = time.monotonic() + timeout
    while getattr(export, "status", "completed") not in ("completed", "failed"):
        if time.monotonic() > deadline:
            raise StudioError(f"the export on {connection.url} did not finish within {timeout:.0f} s")
        time.sleep(0.5)
        export = connection.call("check the export", exports.get, project_id, export.id)
    if export.status == "failed":
        raise StudioError(f"Label Studio at {connection.url} failed to build the export of project {project_id}")
    return connection.call(
        "download the export", lambda: b"".join(exports.download(project_id, export.id, export_type="JSON"))
    )


def _compare(
    records: list[dict[str, Any]],
    previous: dict[tuple, dict[str, Any]],
    key: Any,
    content: tuple[str, ...],
    counts: Counter,
    ids: dict[str, list[dict[str, Any]]],
    replace: bool,
) -> list[dict[str, Any]]:
    """Count and list pulled records as new/changed/unchanged against the file's; return the file's new content."""
    pulled = set()

    def entry(record: dict[str, Any]) -> dict[str, Any]:
        return {
            "sentence_id": record["sentence_id"],
            **{k: record[k] for k in ("annotator", "reviewer") if k in record},
            "annotation_id": (record.get("source") or {}).get("annotation_id"),
        }

    for record in records:
        pulled.add(key(record))
        before = previous.get(key(record))
        kind = (
            "new"
            if before is None
            else "changed"
            if any(before.get(k) != record.get(k) for k in content)
            else "unchanged"
        )
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


def pull_annotations(
    connection: Connection,
    settings: Settings,
    out_dir: Path,
    sentences_path: Path | None = None,
    *,
    replace: bool = False,
) -> tuple[Path, PullReport]:
    """Export every annotator project and the review project, keep the raw copies, write `annotations.jsonl`,
    `adjudications.jsonl`, `held.jsonl` and a report.

    Annotations and decisions already in their files that the server does not have (an earlier round,
    another server, a fresh local studio) are kept and counted, so a pull never loses committed work;
    `replace=True` makes the files exact copies of the server's (the dropped ones counted and listed).
    Records come out in corpus order (by `sentences_path`), then by annotator.
    """
    base = settings.studio.project
    listed = list_projects(connection)
    projects = annotator_projects(connection, base, listed)
    if not projects:
        raise StudioError(
            f"no annotator projects of {base!r} on {connection.url}; add annotators and run `newsner push` first"
        )
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
    previous_decisions = (
        {r["sentence_id"]: r for _, r in read_jsonl(decisions_path)} if decisions_path.is_file() else {}
    )
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
    records = _compare(
        records,
        previous,
        lambda r: (r["sentence_id"], r["annotator"]),
        CONTENT_KEYS,
        report.rounds,
        report.round_ids,
        replace,
    )
    decisions = _latest_decisions(everything.decisions)
    decisions = _compare(
        decisions,
        {(sid,): r for sid, r in previous_decisions.items()},
        lambda r: (r["sentence_id"],),
        DECISION_KEYS,
        report.decisions,
        report.decision_ids,
        replace,
    )
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
