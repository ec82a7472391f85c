"""Finding newsner's projects and their tasks on a Label Studio server.

Projects: `<project> / <pseudonym>` for each annotator, `<project> / review` for the reviewers. Lists are
read page by page up to the count the server states, never one page past it (Label Studio answers a
page past the last with HTTP 404 and logs an "Invalid page" traceback, which the SDK's pager provokes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from newsner.errors import StudioAuthError, StudioError
from newsner.pseudonyms import PREFIX
from newsner.studio.client import Connection

PAGE_SIZE = 100
REVIEW = "review"


def list_all(
    connection: Connection, what: str, method: Callable[..., Any], *, page_size: int = PAGE_SIZE, **kwargs: Any
) -> list[Any]:
    """Every item of a paged list endpoint, stopping at the stated count (or at a short page)."""
    items: list[Any] = []
    page = 1
    while True:
        pager = connection.call(what, method, page=page, page_size=page_size, **kwargs)
        batch = list(pager.items or [])
        items += batch
        response = getattr(pager, "response", None)
        total = getattr(response, "count", None)
        if total is None:
            total = getattr(response, "total", None)
        if not batch or len(batch) < page_size or (total is not None and len(items) >= total):
            return items
        page += 1


def list_projects(connection: Connection) -> list[Any]:
    """Every project on the server, oldest first."""
    return sorted(list_all(connection, "list projects", connection.client.projects.list), key=lambda p: p.id)


def project_title(base: str, name: str) -> str:
    """The title of an annotator's project (`<project> / <pseudonym>`) or of the review project."""
    return f"{base} / {name}"


def annotator_projects(connection: Connection, base: str, projects: list[Any] | None = None) -> dict[str, Any]:
    """annotator pseudonym -> their project (the oldest one, should a title be doubled)."""
    prefix = project_title(base, PREFIX)
    found: dict[str, Any] = {}
    for project in projects if projects is not None else list_projects(connection):
        if project.title.startswith(prefix):
            found.setdefault(project.title[len(project_title(base, "")) :], project)
    return found


def review_project(connection: Connection, base: str, projects: list[Any] | None = None) -> Any | None:
    """The review project (`<project> / review`), or None when there is none yet."""
    title = project_title(base, REVIEW)
    return next(
        (p for p in (projects if projects is not None else list_projects(connection)) if p.title == title), None
    )


@dataclass
class KnownTask:
    id: int
    annotated: bool
    versions: set[str]
    annotators: list[int] = field(default_factory=list)  # user ids with a submitted annotation
    drafted: bool = False
    data: dict[str, Any] = field(default_factory=dict)


def project_tasks(connection: Connection, project_id: int) -> dict[str, list[KnownTask]]:
    """sentence_id -> the project's tasks for it: annotated or drafted, by whom, and their model versions."""
    known: dict[str, list[KnownTask]] = {}

    def fetch() -> None:
        known.clear()
        for task in list_all(
            connection,
            "list the project's tasks",
            connection.client.tasks.list,
            page_size=1000,
            project=project_id,
            include="id,data,total_annotations,annotators,drafts,predictions_model_versions",
        ):
            sentence_id = (task.data or {}).get("sentence_id")
            if sentence_id:
                versions = getattr(task, "predictions_model_versions", None) or []
                if isinstance(versions, str):
                    versions = versions.split(",")
                annotators = [a if isinstance(a, int) else a.get("id") for a in getattr(task, "annotators", None) or []]
                known.setdefault(sentence_id, []).append(
                    KnownTask(
                        task.id,
                        bool(task.total_annotations),
                        {v.strip() for v in versions if v},
                        annotators,
                        bool(getattr(task, "drafts", None)),
                        dict(task.data),
                    )
                )

    connection.call("list the project's tasks", fetch, retries=3)
    return known


def known_sentence_ids(connection: Connection, project_id: int) -> dict[str, list[int]]:
    """sentence_id -> task ids already in the project."""
    return {sid: [task.id for task in tasks] for sid, tasks in project_tasks(connection, project_id).items()}


def import_batch(connection: Connection, project_id: int, batch: list[dict[str, Any]], attempts: int = 5) -> None:
    """Import one batch of tasks, retrying a failed request without importing a task twice."""
    for attempt in range(attempts):
        try:
            connection.call(
                "import tasks",
                connection.client.projects.import_tasks,
                project_id,
                request=batch,
                return_task_ids=True,
                request_options={"max_retries": 0},
            )
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
