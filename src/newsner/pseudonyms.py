"""Annotator pseudonyms that are the same on every server and machine, and the annotator pool.

A pseudonym is `annotator-` + the first 12 hex digits of HMAC-SHA256(key, e-mail), with the e-mail
lower-cased and stripped. The same person (e-mail) gets the same pseudonym on any Label Studio server;
two people collide with probability ~n²/2⁴⁹. The key is the project's secret: it comes from
`NEWSNER_PSEUDONYM_KEY`, else `.newsner/pseudonym.key` (created on first use, mode 0600, git-ignored).
Without it, nobody can confirm a guessed e-mail against the published pseudonyms.

The pool (`annotation/annotators.json`, committed) lists the annotators' pseudonyms in the order they
joined and the key's fingerprint, so a pull made with another key is refused instead of splitting
every person in two.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from newsner.errors import ConfigError
from newsner.io import write_json
from newsner.schemas import schema_errors

KEY_ENV = "NEWSNER_PSEUDONYM_KEY"
KEY_FILE = Path(".newsner/pseudonym.key")
POOL_FILE = Path("annotation/annotators.json")
PREFIX = "annotator-"
REVIEWER_PREFIX = "reviewer-"  # the same person's hex digits, as a reviewer


def load_key(root: Path, *, create: bool = True) -> bytes:
    """The pseudonym key: `NEWSNER_PSEUDONYM_KEY`, else `<root>/.newsner/pseudonym.key` (made when missing)."""
    value = os.environ.get(KEY_ENV)
    if value is not None:
        return _checked(value.strip(), KEY_ENV)
    path = root / KEY_FILE
    if path.is_file():
        return _checked(path.read_text().strip(), str(path))
    if not create:
        raise ConfigError(f"no pseudonym key: set {KEY_ENV} or restore {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key.encode()


MIN_KEY_LENGTH = 16


def _checked(key: str, where: str) -> bytes:
    """Refuse an empty or short key: with it, anyone could confirm a guessed e-mail against the pseudonyms."""
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"the pseudonym key in {where} is {'empty' if not key else f'{len(key)} characters'}; it "
            f'must be at least {MIN_KEY_LENGTH} characters (a new one: python -c "import secrets; '
            f'print(secrets.token_hex(32))"), or unset {KEY_ENV} to use {KEY_FILE}'
        )
    return key.encode()


def fingerprint(key: bytes) -> str:
    """A short public fingerprint of the key (tells keys apart, reveals nothing about them)."""
    return hashlib.sha256(b"newsner-pseudonym-key|" + key).hexdigest()[:16]


def pseudonym(key: bytes, email: str, prefix: str = PREFIX) -> str:
    """The pseudonym of the person with this e-mail address (`reviewer-…` with `prefix=REVIEWER_PREFIX`).

    >>> pseudonym(b"k", "Ann@Example.org") == pseudonym(b"k", " ann@example.org ")
    True
    >>> reviewer = pseudonym(b"k", "ann@example.org", REVIEWER_PREFIX)
    >>> reviewer[len(REVIEWER_PREFIX) :] == pseudonym(b"k", "ann@example.org")[len(PREFIX) :]
    True
    """
    digest = hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()
    return prefix + digest[:12]


@dataclass
class Pool:
    """The annotators and reviewers of a dataset project, by pseudonym, in the order they joined."""

    key_fingerprint: str
    annotators: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)

    def add(self, name: str) -> bool:
        """Add a pseudonym (to `reviewers` when it starts with `reviewer-`); False when it was there already."""
        members = self.reviewers if name.startswith(REVIEWER_PREFIX) else self.annotators
        if name in members:
            return False
        members.append(name)
        return True


def read_pool(root: Path) -> Pool | None:
    """`annotation/annotators.json` (schema `annotators`), or None when there is none yet."""
    path = root / POOL_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ConfigError(f"{path}: not valid JSON ({err})") from None
    problems = list(schema_errors("annotators", data))
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems) + " (annotators are pseudonyms, never e-mail addresses)")
    return Pool(
        key_fingerprint=data["key_fingerprint"],
        annotators=list(data["annotators"]),
        reviewers=list(data.get("reviewers", [])),
    )


def write_pool(root: Path, pool: Pool) -> None:

    data: dict = {"key_fingerprint": pool.key_fingerprint, "annotators": pool.annotators}
    if pool.reviewers:
        data["reviewers"] = pool.reviewers
    write_json(root / POOL_FILE, data)


def checked_key(root: Path) -> bytes:
    """The key, refused when the committed pool was made with another one."""
    key = load_key(root)
    pool = read_pool(root)
    if pool is not None and pool.key_fingerprint != fingerprint(key):
        raise ConfigError(
            f"{root / POOL_FILE} was made with pseudonym key {pool.key_fingerprint}, but this machine has key "
            f"{fingerprint(key)}: with it every annotator would get a new pseudonym. Set {KEY_ENV} to the "
            f"project's key (or copy {KEY_FILE} from the machine that made the pool)"
        )
    return key


def register(root: Path, emails: list[str], *, prefix: str = PREFIX) -> tuple[list[str], list[str]]:
    """Add these people to the pool (as reviewers with `prefix=REVIEWER_PREFIX`); return (their pseudonyms,
    the ones that are new)."""
    key = checked_key(root)
    pool = read_pool(root) or Pool(key_fingerprint=fingerprint(key))
    names = [pseudonym(key, email, prefix) for email in emails]
    added = [name for name in names if pool.add(name)]
    write_pool(root, pool)
    return names, added
