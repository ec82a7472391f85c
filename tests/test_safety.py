"""Nothing lost, nothing leaked: a clumsy or hostile hand at the command line (issue: safe outputs, refused
duplicates, a studio that cannot be pointed elsewhere). Each test names the case it guards."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsner.cli import app
from tests.conftest import ROOT


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def repo(project: Path) -> Path:
    """A copy of this repository's dataset project (corpus, annotation), as the working folder."""
    for folder in ("corpus", "annotation"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("exports"))
    return project


# 1. output destroyed: publish/train onto a folder they did not write, or onto the project itself
@pytest.mark.parametrize("target", ["corpus", "annotation", "."])
def test_publish_never_replaces_a_folder_it_did_not_write(repo: Path, runner, target: str):
    before = tree_digest(repo / "corpus")
    result = runner.invoke(app, ["publish", "-o", target])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {target}: ")
    assert (
        "was not written by `newsner publish`; nothing was changed" in result.output
        or "is the project folder" in result.output
    )
    assert tree_digest(repo / "corpus") == before and (repo / "corpus/raw").is_dir()


def test_publish_replaces_its_own_output_and_force_replaces_a_foreign_one(repo: Path, runner):
    assert runner.invoke(app, ["publish", "-o", "dist/ds"]).exit_code == 0
    again = runner.invoke(app, ["publish", "-o", "dist/ds"])
    assert again.exit_code == 0, again.output
    foreign = repo / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert runner.invoke(app, ["publish", "-o", "mine"]).exit_code == 1
    assert (foreign / "notes.txt").read_text() == "keep me"
    forced = runner.invoke(app, ["publish", "-o", "mine", "--force"])
    assert forced.exit_code == 0, forced.output
    assert not (foreign / "notes.txt").exists() and (foreign / "README.md").is_file()
    assert sorted(p.name for p in repo.iterdir() if p.name.startswith(".") and p.name != ".newsner") == []


def test_train_refuses_a_foreign_folder_before_training(repo: Path, runner):
    (repo / "models").mkdir()
    (repo / "models" / "ner").mkdir()
    (repo / "models" / "ner" / "my-notes.md").write_text("mine")
    started = time.monotonic()
    result = runner.invoke(app, ["train", "-o", "models/ner"])
    assert result.exit_code == 1
    assert "models/ner: is not empty and was not written by `newsner train`" in result.output
    assert time.monotonic() - started < 10, "it trained first and refused after"
    assert (repo / "models/ner/my-notes.md").read_text() == "mine"
    assert runner.invoke(app, ["train", "-o", "."]).exit_code == 1


# 2. a step whose every input failed keeps its previous output
@pytest.mark.parametrize("make", ["typo", "binary", "empty-folder"])
def test_ingest_with_no_readable_input_leaves_the_articles_as_they_were(repo: Path, runner, make: str):
    before = (repo / "corpus/articles.jsonl").read_bytes()
    if make == "typo":
        source = "corpus/raww"
    elif make == "binary":
        (repo / "bin").mkdir()
        (repo / "bin" / "a.txt").write_bytes(b"\x00\x01\x02")
        source = "bin"
    else:
        (repo / "nothing").mkdir()
        source = "nothing"
    result = runner.invoke(app, ["ingest", source])
    assert result.exit_code == 1
    assert "Error: no article could be read" in result.output
    assert "corpus/articles.jsonl was left as it was" in result.output
    assert (repo / "corpus/articles.jsonl").read_bytes() == before


# 3. killed at the moment of the swap: the old or the new complete folder, and the next run cleans up
@pytest.mark.slow
@pytest.mark.parametrize("fault", ["before-swap", "after-swap"])
def test_publish_killed_at_the_swap_leaves_a_whole_dataset(repo: Path, runner, fault: str):
    command = [str(Path(sys.executable).parent / "newsner"), "publish", "-o", "dist/ds"]
    assert runner.invoke(app, command[1:]).exit_code == 0  # in this process: only the killed run needs its own
    old = tree_digest(repo / "dist/ds")
    (repo / "annotation/annotations.jsonl").write_text(
        "".join(line for line in (repo / "annotation/annotations.jsonl").read_text().splitlines(keepends=True)[2:])
    )
    killed = subprocess.run(command, cwd=repo, capture_output=True, env={**os.environ, "NEWSNER_FAULT": fault})
    assert killed.returncode == -9, "the fault point was not reached"
    after = tree_digest(repo / "dist/ds")
    assert after == old if fault == "before-swap" else after != old
    import datasets

    assert set(datasets.load_dataset(str(repo / "dist/ds"))) == {"train", "validation", "test"}  # whole, loadable
    assert runner.invoke(app, command[1:]).exit_code == 0
    assert sorted(p.name for p in (repo / "dist").iterdir()) == ["ds"]  # the leftover is gone


@pytest.mark.slow
def test_train_killed_at_the_swap_leaves_a_whole_model(repo: Path):
    import spacy

    command = [
        str(Path(sys.executable).parent / "newsner"),
        "train",
        "-o",
        "models/ner",
        "--max-steps",
        "2",
        "--eval-frequency",
        "1",
    ]
    assert subprocess.run(command, cwd=repo, capture_output=True).returncode == 0
    old = tree_digest(repo / "models/ner")
    killed = subprocess.run(
        [*command[:-4], "--max-steps", "3", "--eval-frequency", "1"],
        cwd=repo,
        capture_output=True,
        env={**os.environ, "NEWSNER_FAULT": "after-swap"},
    )
    assert killed.returncode == -9
    new = tree_digest(repo / "models/ner")
    assert new != old and json.loads((repo / "models/ner/metrics.json").read_text())["steps"] >= 3
    spacy.load(repo / "models/ner")  # a whole pipeline
    assert subprocess.run(command, cwd=repo, capture_output=True).returncode == 0
    assert sorted(p.name for p in (repo / "models").iterdir()) == ["ner"]


# 4. the report set is written as one
def test_agree_on_a_full_disk_leaves_the_previous_report_set_whole(repo: Path, runner, monkeypatch):
    assert runner.invoke(app, ["agree", "--no-plots", "-o", "out"]).exit_code == 0
    before = tree_digest(repo / "out")
    (repo / "annotation/annotations.jsonl").write_text(
        "".join((repo / "annotation/annotations.jsonl").read_text().splitlines(keepends=True)[2:])
    )
    import newsner.agreement_output as output

    real = output.write_text

    def full_disk(path, text):
        if Path(path).name == "agreement.md":
            raise OSError(28, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(output, "write_text", full_disk)
    result = runner.invoke(app, ["agree", "--no-plots", "-o", "out"])
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert (
        tree_digest(repo / "out") == before
        and [p.name for p in (repo / "out").iterdir() if p.name.startswith(".")] == []
    )


# 5. two records for one (sentence, annotator)
@pytest.mark.parametrize("command", [["agree", "--no-plots", "-o", "out"], ["publish", "-o", "dist/ds"]])
def test_agree_and_publish_refuse_two_records_for_one_sentence_and_annotator(repo: Path, runner, command):
    path = repo / "annotation/annotations.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines) + lines[0])
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    first = json.loads(lines[0])
    assert (
        f"annotation/annotations.jsonl:{len(lines) + 1}: sentence {first['sentence_id']}: [$] a second annotation "
        f"by {first['annotator']} (first on line 1)"
    ) in result.output


# 6. boilerplate only; looping links
def test_a_file_of_boilerplate_only_is_skipped_and_looping_links_are_listed(project: Path, runner):
    raw = project / "raw"
    raw.mkdir()
    (raw / "real.txt").write_text("Protests in Almaty\n\nPolice detained dozens of people in Almaty.\n")
    (raw / "furniture.txt").write_text("Advertisement\n\nShare this article\n\nLeave a Comment\n")
    os.symlink("loop-b", raw / "loop-a")
    os.symlink("loop-a", raw / "loop-b")
    result = runner.invoke(app, ["ingest", "raw", "-o", "articles.jsonl"])
    assert result.exit_code == 1  # inputs were skipped: each is listed, the good article is written
    assert "skipped raw/furniture.txt: nothing left after removing boilerplate" in result.output
    assert "skipped raw/loop-a: a broken or looping symbolic link; fix or remove it" in result.output
    assert [json.loads(line)["title"] for line in Path("articles.jsonl").read_text().splitlines()] == [
        "Protests in Almaty"
    ]


# 7. optional inputs get the same checks; deep JSON; not an e-mail
@pytest.mark.parametrize(
    "option, wrong", [("--tasks", "corpus/sentences.jsonl"), ("--sentences", "annotation/tasks.jsonl")]
)
def test_an_optional_input_of_the_wrong_kind_is_refused_clearly(repo: Path, runner, option: str, wrong: str):
    result = runner.invoke(app, ["publish", "-o", "dist/ds", option, wrong])
    assert result.exit_code == 1
    assert f"Error: {wrong} has " in result.output and "invalid record(s)" in result.output
    assert "unexpected" not in result.output
    assert not (repo / "dist").exists() or list((repo / "dist").iterdir()) == []  # no temp folder left behind
    predictions = runner.invoke(app, ["agree", "-o", "out", "--predictions", "corpus/sentences.jsonl"])
    assert predictions.exit_code == 1 and "Error: corpus/sentences.jsonl has " in predictions.output


def test_a_folder_given_as_sentences_is_named_in_the_error(repo: Path, runner):
    result = runner.invoke(app, ["publish", "-o", "dist/ds", "--sentences", "corpus"])
    assert result.output == "Error: corpus: is a folder; name the sentence records file (JSONL) instead\n"


def test_absurdly_nested_json_is_a_clear_error(project: Path, runner):
    Path("annotation").mkdir()
    Path("annotation/annotations.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    result = runner.invoke(app, ["agree", "-o", "out"])
    assert result.output == "Error: annotation/annotations.jsonl:1: JSON nested too deeply to be a newsner record\n"


def test_add_annotator_refuses_what_is_not_an_email(project: Path, runner):
    result = runner.invoke(app, ["studio", "add-annotator", "not-an-email"])
    assert result.output.startswith("Error: not an e-mail address: 'not-an-email'")


# 8. runaway: a thousand annotators on one sentence
def test_agree_refuses_a_thousand_annotators_on_one_sentence_quickly(project: Path, runner):
    text = "Tokayev met Putin."
    Path("annotation").mkdir()
    Path("annotation/annotations.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "sentence_id": "s1",
                    "article_id": "a1",
                    "annotator": f"annotator-{i:012x}",
                    "text": text,
                    "spans": [{"start": 0, "end": 7, "label": "PER"}] if i % 2 else [],
                }
            )
            + "\n"
            for i in range(1000)
        )
    )
    started = time.monotonic()
    result = runner.invoke(app, ["agree", "-o", "out"])
    assert time.monotonic() - started < 60
    assert result.exit_code == 1
    assert "sentence s1 has 1000 annotators (1 sentences have more than 100)" in result.output


# 9. URLs are parsed, not matched
def test_a_studio_url_with_user_info_is_refused_before_any_request(project: Path, runner, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:18081@127.0.0.2:18098")
    for command in (["studio", "add-annotator", "x@y.org"], ["studio", "start"], ["push"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1
        assert "has a user-info part (before '@'): the request would go to '127.0.0.2'" in result.output, command
    assert not (project / ".newsner" / "studio" / "server.pid").exists()


def test_a_non_loopback_url_is_not_a_local_studio(project: Path, runner, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1.example.org:8080")
    result = runner.invoke(app, ["studio", "start"])
    assert result.output.startswith("Error: http://127.0.0.1.example.org:8080 is not a loopback address")


# 10. whether a server is newsner's own comes from newsner's state (see also test_studio's team-server test)
def test_the_local_admin_token_goes_only_to_the_studio_newsner_started(project: Path, monkeypatch):
    from newsner.config import load_settings
    from newsner.errors import StudioError
    from newsner.studio.client import api_key
    from newsner.studio.server import LocalStudio

    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    settings = load_settings()
    studio = LocalStudio.for_settings(settings)
    token = studio.credentials()["admin"]["token"]  # credentials exist, but this studio never ran
    with pytest.raises(StudioError, match="no API key for http://127.0.0.1:8080"):
        api_key(settings, "http://127.0.0.1:8080")
    studio.url_path.write_text("http://127.0.0.1:8080\n")  # what `studio start` records
    assert api_key(settings, "http://127.0.0.1:8080") == token
    with pytest.raises(StudioError):
        api_key(settings, "http://127.0.0.1:8081")  # another server on this machine


# 11. private folders
def test_the_studio_data_folder_is_private(studio):
    assert stat.S_IMODE(studio.state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((studio.state_dir / "data").stat().st_mode) == 0o700


# 12. the pseudonym key
@pytest.mark.parametrize("value", ["   ", "short-key"])
def test_an_empty_or_short_pseudonym_key_is_refused(project: Path, runner, monkeypatch, value: str):
    monkeypatch.setenv("NEWSNER_PSEUDONYM_KEY", value)
    result = runner.invoke(app, ["studio", "add-annotator", "a@example.org"])
    assert result.exit_code == 1
    assert (
        "the pseudonym key in NEWSNER_PSEUDONYM_KEY is" in result.output and "at least 16 characters" in result.output
    )
    assert not (project / "annotation" / "annotators.json").exists()


def test_a_killed_writer_leaves_a_temp_file_that_the_next_run_removes(project: Path):
    script = (
        "import os, signal; from newsner.io import write_jsonl\n"
        "def records():\n    yield {'a': 1}\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        "write_jsonl('out.jsonl', records())\n"
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True)
    assert killed.returncode == -9
    [leftover] = list(project.glob(".out.jsonl.*.tmp"))
    other = project / ".out.jsonl.1.abcd.tmp"  # pid 1 is alive: another writer's file stays
    other.write_text("")
    from newsner.io import write_jsonl

    write_jsonl(project / "out.jsonl", [{"b": 2}])
    assert not leftover.exists() and other.exists()
    assert (project / "out.jsonl").read_text() == '{"b":2}\n'
