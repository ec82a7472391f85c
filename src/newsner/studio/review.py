"""`newsner review`: the review project, where reviewers turn disagreements into gold.

`<project> / review` holds the sentences that need a decision (`newsner.review`), each showing every
annotator's version as a prediction tab named by pseudonym and a proposed merge that the reviewer's
draft starts from. Tasks are imported worst agreement first, so the task list (where reviewers work: Label
Studio's label stream hides prediction tabs) shows them in that order; the stream itself, should a
reviewer use it, serves the lowest-agreement sentence first (uncertainty sampling on the merge's score).

Re-running is idempotent: new sentences are imported, a sentence whose versions changed gets the new
versions (and, when it was already decided, is reported as reopened), everything else is left alone.
Decisions come back with `newsner pull` into `annotation/adjudications.jsonl`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsner.adjudicate import versions
from newsner.annotations import Unit
from newsner.config import Settings
from newsner.errors import ConfigError, StudioError
from newsner.labelconfig import label_config
from newsner.review import MERGE, Selected, review_data, review_predictions, review_task, select_for_review
from newsner.studio.client import Connection
from newsner.studio.instructions import INSTRUCTION_CSS, guidelines_html
from newsner.studio.people import name_accounts
from newsner.studio.projects import (
    REVIEW,
    KnownTask,
    import_batch,
    list_projects,
    project_tasks,
    project_title,
    review_project,
)

TITLE_MAX = 50
REVIEWER_NOTE = """<div class="newsner-guidelines">
<h2>Reviewing</h2>
<p>Each task is a sentence the annotators labelled differently. Work from the project's <b>task list</b>
(it lists the worst agreement first, with an <i>agreement</i> column): click a sentence to open it.
<b>Label All Tasks</b> hides the versions, so do not use it here. The tabs above the text are the
versions: one per annotator, named by pseudonym, and <b>merge</b> (the spans most annotators marked),
which your draft starts from. <b>Compare All</b> shows them side by side.</p>
<ol>
<li>To start from an annotator's version instead, open its tab, choose <b>⋮ → Duplicate Annotation</b>.</li>
<li>Correct the spans as the guidelines below say (delete a region with Backspace, drag to add one).</li>
<li><b>Submit</b>. Your decision is the gold for this sentence; it never counts as an annotation.</li>
</ol>
</div>
<hr/>
"""


@dataclass
class ReviewReport:
    project: int = 0
    created: bool = False
    selected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    new: int = 0
    updated: list[str] = field(default_factory=list)  # undecided sentences whose versions changed
    reopened: list[str] = field(default_factory=list)  # decided sentences whose versions changed since
    unchanged: int = 0
    decided: int = 0  # selected sentences with a decision in Label Studio
    no_longer_selected: int = 0  # tasks of sentences not selected this time (left as they are)
    naming_problem: str | None = None

    def summary(self) -> str:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.reasons.items())) or "none"
        text = (
            f"{self.selected} sentences need a decision ({reasons}); {self.new} new in the review project, "
            f"{len(self.updated)} with new versions, {self.unchanged} unchanged; {self.decided} decided so far"
        )
        if self.reopened:
            text += (
                f"; {len(self.reopened)} decided before an annotator changed their version, shown again with the "
                f"new versions (the reviewer should look again): " + ", ".join(self.reopened[:10])
            )
        if self.no_longer_selected:
            text += (
                f"; {self.no_longer_selected} tasks in the project not selected this time (annotators now agree, "
                f"or an earlier --select all/--audit; left in place)"
            )
        if self.naming_problem:
            text += f"; display names not set ({self.naming_problem}): tabs may show e-mail addresses"
        return text


def review_options(settings: Settings, guidelines: Path | None) -> dict[str, Any]:
    """The review project's settings: the annotators' labels, the guidelines behind a reviewer's note."""
    return {
        "label_config": label_config(settings),
        "expert_instruction": f"<style>{INSTRUCTION_CSS}</style>\n"
        + REVIEWER_NOTE
        + (guidelines_html(guidelines, style=False) if guidelines else ""),
        "show_instruction": True,
        "maximum_annotations": 1,
        "show_skip_button": False,
        "show_collab_predictions": True,
        "sampling": "Uncertainty sampling",
        "description": "Reviewers decide the gold here: every annotator's version is a tab, named by pseudonym.",
    }


def push_review(
    connection: Connection,
    settings: Settings,
    units: list[Unit],
    *,
    guidelines: Path | None = None,
    select: str | None = None,
    audit_fraction: float | None = None,
    batch_size: int | None = None,
) -> ReviewReport:
    """Create or update the review project and bring it in line with the annotations; idempotent."""
    base = settings.studio.project
    title = project_title(base, REVIEW)
    if len(title) > TITLE_MAX:
        raise ConfigError(
            f"[studio] project {base!r} is too long: the review project's title ({title!r}) must fit "
            f"Label Studio's {TITLE_MAX} characters"
        )
    chosen = select_for_review(
        units,
        select=select or settings.review.select,
        audit_fraction=settings.review.audit_fraction if audit_fraction is None else audit_fraction,
        seed=settings.split.seed,
    )
    report = ReviewReport(selected=len(chosen))
    for item in chosen:
        report.reasons[item.reason] = report.reasons.get(item.reason, 0) + 1
    options = review_options(settings, guidelines)
    project = review_project(connection, base, list_projects(connection))
    if project is None:
        project = connection.call(
            "create the review project", connection.client.projects.create, title=title, **options
        )
        report.created = True
    else:
        connection.call("update the review project", connection.client.projects.update, project.id, **options)
    report.project = project.id
    known = {sid: tasks[0] for sid, tasks in project_tasks(connection, project.id).items()}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    todo = []
    for item in chosen:
        task = known.get(item.unit.sentence_id)
        if task is None:
            todo.append(review_task(item, now))
        elif task.data.get("versions") == versions(item.unit):
            report.unchanged += 1
            report.decided += task.annotated
        else:
            _replace_versions(connection, project.id, task, item, now)
            (report.reopened if task.annotated else report.updated).append(item.unit.sentence_id)
            report.decided += task.annotated
    chosen_ids = {item.unit.sentence_id for item in chosen}
    report.no_longer_selected = sum(sid not in chosen_ids for sid in known)
    size = batch_size or settings.studio.batch_size
    for start in range(0, len(todo), size):  # worst agreement first: the data manager lists them in this order
        import_batch(connection, project.id, todo[start : start + size])
        report.new += len(todo[start : start + size])
    if todo or known:  # Label Studio refuses a model version that no prediction carries (HTTP 400)
        connection.call(
            "set the review project's model version", connection.client.projects.update, project.id, model_version=MERGE
        )
    try:
        name_accounts(connection, settings)
    except StudioError as err:  # the review still works; tabs of accounts newsner could not name show e-mails
        report.naming_problem = str(err)
    return report


def _replace_versions(connection: Connection, project_id: int, task: KnownTask, item: Selected, now: str) -> None:
    """Show the sentence's current versions: new data (digests, time) and new predictions."""
    client = connection.client
    for prediction in connection.call("list a task's predictions", client.predictions.list, task=task.id):
        connection.call("remove an outdated version", client.predictions.delete, prediction.id)
    connection.call("update a review task", client.tasks.update, str(task.id), data=review_data(item, now))
    connection.call(
        "import the new versions",
        client.projects.import_predictions,
        project_id,
        request=[{"task": task.id, **prediction} for prediction in review_predictions(item.unit)],
    )
