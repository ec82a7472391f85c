"""The docs stay true: cli.md matches --help, formats.md matches the schemas, every bash block runs."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newsner.clidocs import cli_reference
from newsner.schemas import schema_errors
from tests.conftest import ROOT

DOCS = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)


def blocks(path: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(path.read_text()) if lang == language]


def test_cli_reference_is_current():
    assert (ROOT / "docs" / "cli.md").read_text() == cli_reference(), "run: python scripts/gen-cli-docs.py"


def test_formats_examples_are_the_schema_examples():
    text = (ROOT / "docs" / "formats.md").read_text()
    sections = re.findall(r"^## (\S+)\n.*?```json\n(.*?)```", text, re.DOTALL | re.MULTILINE)
    assert [name for name, _ in sections] == [
        "article",
        "sentence",
        "task",
        "annotation",
        "dataset-row",
        "config",
        "assignment",
        "annotators",
        "adjudication",
        "raw-article",
    ]
    for name, body in sections:
        example = json.loads(body)
        assert example == json.loads((ROOT / "schemas" / "examples" / f"{name}.json").read_text())
        assert list(schema_errors(name, example)) == []


def project_copy(tmp_path: Path) -> Path:
    for folder in ("corpus", "annotation", "schemas"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("exports"))
    shutil.copy(ROOT / "newsner.toml", tmp_path / "newsner.toml")
    return tmp_path


def run_block(body: str, cwd: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a doc block line by line in `cwd`: `newsner` commands in this process (through Click's runner,
    as the console script calls them), `python` commands in a fresh interpreter."""
    from typer.testing import CliRunner

    from newsner.cli import app

    monkeypatch.chdir(cwd)
    for key in [k for k in os.environ if k not in env]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for line in body.strip().splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        assert words[0] in ("newsner", "python"), f"docs may only show newsner/python commands here: {line}"
        if words[0] == "newsner":
            result = CliRunner().invoke(app, words[1:])
            assert result.exit_code == 0, f"{line}\n{result.output}"
            assert "Traceback" not in result.output, line
            continue
        done = subprocess.run(
            [sys.executable, *words[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, line


OFFLINE = [
    pytest.param(
        path.name,
        i,
        body,
        id=f"{path.name}-{i}",
        # spaCy training in a fresh process, or a local Dask cluster
        marks=[pytest.mark.slow] if "python -m spacy" in body or "--workers" in body else [],
    )
    for path in DOCS
    for i, body in enumerate(blocks(path, "bash"))
    if "studio" not in body
]
STUDIO = [(path.name, i, body) for path in DOCS for i, body in enumerate(blocks(path, "bash")) if "studio" in body]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
    env["CI"] = "1"
    return env


@pytest.mark.parametrize("name, index, body", OFFLINE)
def test_doc_block_runs_as_written(tmp_path: Path, name: str, index: int, body: str, monkeypatch):
    run_block(body, project_copy(tmp_path), _env(), monkeypatch)


@pytest.mark.studio
@pytest.mark.parametrize("name, index, body", STUDIO, ids=[f"{n}-{i}" for n, i, _ in STUDIO])
def test_doc_studio_block_runs_as_written(
    tmp_path: Path, name: str, index: int, body: str, studio_template: Path, monkeypatch
):
    from tests.studio_server import _free_port, copy_template

    project = project_copy(tmp_path)
    copy_template(studio_template, project / ".newsner" / "studio")  # pre-migrated: saves ~25 s, same commands
    toml = project / "newsner.toml"
    toml.write_text(
        toml.read_text().replace('url = "http://127.0.0.1:8080"', f'url = "http://127.0.0.1:{_free_port()}"')
    )
    try:
        run_block(body, project, _env(), monkeypatch)
    finally:
        subprocess.run(
            [str(Path(sys.executable).parent / "newsner"), "studio", "stop"],
            cwd=project,
            env=_env(),
            capture_output=True,
        )
    report = json.loads((project / "annotation" / "pull-report.json").read_text())
    assert report["tasks"] == 34 * 2  # every sentence in two annotators' projects


def test_every_relative_link_in_the_docs_resolves():
    """A reader follows the links: each relative link (and #anchor) in README.md and docs/ must exist."""
    assert OFFLINE and STUDIO, "the docs must show runnable commands"
    broken = []
    for page in [ROOT / "README.md", *DOCS]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target) or target.endswith(".png"):
                continue  # external links; images of the published card
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and resolved.suffix == ".md":
                headings = {
                    re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                    for h in re.findall(r"^#+ (.+)$", resolved.read_text(), re.MULTILINE)
                }
                if anchor not in headings:
                    broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_architecture_names_every_module_and_only_real_ones():
    text = (ROOT / "docs" / "architecture.md").read_text()
    listed = set(re.findall(r"^\| `([\w/]+\.py)` \|", text, re.MULTILINE))
    package = ROOT / "src" / "newsner"
    modules = {p.relative_to(package).as_posix() for p in package.rglob("*.py") if p.name != "__init__.py"}
    assert listed == modules, f"missing: {sorted(modules - listed)}; not a module: {sorted(listed - modules)}"
