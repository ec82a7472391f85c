"""Pseudonyms: keyed, stable per person, never an e-mail; the pool refuses a foreign key."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from newsner.errors import ConfigError
from newsner.pseudonyms import KEY_ENV, checked_key, fingerprint, load_key, pseudonym, read_pool, register


@pytest.fixture(autouse=True)
def no_key_in_env(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


def test_key_is_created_once_private_and_reused(tmp_path: Path):
    key = load_key(tmp_path)
    path = tmp_path / ".newsner" / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 64
    assert load_key(tmp_path) == key


def test_key_from_the_environment_wins(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "team-secret-0123456789")
    assert load_key(tmp_path) == b"team-secret-0123456789"
    assert not (tmp_path / ".newsner").exists()


def test_same_person_same_name_different_people_different_names():
    key = b"k" * 32
    assert pseudonym(key, "Ann.One@Example.org") == pseudonym(key, " ann.one@example.org")
    names = {pseudonym(key, f"person{i}@example.org") for i in range(5000)}
    assert len(names) == 5000
    assert all(n.startswith("annotator-") and len(n) == len("annotator-") + 12 and "@" not in n for n in names)
    assert pseudonym(b"other key", "ann.one@example.org") != pseudonym(key, "ann.one@example.org")


def test_register_keeps_join_order_and_is_idempotent(tmp_path: Path):
    names, added = register(tmp_path, ["b@example.org", "a@example.org"])
    assert added == names
    again, added_again = register(tmp_path, ["a@example.org", "c@example.org"])
    assert again[0] == names[1] and added_again == [again[1]]
    pool = read_pool(tmp_path)
    assert pool.annotators == [names[0], names[1], again[1]]
    assert pool.key_fingerprint == fingerprint(load_key(tmp_path))
    assert "@" not in (tmp_path / "annotation" / "annotators.json").read_text()


def test_a_pool_made_with_another_key_is_refused(tmp_path: Path, monkeypatch):
    register(tmp_path, ["a@example.org"])
    made_with = read_pool(tmp_path).key_fingerprint
    monkeypatch.setenv(KEY_ENV, "a different key, long enough")
    with pytest.raises(ConfigError) as err:
        checked_key(tmp_path)
    assert str(err.value).startswith(
        f"{tmp_path}/annotation/annotators.json was made with pseudonym key {made_with}, "
        f"but this machine has key {fingerprint(b'a different key, long enough')}"
    )
    assert KEY_ENV in str(err.value)


def test_a_pool_with_an_email_is_refused(tmp_path: Path):
    (tmp_path / "annotation").mkdir()
    (tmp_path / "annotation" / "annotators.json").write_text(
        json.dumps({"key_fingerprint": "0" * 16, "annotators": ["ann@example.org"]})
    )
    with pytest.raises(ConfigError, match="never e-mail addresses"):
        read_pool(tmp_path)
