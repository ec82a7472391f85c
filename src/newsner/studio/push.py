"""`newsner push`: one Label Studio project per annotator, each holding only the sentences assigned to them.

Label Studio Community Edition shows every annotation of a task to every account that opens it, so
independence comes from construction: annotator A's sentences live in the project `<project> / <A's
pseudonym>`, where nobody else's annotation exists. The toolkit assigns the sentences (`newsner.assign`)
and imports only the tasks a project does not have yet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner.assign import assign, by_annotator, read_assignments, rebalance, write_assignments
from newsner.config import Settings
from newsner.errors import ConfigError, StudioError
from newsner.labelconfig import label_config
from newsner.pseudonyms import read_pool
from newsner.studio.client import Connection
from newsner.studio.instructions import guidelines_html
from newsner.studio.people import name_accounts
from newsner.studio.projects import (
    KnownTask,
    annotator_projects,
    import_batch,
    list_projects,
    project_tasks,
    project_title,
)
from newsner.validate import record_problems

TITLE_MAX = 50  # Label Studio's limit on project titles
# [studio] sampling -> Label Studio's project sampling (the order of Label All Tasks)
SAMPLING = {"sequential": "Sequential sampling", "uncertainty": "Uncertainty sampling", "random": "Uniform sampling"}


@dataclass
class PushReport:
    projects: dict[str, int] = field(default_factory=dict)  # annotator -> project id
    created: int = 0
    new: int = 0
    already: int = 0
    invalid: list[str] = field(default_factory=list)
    batches: int = 0
    assignment: str = ""
    repredicted: int = 0  # unannotated tasks that got the new model's predictions
    annotated_untouched: int = 0  # annotated tasks whose predictions were left as they were
    moved: list[tuple[str, str, str]] = field(default_factory=list)  # (sentence, from, to): unstarted work
    named: int = 0  # accounts given their pseudonym as display name
    naming_problem: str | None = None

    def summary(self) -> str:
        text = (
            f"{len(self.projects)} annotator projects ({self.created} created); {self.new} new tasks imported "
            f"in {self.batches} batches, {self.already} already there, {len(self.invalid)} invalid; "
            f"assignment: {self.assignment}"
        )
        if self.moved:
            text += (
                f"; {len(self.moved)} unstarted sentences moved to balance the work ("
                + ", ".join(f"{n} to {name}" for name, n in sorted(Counter(m[2] for m in self.moved).items()))
                + ")"
            )
        if self.naming_problem:
            text += f"; display names not set ({self.naming_problem}): the labeling view shows e-mails"
        if self.repredicted or self.annotated_untouched:
            text += (
                f"; new pre-labels added to {self.repredicted} unannotated tasks "
                f"({self.annotated_untouched} annotated tasks left as they were)"
            )
        return text


def project_options(settings: Settings, guidelines: Path | None) -> dict[str, Any]:
    """The options every annotator project shares (built once per push: it renders the guidelines)."""
    return {
        "label_config": label_config(settings),
        "expert_instruction": guidelines_html(guidelines) if guidelines else "",
        "show_instruction": bool(guidelines and guidelines.is_file()),
        "maximum_annotations": 1,
        "overlap_cohort_percentage": 100,
        "show_skip_button": True,
        "show_collab_predictions": True,
        "sampling": SAMPLING[settings.studio.sampling],
    }


def ensure_project(
    connection: Connection, settings: Settings, annotator: str, existing: Any | None, shared: dict[str, Any]
) -> tuple[int, bool]:
    """Create the annotator's project or update its config and instructions (`shared`); return (id, created)."""
    title = project_title(settings.studio.project, annotator)
    if len(title) > TITLE_MAX:
        raise ConfigError(
            f"[studio] project {settings.studio.project!r} is too long: the annotator projects' "
            f"titles ({title!r}) must fit Label Studio's {TITLE_MAX} characters"
        )
    options = {
        **shared,
        "description": (
            f"Sentences assigned to {annotator}. Open only your own project: other "
            f"annotators' projects are theirs, and edits there are not credited to you."
        ),
    }
    if existing is None:
        project = connection.call("create a project", connection.client.projects.create, title=title, **options)
        return project.id, True
    connection.call("update a project", connection.client.projects.update, existing.id, **options)
    return existing.id, False


def push_tasks(
    connection: Connection,
    settings: Settings,
    tasks: Iterable[dict[str, Any]],
    *,
    guidelines: Path | None = None,
    batch_size: int | None = None,
) -> PushReport:
    """Assign the tasks to the annotator pool and import each annotator's new tasks into their project.

    Idempotent: each project's sentence ids are listed first, and again before a batch is retried,
    so a re-run or a retried request never creates a duplicate. The assignment is extended, never
    changed (`annotation/assignments.jsonl`).
    """
    report = PushReport()
    labels = set(settings.entities)
    valid: dict[str, dict[str, Any]] = {}
    for number, task in enumerate(tasks, start=1):
        problems = record_problems("task", task, labels)
        if problems:
            report.invalid.append(f"task {number}: " + "; ".join(problems))
        else:
            valid.setdefault(task["data"]["sentence_id"], task)
    pool = read_pool(settings.root)
    if pool is None or not pool.annotators:
        raise StudioError("no annotators yet: add them with `newsner studio add-annotator EMAIL...`, then push again")
    existing = annotator_projects(connection, settings.studio.project, list_projects(connection))
    known_by = {name: project_tasks(connection, project.id) for name, project in existing.items()}
    seed = settings.dataset.name
    assignments, assigned = assign(
        valid, pool.annotators, settings.studio.annotators_per_task, read_assignments(settings.root), seed=seed
    )
    report.moved = _rebalance(connection, assignments, pool.annotators, known_by, seed)
    write_assignments(settings.root, assignments)
    report.assignment = assigned.summary()
    size = batch_size or settings.studio.batch_size
    shared = project_options(settings, guidelines)
    for sentence_id, donor, _ in report.moved:  # the donor's task was checked unstarted just now
        for task in known_by[donor].pop(sentence_id, []):
            connection.call("remove a moved task", connection.client.tasks.delete, str(task.id))
    for annotator, sentence_ids in sorted(by_annotator(assignments).items()):
        project_id, created = ensure_project(connection, settings, annotator, existing.get(annotator), shared)
        report.projects[annotator] = project_id
        report.created += created
        known = known_by.get(annotator) if not created else {}
        known = known if known is not None else project_tasks(connection, project_id)
        todo = [valid[sid] for sid in sentence_ids if sid in valid and sid not in known]
        report.already += sum(sid in known for sid in sentence_ids)
        repredicted = _add_new_predictions(connection, project_id, known, valid, report, size)
        for start in range(0, len(todo), size):
            batch = todo[start : start + size]
            import_batch(connection, project_id, batch)
            report.new += len(batch)
            report.batches += 1
        versions = [p["model_version"] for task in todo for p in task["predictions"] if p.get("model_version")]
        versions += repredicted
        if versions:  # the project's current model: what annotators see and the label stream pre-labels with
            connection.call(
                "set the project's model version",
                connection.client.projects.update,
                project_id,
                model_version=versions[-1],
            )
    try:
        report.named = name_accounts(connection, settings)
    except StudioError as err:
        report.naming_problem = str(err)
    return report


def _rebalance(
    connection: Connection,
    assignments: dict[str, list[str]],
    pool: list[str],
    known_by: dict[str, dict[str, list[KnownTask]]],
    seed: str,
) -> list[tuple[str, str, str]]:
    """Move unstarted sentences to the least loaded annotators (a newcomer); return the moves.

    A pair is started when its task has an annotation or anyone's draft. The task list shows only the
    caller's drafts, so each proposed move is checked against the task's drafts (`api/tasks/<id>/drafts`)
    and, when one exists, proposed again without it.
    """
    started = {
        (sid, name)
        for name, known in known_by.items()
        for sid, tasks in known.items()
        if any(task.annotated or task.drafted for task in tasks)
    }
    checked: set[tuple[str, str]] = set()
    original = {sid: list(names) for sid, names in assignments.items()}
    while True:
        trial = {sid: list(names) for sid, names in original.items()}
        moves = rebalance(trial, pool, started, seed=seed)
        unchecked = [(sid, donor) for sid, donor, _ in moves if (sid, donor) not in checked]
        if not unchecked:
            assignments.clear()
            assignments.update(trial)
            return moves
        for sid, donor in unchecked:
            checked.add((sid, donor))
            for task in known_by.get(donor, {}).get(sid, []):
                if connection.get_json("check a task for drafts", f"api/tasks/{task.id}/drafts"):
                    started.add((sid, donor))


def _add_new_predictions(
    connection: Connection,
    project_id: int,
    known: dict[str, list[KnownTask]],
    valid: dict[str, dict[str, Any]],
    report: PushReport,
    size: int,
) -> list[str]:
    """Give tasks nobody has annotated yet the pushed predictions when their model version is new to them.

    Annotated tasks keep what the annotator saw. Idempotent: a task that has the version is skipped.
    Returns the model versions added.
    """
    pending = []
    for sid, tasks in known.items():
        if sid not in valid:
            continue
        for prediction in valid[sid]["predictions"]:
            version = prediction.get("model_version")
            for task in tasks:
                if task.annotated:
                    report.annotated_untouched += version not in task.versions
                elif version not in task.versions:
                    pending.append(
                        {
                            "task": task.id,
                            "model_version": version,
                            "result": prediction["result"],
                            **({"score": prediction["score"]} if "score" in prediction else {}),
                        }
                    )
    for start in range(0, len(pending), size):
        batch = pending[start : start + size]
        connection.call("import predictions", connection.client.projects.import_predictions, project_id, request=batch)
        report.repredicted += len(batch)
    return [p["model_version"] for p in pending]
