"""Label Studio export JSON into newsner records: one annotator project's or the review project's tasks
become annotation records, held records and reviewers' decisions, with every count in a `PullReport`.

Pure functions (no server): `newsner pull` feeds them the snapshot exports; tests feed them hand-made
export JSON. Attribution, offsets and who may decide are explained in `newsner.studio.pull`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from newsner.labelconfig import CATEGORY_NAME, FROM_NAME
from newsner.studio.people import People

ROUNDS = ("new", "changed", "unchanged", "kept", "dropped")


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
        return {
            "export": self.export,
            "label_studio_version": self.label_studio_version,
            "tasks": self.tasks,
            "annotations": self.annotations,
            "counts": dict(sorted(self.counts.items())),
            "rounds": {k: self.rounds[k] for k in ROUNDS},
            "annotation_ids": self.round_ids,
            "decisions": {"rounds": {k: self.decisions[k] for k in ROUNDS}, "records": self.decision_ids},
            "unreachable": self.unreachable,
            "new_annotators": self.new_annotators,
            "held": self.held,
            "started_without_prelabels": self.without_prelabels,
            "guideline_checks": self.guideline_checks,
            "problems": self.problems,
        }

    def summary(self) -> str:
        rounds = ", ".join(f"{k} {self.rounds[k]}" for k in ROUNDS)
        decided = ", ".join(f"{k} {self.decisions[k]}" for k in ROUNDS if self.decisions[k])
        extra = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "nothing else"
        lost = sum(len(v) for v in self.unreachable.values())
        return (
            f"{self.annotations} annotations of {self.tasks} tasks ({rounds}); "
            f"adjudications {sum(self.decisions[k] for k in ROUNDS if k != 'dropped')}"
            + (f" ({decided})" if decided else "")
            + f"; held for review {len(self.held)}; "
            + (f"sentences out of their annotator's reach {lost}; " if lost else "")
            + f"started without pre-labels {len(self.without_prelabels)}; "
            f"spans against the guidelines {self.guideline_checks.get('n_spans', 0)}; {extra}"
        )


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
        report.problems.append(
            f"task {task['id']}: sentence {data['sentence_id']} is not in corpus/sentences.jsonl (orphan)"
        )
    return True


def _author(task: dict[str, Any], annotation: dict[str, Any], people: People, report: PullReport) -> str | None:
    """The pseudonym of the annotation's author, or None (counted and reported: not pulled)."""
    author = people.name(annotation.get("completed_by"))
    if author is None:
        report.counts["annotations_without_known_author"] += 1
        report.problems.append(
            f"task {task['id']}: annotation {annotation.get('id')} has no known author; "
            f"not pulled (is the account deleted?)"
        )
    return author


def _hold(
    pulled: Pulled,
    report: PullReport,
    task: dict[str, Any],
    annotation: dict[str, Any],
    record: dict[str, Any],
    editor: str,
    author: str,
    owner: str,
    reason: str,
) -> None:
    record["annotator"] = editor
    record["held"] = {"reason": reason, "author": author, "project_of": owner}
    pulled.held.append(record)
    report.held.append(
        {
            "sentence_id": record["sentence_id"],
            "task_id": task["id"],
            "annotation_id": annotation.get("id"),
            "annotator": editor,
            "reason": reason,
        }
    )


def normalise_export(
    tasks: list[dict[str, Any]],
    people: People,
    owner: str,
    project_id: int,
    report: PullReport,
    known_sentences: set[str] | None = None,
) -> Pulled:
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
            hold: tuple[str, str] | None = None  # (who the held record is filed under, why)
            if author != owner and people.may_review(annotation.get("completed_by")):
                reviewer = people.reviewer(annotation.get("completed_by"))
                if annotation.get("ground_truth"):
                    pulled.decisions.append(_decision(record, reviewer, "ground_truth", None, {}))
                    continue
                role = (
                    "the maintainer's account"
                    if _same_user(annotation.get("completed_by"), people.maintainer)
                    else "reviewer"
                )
                hold = (
                    reviewer,
                    f"made by {role} ({reviewer}) in the project of {owner}, without the ground-truth flag: "
                    f"decide in the review project (`newsner review`), or flag it ground truth; "
                    f"`newsner studio settle` removes it",
                )
            elif (reason := _attribution_problem(annotation, author, owner, people)) is not None:
                hold = (people.name(annotation.get("updated_by")) or author, reason)
            if hold is not None:
                taken = taken or author != owner
                _hold(pulled, report, task, annotation, record, hold[0], author, owner, hold[1])
                continue
            owner_done = True
            if prelabelled and annotation.get("parent_prediction") is None and not annotation.get("ground_truth"):
                report.without_prelabels.append(
                    {
                        "sentence_id": sentence_id,
                        "task_id": task["id"],
                        "annotation_id": annotation.get("id"),
                        "annotator": author,
                    }
                )
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


def _decision(
    record: dict[str, Any], reviewer: str, how: str, based_on: str | None, versions: dict[str, str]
) -> dict[str, Any]:
    """An adjudication record from a pulled annotation record."""
    decision: dict[str, Any] = {
        "sentence_id": record["sentence_id"],
        "article_id": record["article_id"],
        "text": record["text"],
        "spans": record["spans"],
    }
    if record.get("category") is not None:
        decision["category"] = record["category"]
    decision.update(
        {
            "how": how,
            "reviewer": reviewer,
            "based_on": based_on,
            "versions": versions,
            "decided_at": record.get("updated_at") or record.get("created_at"),
            "source": record["source"],
        }
    )
    return decision


def normalise_review_export(
    tasks: list[dict[str, Any]],
    people: People,
    project_id: int,
    report: PullReport,
    previous: dict[str, dict[str, Any]],
    known_sentences: set[str] | None = None,
) -> Pulled:
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
                _hold(
                    pulled,
                    report,
                    task,
                    annotation,
                    record,
                    people.name(editor) or author,
                    author,
                    "review",
                    f"made by {people.name(editor) or author} in the review project; only the maintainer and "
                    f"reviewers (`newsner studio add-reviewer`) decide there",
                )
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


def _annotation_record(
    task: dict[str, Any], annotation: dict[str, Any], text: str, annotator: str, project_id: int, report: PullReport
) -> dict[str, Any]:
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
                f"task {task['id']}: annotation {annotation.get('id')}: "
                f"span [{value.get('start')}, {value.get('end')}) {value.get('text')!r} "
                "does not match the task text; rejected"
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
