"""Who is who on a Label Studio server: pseudonyms of its accounts, the maintainer, the reviewers.

Every account has an annotator pseudonym (`annotator-…`) and a reviewer pseudonym (`reviewer-…`), the
same hex digits, from its e-mail and the project's key. The maintainer (the account whose key newsner
uses) and the pool's reviewers may decide in the review project. Label Studio shows an account's name,
else its e-mail, on every annotation tab; newsner names the accounts of its pool after their pseudonyms,
so no e-mail appears in the labeling view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from newsner.config import Settings
from newsner.errors import StudioError
from newsner.pseudonyms import REVIEWER_PREFIX, checked_key, pseudonym, read_pool
from newsner.studio.client import Connection

NEWSNER_NAME = re.compile(r"(annotator|reviewer)-[0-9a-f]{12}")


@dataclass
class People:
    """Label Studio user id -> pseudonyms; the maintainer's id; who may review."""

    names: dict[int, str]
    maintainer: int | None = None
    reviewer_names: dict[int, str] = field(default_factory=dict)
    reviewers: set[str] = field(default_factory=set)  # reviewer pseudonyms of the pool

    def name(self, user: Any) -> str | None:
        user_id = _user_id(user)
        return self.names.get(user_id) if user_id is not None else None

    def may_review(self, user: Any) -> bool:
        """True for the maintainer and the pool's reviewers."""
        user_id = _user_id(user)
        return user_id is not None and (
            user_id == self.maintainer or self.reviewer_names.get(user_id) in self.reviewers
        )

    def reviewer(self, user: Any) -> str | None:
        user_id = _user_id(user)
        return self.reviewer_names.get(user_id) if user_id is not None else None


def _user_id(user: Any) -> int | None:
    value = user.get("id") if isinstance(user, dict) else user
    return int(value) if value is not None else None


def server_people(connection: Connection, settings: Settings, users: list[Any] | None = None) -> People:
    """Pseudonyms of every account on the server (from their e-mail and the project's key)."""
    key = checked_key(settings.root)
    users = users if users is not None else connection.call("list the users", connection.client.users.list)
    me = connection.call("identify the maintainer", connection.client.users.whoami)
    pool = read_pool(settings.root)
    return People(
        names={int(u.id): pseudonym(key, u.email) for u in users if u.email},
        maintainer=int(me.id),
        reviewer_names={int(u.id): pseudonym(key, u.email, REVIEWER_PREFIX) for u in users if u.email},
        reviewers=set(pool.reviewers) if pool else set(),
    )


def name_accounts(connection: Connection, settings: Settings) -> int:
    """Give the pool's accounts and the maintainer's their pseudonym as display name; return how many changed.

    Only accounts without a name of their own, or with a pseudonym newsner gave them (another project's
    key), are renamed: a name the person chose is kept. A server that refuses (a team server whose
    admin may not edit other accounts) raises `StudioError` naming the account's pseudonym.
    """
    users = connection.call("list the users", connection.client.users.list)
    people = server_people(connection, settings, users)
    pool = read_pool(settings.root)
    members = set(pool.annotators) | set(pool.reviewers) if pool else set()
    changed = 0
    for user in users:
        uid = int(user.id)
        if uid == people.maintainer:
            wanted = people.reviewer_names.get(uid)
        elif people.names.get(uid) in members:
            wanted = people.names[uid]
        elif people.reviewer_names.get(uid) in members:
            wanted = people.reviewer_names[uid]
        else:
            continue
        current = f"{user.first_name or ''} {user.last_name or ''}".strip()
        if wanted and current != wanted and (not current or NEWSNER_NAME.fullmatch(current)):
            try:
                connection.call("name an account", connection.client.users.update, uid, first_name=wanted)
            except StudioError as err:
                raise StudioError(f"could not set the display name of {wanted}: {err}") from None
            changed += 1
    return changed
