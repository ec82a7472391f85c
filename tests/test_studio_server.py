"""The local launcher's failure modes (no server needed; the real-server tests are in test_studio.py)."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from newsner.cli import app
from newsner.errors import StudioError
from newsner.pseudonyms import register
from newsner.studio.server import LocalStudio


def test_busy_port_is_a_clear_error(tmp_path: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(StudioError) as err:
            LocalStudio(state_dir=tmp_path, port=port).start(timeout=5)
    assert str(err.value) == (
        f"port {port} on 127.0.0.1 is busy; stop what runs there or set [studio] url to another port"
    )


def test_status_of_a_stopped_studio_says_stopped(project: Path, runner):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    toml = project / "newsner.toml"
    toml.write_text(toml.read_text().replace('url = "http://127.0.0.1:8080"', f'url = "http://127.0.0.1:{port}"'))
    result = runner.invoke(app, ["studio", "status"])
    assert result.exit_code == 3
    assert result.output == (
        f"studio: stopped (nothing answers at http://127.0.0.1:{port}); start it with `newsner studio start`\n"
    )


def test_login_shows_one_annotator_only(project: Path, runner):
    studio = LocalStudio(state_dir=project / ".newsner" / "studio")
    creds = studio.credentials()
    creds["annotators"] = {
        "a@example.org": {"password": "pw-of-a", "id": 2, "token": "t" * 40},
        "b@example.org": {"password": "pw-of-b", "id": 3, "token": "u" * 40},
    }
    studio.save_credentials(creds)
    register(project, ["a@example.org", "b@example.org"])
    result = runner.invoke(app, ["studio", "login", "a@example.org"])
    assert result.exit_code == 0, result.output
    assert "e-mail:   a@example.org\npassword: pw-of-a\nrole:     annotator\n" in result.output
    assert "pw-of-b" not in result.output and "b@example.org" not in result.output and "t" * 40 not in result.output
    # the studio is not running here: no project name is printed that nobody has checked exists
    assert "project:  none: could not check the projects (no API key for http://127.0.0.1:8080" in result.output
    missing = runner.invoke(app, ["studio", "login", "c@example.org"])
    assert missing.exit_code == 1
    assert "Error: no account c@example.org in" in missing.output
    assert "`newsner studio add-annotator c@example.org` (or add-reviewer)" in missing.output


@pytest.mark.studio  # runs pip: the studio extra's network install, a no-op when it is there
def test_install_brings_the_pinned_server(runner):
    from importlib.metadata import version

    result = runner.invoke(app, ["studio", "install"])
    assert result.exit_code == 0, result.output
    assert f"studio: label-studio=={version('label-studio')} installed" in result.output


def test_credentials_are_private_and_generated(tmp_path: Path):
    studio = LocalStudio(state_dir=tmp_path)
    creds = studio.credentials()
    assert stat.S_IMODE(studio.credentials_path.stat().st_mode) == 0o600
    assert len(creds["admin"]["token"]) == 40 and len(creds["admin"]["password"]) >= 20
    assert LocalStudio(state_dir=tmp_path).credentials() == creds  # stable once created


def test_studio_commands_refuse_a_remote_url(project: Path, runner, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", "https://labels.example.org")
    result = runner.invoke(app, ["studio", "start"])
    assert result.exit_code == 1
    assert "Error: https://labels.example.org is not a loopback address" in result.output


def test_guidelines_become_html_with_tables_styles_and_no_raw_html(tmp_path: Path):
    from newsner.studio.instructions import INSTRUCTION_CLASS, guidelines_html
    from tests.conftest import ROOT

    rendered = guidelines_html(ROOT / "annotation" / "guidelines.md")
    assert rendered.startswith("<style>") and f'<div class="{INSTRUCTION_CLASS}">' in rendered
    assert "<h1>Annotation guidelines: named entities in news</h1>" in rendered
    assert "<table>" in rendered and "<td><strong>PER</strong></td>" in rendered
    for rule in ("ol { list-style: decimal", "ul { list-style: disc", "td { border: 1px solid", "h1 { font-size"):
        assert rule in rendered
    (tmp_path / "g.md").write_text("# T\n\n<script>alert(1)</script>\n")
    assert "<script>" not in guidelines_html(tmp_path / "g.md")
    assert guidelines_html(tmp_path / "missing.md") == ""
