"""A real Label Studio for the test session, started on 127.0.0.1 and stopped by pid at the end.

Its data folder is fresh per session (under pytest's tmp dir), copied from a pre-migrated template
(made once per machine and Label Studio version, kept in pytest's cache): a warm start takes ~5 s
instead of ~30 s of migrations. Tests get their own project name, so they do not see each other's
tasks. Annotator accounts are created once, by invite-link signup.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import uuid
from pathlib import Path

import pytest

from newsner.config import settings_from_dict
from newsner.pseudonyms import register
from newsner.studio.server import LocalStudio
from tests.browser import CHROMIUM, Browser
from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def studio_template(request: pytest.FixtureRequest) -> Path:
    """A migrated, stopped Label Studio state folder (data + credentials) to copy from."""
    from importlib.metadata import version

    template = Path(request.config.cache.mkdir(f"label-studio-{version('label-studio')}-template"))
    # parallel test workers (pytest -n 2) share the template: the first makes it, the others wait for it
    with (template.parent / f"{template.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / "ready").exists():
            shutil.rmtree(template, ignore_errors=True)
            server = LocalStudio(state_dir=template, port=_free_port())
            server.start(timeout=300)
            server.stop()
            (template / "ready").write_text("migrated\n")
    return template


def copy_template(template: Path, state_dir: Path) -> Path:
    """Copy the template's data and credentials into `state_dir` (a new, stopped studio)."""
    shutil.copytree(
        template, state_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("server.pid", "server.log", "ready")
    )
    return state_dir


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory, studio_template: Path):
    """A running local Label Studio (real server)."""
    state = copy_template(studio_template, tmp_path_factory.mktemp("studio"))
    server = LocalStudio(state_dir=state, port=_free_port())
    server.start(timeout=300)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def annotators(studio: LocalStudio) -> dict[str, dict]:
    """Three annotator accounts: email -> {id, token, password}."""
    return {
        email: studio.add_annotator(email)
        for email in ("ann.one@example.org", "ann.two@example.org", "ann.three@example.org")
    }


@pytest.fixture
def studio_settings(studio: LocalStudio, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Settings for a fresh project on the test server; the admin key in LABEL_STUDIO_API_KEY."""
    import tomllib

    raw = tomllib.loads((ROOT / "newsner.toml").read_text())
    raw["studio"] = {"url": studio.url, "project": f"test-{uuid.uuid4().hex[:8]}", "annotators_per_task": 2}
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", studio.credentials()["admin"]["token"])
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    (tmp_path / "newsner.toml").write_text(_toml(raw))
    monkeypatch.chdir(tmp_path)
    return settings_from_dict(raw, path=tmp_path / "newsner.toml")


def _toml(data: dict) -> str:
    import json

    lines = []
    for section, values in data.items():
        nested = {k: v for k, v in values.items() if isinstance(v, dict)}
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items() if not isinstance(v, dict)]
        for name, table in nested.items():
            lines.append(f"[{section}.{name}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def label_results(text: str, spans: list[dict], prefix: str = "r") -> list[dict]:
    """Label Studio `labels` results for spans ({start, end, label}, optional `shown`: the text the browser
    would send), as an annotation or an export carries them."""
    return [
        {
            "id": f"{prefix}{i}",
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "value": {
                "start": s["start"],
                "end": s["end"],
                "text": s.get("shown", text[s["start"] : s["end"]]),
                "labels": [s["label"]],
            },
        }
        for i, s in enumerate(spans)
    ]


def annotate(
    studio: LocalStudio,
    token: str,
    task_id: int,
    spans: list[dict],
    *,
    text: str,
    cancelled: bool = False,
    ground_truth: bool = False,
) -> dict:
    """Submit an annotation as an annotator, through the real API with the annotator's own token."""
    from label_studio_sdk import LabelStudio

    client = LabelStudio(base_url=studio.url, api_key=token)
    result = label_results(text, spans)
    annotation = client.annotations.create(
        task_id, result=result, was_cancelled=cancelled, ground_truth=ground_truth, lead_time=3.5
    )
    return annotation.dict() if hasattr(annotation, "dict") else dict(annotation)


@pytest.fixture
def pool(studio_settings, annotators) -> dict[str, dict]:
    """The first two test accounts in the pool: email -> {id, token, password, name}."""
    emails = list(annotators)[:2]
    names, _ = register(studio_settings.root, emails)
    return {email: {**annotators[email], "name": name} for email, name in zip(emails, names, strict=True)}


@pytest.fixture
def browser(studio, tmp_path: Path):
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: scripts/test.sh installs Debian's chromium"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    shots = Path(os.environ["NEWSNER_SHOTS"]) if os.environ.get("NEWSNER_SHOTS") else tmp_path / "shots"
    session = Browser(studio.url, tmp_path, shots)
    yield session
    session.close()


@pytest.fixture
def pair(studio_settings, annotators):
    """Two annotators in the pool, each sentence assigned to both: (settings, [(email, password, pseudonym)])."""
    emails = list(annotators)[:2]
    names, _ = register(studio_settings.root, emails)
    return studio_settings, [(e, annotators[e]["password"], n) for e, n in zip(emails, names, strict=True)]
