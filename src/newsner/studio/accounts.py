"""People and their work on the studio: adding annotators and reviewers, handing out logins, settling held
annotations, and each annotator's progress (`newsner studio add-annotator|add-reviewer|login|settle|status`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner.config import Settings
from newsner.errors import InputError, StudioError
from newsner.io import read_jsonl, write_jsonl
from newsner.pseudonyms import PREFIX, REVIEWER_PREFIX, checked_key, pseudonym, read_pool, register
from newsner.studio.client import Connection, connect, is_local, studio_url
from newsner.studio.people import server_people
from newsner.studio.projects import (
    REVIEW,
    annotator_projects,
    list_projects,
    project_tasks,
    project_title,
    review_project,
)
from newsner.studio.server import LocalStudio

ROLES = ("annotator", "reviewer")


def _check_emails(emails: list[str]) -> None:
    bad = [
        e
        for e in emails
        if "@" not in e.strip()
        or e.strip().startswith("@")
        or e.strip().endswith("@")
        or any(c.isspace() for c in e.strip())
    ]
    if bad:
        raise InputError(
            f"not an e-mail address: {', '.join(repr(b) for b in bad)}; accounts are made for e-mail "
            f"addresses (name@example.org)"
        )


def add_people(settings: Settings, emails: list[str], role: str = "annotator") -> tuple[list[str], list[str]]:
    """Make sure each person has an account, then add them to the pool as annotators or reviewers.

    On the local studio the accounts are created (invite-link signup); on a team server
    (`LABEL_STUDIO_URL`) they must exist already. Returns (their pseudonyms, the ones new to the pool).
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    _check_emails(emails)
    checked_key(settings.root)  # a bad key is refused before any account is made
    if is_local(studio_url(settings), settings):
        studio = LocalStudio.for_settings(settings)
        for email in emails:
            studio.add_annotator(email)
    else:
        connection = connect(settings)
        users = connection.call("list the users", connection.client.users.list)
        known = {(u.email or "").strip().lower() for u in users}
        missing = [e for e in emails if e.strip().lower() not in known]
        if missing:
            raise StudioError(
                f"no account on {connection.url} for {', '.join(missing)}; invite them in Label Studio "
                f"(Organization, Add People) and run this again"
            )
    return register(settings.root, emails, prefix=REVIEWER_PREFIX if role == "reviewer" else PREFIX)


@dataclass
class Login:
    url: str
    email: str
    password: str
    role: str  # "annotator", "reviewer" or "maintainer"
    projects: list[str] = field(default_factory=list)  # the projects to open, all existing
    missing: str | None = None  # what to do when their project does not exist yet


def login_details(settings: Settings, email: str, studio: Any = None) -> Login:
    """One person's login and the project(s) they work in; a project is named only when it exists.

    The maintainer (the local studio's admin) reviews; so do the pool's reviewers; annotators open
    their own project. Reading the projects needs the studio running. `studio`: the `LocalStudio`
    (default: the project's, in `.newsner/studio/`).
    """
    studio = studio or LocalStudio.for_settings(settings)
    account = studio.login(email)
    key = checked_key(settings.root)
    pool = read_pool(settings.root)
    name, reviewer = pseudonym(key, email), pseudonym(key, email, REVIEWER_PREFIX)
    maintainer = email.strip().lower() == studio.credentials()["admin"]["email"]
    role = "maintainer" if maintainer else "reviewer" if pool and reviewer in pool.reviewers else "annotator"
    if role == "annotator" and not (pool and name in pool.annotators):
        raise StudioError(
            f"{email} has an account but is in neither the annotator nor the reviewer pool; add them "
            f"with `newsner studio add-annotator {email}` or `newsner studio add-reviewer {email}`"
        )
    login = Login(url=account["url"], email=email, password=account["password"], role=role)
    base = settings.studio.project
    try:
        connection = connect(settings)
    except StudioError as err:
        login.missing = f"could not check the projects ({err})"
        return login
    listed = list_projects(connection)
    if role == "annotator":
        project = annotator_projects(connection, base, listed).get(name)
        if project is None:
            login.missing = "no project yet: run `newsner push` to give them sentences"
        else:
            login.projects.append(project.title)
    else:
        project = review_project(connection, base, listed)
        if project is None:
            login.missing = (
                f"no review project yet: run `newsner review` to create {project_title(base, REVIEW)!r} "
                f"from the annotations"
            )
        else:
            login.projects.append(project.title)
    return login


@dataclass
class SettleReport:
    removed: list[dict[str, Any]] = field(default_factory=list)
    gone: int = 0  # already removed from Label Studio
    left: list[str] = field(default_factory=list)  # what the maintainer must do by hand

    def summary(self) -> str:
        return (
            f"{len(self.removed)} stray annotations removed from Label Studio (recorded in settled.jsonl), "
            f"{self.gone} already gone, {len(self.left)} left for their authors (listed)"
        )


def settle_held(
    connection: Connection, settings: Settings, annotation_dir: Path, *, dry_run: bool = False
) -> SettleReport:
    """Remove from Label Studio the held annotations made in someone else's project, after recording them in
    `settled.jsonl`, so that the sentence returns to its owner's Label All Tasks.

    An annotation changed by someone after its author submitted it is the author's work: it is not removed;
    its author must open it and press Update (listed in `left`).
    """
    held_path = annotation_dir / "held.jsonl"
    report = SettleReport()
    if not held_path.is_file():
        return report
    settled_path = annotation_dir / "settled.jsonl"
    settled = [r for _, r in read_jsonl(settled_path)] if settled_path.is_file() else []
    done = {(r.get("source") or {}).get("annotation_id") for r in settled}
    stray = []
    for _, record in read_jsonl(held_path):
        source, held = record.get("source") or {}, record.get("held") or {}
        if held.get("author") != held.get("project_of") or held.get("project_of") == "review":
            stray.append(record)
        else:
            report.left.append(
                f"task {source.get('task_id')} (sentence {record['sentence_id']}): {held.get('reason')}; "
                f"ask {held.get('author')} to open it in their project and press Update"
            )
    for record in stray:
        annotation_id = record["source"]["annotation_id"]
        if annotation_id in done:
            report.gone += 1
            continue
        report.removed.append(
            {
                "sentence_id": record["sentence_id"],
                "task_id": record["source"]["task_id"],
                "annotation_id": annotation_id,
                "annotator": record["annotator"],
            }
        )
        if dry_run:
            continue
        settled.append(record)
        write_jsonl(settled_path, settled)  # recorded before it is removed
        try:
            connection.call("remove a stray annotation", connection.client.annotations.delete, annotation_id)
        except StudioError as err:
            if "HTTP 404" not in str(err):
                raise
            report.removed.pop()
            report.gone += 1
    return report


@dataclass
class Progress:
    annotator: str
    project: int
    tasks: int
    done: int  # tasks with the owner's own submitted annotation
    by_others: int  # tasks labelled only by someone else (held at pull; out of the owner's queue)


def annotator_progress(connection: Connection, settings: Settings) -> list[Progress]:
    """Each annotator project's progress, counting only the owner's own annotations."""
    people = server_people(connection, settings)
    ids = {name: uid for uid, name in people.names.items()}
    rows = []
    for name, project in sorted(annotator_projects(connection, settings.studio.project).items()):
        tasks = [t for ts in project_tasks(connection, project.id).values() for t in ts]
        own = ids.get(name)
        done = sum(own in t.annotators for t in tasks)
        others = sum(bool(t.annotators) and own not in t.annotators for t in tasks)
        rows.append(Progress(name, project.id, len(tasks), done, others))
    return rows


@dataclass
class StudioStatus:
    """Whether the project's local studio runs, and (when it does) each annotator project's progress."""

    url: str
    pid: int | None
    running: bool
    progress: list[Progress] = field(default_factory=list)


def local_studio_status(settings: Settings) -> StudioStatus:
    """The local studio's state: its pid, whether it answers, and progress when it does."""
    studio = LocalStudio.for_settings(settings)
    pid = studio.pid()
    if pid is None or not studio.healthy():
        return StudioStatus(studio.url, pid, running=False)
    return StudioStatus(studio.url, pid, running=True, progress=annotator_progress(connect(settings), settings))
