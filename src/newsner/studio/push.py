"""`newsner push`: create or update the project and import only the tasks it does not have yet."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner.config import Settings
from newsner.errors import StudioAuthError, StudioError
from newsner.labelconfig import label_config
from newsner.studio.client import Connection


@dataclass
class PushReport:
    project_id: int = 0
    created: bool = False
    new: int = 0
    already: int = 0
    invalid: list[str] = field(default_factory=list)
    batches: int = 0

    def summary(self) -> str:
        state = "created" if self.created else "updated"
        return (f"project {self.project_id} {state}; {self.new} new tasks imported in {self.batches} batches, "
                f"{self.already} already there, {len(self.invalid)} invalid")


def guidelines_html(path: Path) -> str:
    """The annotators' guidelines (Markdown, tables included) as HTML for the project instructions.

    Raw HTML in the Markdown is escaped, not passed through.
    """
    from markdown_it import MarkdownIt

    if not path.is_file():
        return ""
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(path.read_text(encoding="utf-8"))


def find_project(connection: Connection, title: str) -> Any | None:
    """The project titled `title`, or None."""
    projects = connection.call("list projects", lambda: list(connection.client.projects.list(page_size=100)))
    matches = [p for p in projects if p.title == title]
    return min(matches, key=lambda p: p.id) if matches else None


def ensure_project(connection: Connection, settings: Settings, guidelines: Path | None = None) -> tuple[int, bool]:
    """Create the project or update its config and instructions; return (id, created)."""
    title = settings.studio["project"]
    options = {
        "label_config": label_config(settings),
        "expert_instruction": guidelines_html(guidelines) if guidelines else "",
        "show_instruction": bool(guidelines and guidelines.is_file()),
        "maximum_annotations": settings.studio["annotators_per_task"],
        "overlap_cohort_percentage": 100,
        "show_skip_button": True,
    }
    project = find_project(connection, title)
    if project is None:
        project = connection.call("create the project", connection.client.projects.create, title=title, **options)
        return project.id, True
    connection.call("update the project", connection.client.projects.update, project.id, **options)
    return project.id, False


def known_sentence_ids(connection: Connection, project_id: int) -> dict[str, list[int]]:
    """sentence_id -> task ids already in the project."""
    known: dict[str, list[int]] = {}

    def fetch() -> None:
        known.clear()
        for task in connection.client.tasks.list(project=project_id, include="id,data", page_size=1000):
            sentence_id = (task.data or {}).get("sentence_id")
            if sentence_id:
                known.setdefault(sentence_id, []).append(task.id)

    connection.call("list the project's tasks", fetch, retries=3)
    return known


def push_tasks(connection: Connection, settings: Settings, tasks: Iterable[dict[str, Any]], *,
               guidelines: Path | None = None, batch_size: int | None = None,
               on_batch: Any = None) -> PushReport:
    """Import the tasks whose `data.sentence_id` is not in the project yet, in batches.

    Idempotent: the project's sentence ids are listed first, and again before a batch is retried,
    so a re-run or a retried request never creates a duplicate.
    """
    from newsner.validate import record_problems

    report = PushReport()
    labels = set(settings.entities)
    valid = []
    for number, task in enumerate(tasks, start=1):
        problems = record_problems("task", task, labels)
        if problems:
            report.invalid.append(f"task {number}: " + "; ".join(problems))
        else:
            valid.append(task)
    report.project_id, report.created = ensure_project(connection, settings, guidelines)
    known = known_sentence_ids(connection, report.project_id)
    todo = []
    seen = set(known)
    for task in valid:
        sentence_id = task["data"]["sentence_id"]
        if sentence_id in seen:
            report.already += 1
        else:
            seen.add(sentence_id)
            todo.append(task)
    size = batch_size or settings.studio["batch_size"]
    for start in range(0, len(todo), size):
        batch = todo[start : start + size]
        _import_batch(connection, report.project_id, batch)
        report.new += len(batch)
        report.batches += 1
        if on_batch:
            on_batch(len(batch))
    return report


def _import_batch(connection: Connection, project_id: int, batch: list[dict[str, Any]], attempts: int = 5) -> None:
    for attempt in range(attempts):
        try:
            connection.call("import tasks", connection.client.projects.import_tasks, project_id, request=batch,
                            return_task_ids=True, request_options={"max_retries": 0})
            return
        except StudioAuthError:
            raise
        except StudioError:
            if attempt == attempts - 1:
                raise
            time.sleep(min(2**attempt, 30))
            known = known_sentence_ids(connection, project_id)  # the failed request may have landed
            batch = [t for t in batch if t["data"]["sentence_id"] not in known]
            if not batch:
                return
