"""Guideline-aligned pre-labels: the mechanical rules of annotation/guidelines.md, applied after the model.

Each rule takes `(text, start, end, label)` of one predicted span and returns the span it should be
(or the same span). Rules run in order; every change is counted by rule in the prelabel report; the
span keeps the model's score. Only rules a machine can apply without judgement are here; the model's
real confusions (a person tagged ORG) are left for annotators and `newsner train`.

Switched on by `[prelabel] align = true` in newsner.toml. The rules that name a label (titles stay
outside a *person*; countries are *locations*) take the project's labels from `Roles`, which `roles()`
reads off the `[labels.from_spacy]` map: whatever spaCy's PERSON and GPE become in this project.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Span = tuple[int, int, str]


@dataclass(frozen=True)
class Roles:
    """The project's labels for the roles the rules know; None: the project has no such label."""

    person: str | None = None
    location: str | None = None


def roles(from_spacy: Mapping[str, str]) -> Roles:
    """The roles of a project's labels, from its spaCy label map (PERSON -> person, GPE -> location).

    >>> roles({"PERSON": "PER", "GPE": "LOC", "ORG": "ORG"})
    Roles(person='PER', location='LOC')
    >>> roles({"PERSON": "PERSON", "GPE": "GPE"})
    Roles(person='PERSON', location='GPE')
    """
    return Roles(person=from_spacy.get("PERSON"), location=from_spacy.get("GPE"))


Rule = Callable[[str, int, int, str, Roles], Span]

_THE = re.compile(r"(?i:the)\s+(?=\S)")
_TITLES = re.compile(
    r"(?:(?:Former|Acting|Deputy|Vice|Interim)\s+)*"
    r"(?:President|Prime\s+Minister|Premier|Chancellor|Minister|Secretary(?:\s+of\s+State)?|Senator|Sen\.|"
    r"Rep\.|Representative|Governor|Gov\.|Mayor|Ambassador|General|Gen\.|Colonel|Col\.|Lieutenant|Lt\.|"
    r"Captain|Capt\.|Judge|Justice|King|Queen|Prince|Princess|Pope|Sheikh|Chairman|Chairwoman|Spokesman|"
    r"Spokeswoman|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Prof\.?|Sir|Dame)\s+(?=[A-Z])"
)
_POSSESSIVE = re.compile(r"['’]s?$")
_PREFIX = re.compile(r"[a-z]{2,5}-(?=[A-Z])")  # ex-Soviet, pro-Russian, anti-American
_EDGE = "\"'“”‘’«»()[]{},;:!?"

# everyday English names of countries that ISO's names do not give
COUNTRY_ALIASES = frozenset(
    {
        "Russia",
        "Syria",
        "Iran",
        "South Korea",
        "North Korea",
        "Vietnam",
        "Laos",
        "Bolivia",
        "Venezuela",
        "Tanzania",
        "Moldova",
        "Taiwan",
        "Czech Republic",
        "Ivory Coast",
        "Britain",
        "Great Britain",
        "UK",
        "U.K.",
        "US",
        "U.S.",
        "USA",
        "U.S.A.",
        "America",
        "United States",
        "Holland",
        "Burma",
        "Macedonia",
        "Palestine",
        "Vatican",
        "Brunei",
        "Micronesia",
        "Congo",
        "DR Congo",
        "Kosovo",
    }
)


@functools.cache
def countries() -> frozenset[str]:
    """Country names: ISO 3166 names, common and official names (pycountry), and everyday aliases."""
    import pycountry

    names = set(COUNTRY_ALIASES)
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "common_name", None), getattr(country, "official_name", None)):
            if name:
                names.add(name)
                names.add(name.split(",")[0])  # "Korea, Republic of" -> "Korea"
    return frozenset(names)


def _leading_the(text: str, start: int, end: int, label: str, roles: Roles) -> Span:
    """Guideline 1: "the" stays outside ("the Ministry of Health" -> "Ministry of Health")."""
    match = _THE.match(text, start, end)
    return (match.end(), end, label) if match else (start, end, label)


def _title(text: str, start: int, end: int, label: str, roles: Roles) -> Span:
    """Guideline 2: titles and roles stay outside a person's name ("President Tokayev" -> "Tokayev")."""
    if roles.person is None or label != roles.person:
        return start, end, label
    match = _TITLES.match(text, start, end)
    return (match.end(), end, label) if match and match.end() < end else (start, end, label)


def _possessive(text: str, start: int, end: int, label: str, roles: Roles) -> Span:
    """Guideline 3: a possessive 's stays outside ("Kazakhstan’s" -> "Kazakhstan")."""
    match = _POSSESSIVE.search(text, start, end)
    if match and match.start() > start and (match.group() != "'" or text[match.start() - 1] == "s"):
        return start, match.start(), label
    return start, end, label


def _hyphen_prefix(text: str, start: int, end: int, label: str, roles: Roles) -> Span:
    """Guideline 4: mark only the name part of a prefixed word ("ex-Soviet" -> "Soviet")."""
    match = _PREFIX.match(text, start, end)
    return (match.end(), end, label) if match else (start, end, label)


def _edges(text: str, start: int, end: int, label: str, roles: Roles) -> Span:
    """Guideline 7: no surrounding punctuation, quotes or spaces (a bracket pair inside stays)."""
    while start < end and (text[start].isspace() or text[start] in _EDGE and text[start] != "("):
        start += 1
    while end > start and (
        text[end - 1].isspace() or text[end - 1] in _EDGE and not (text[end - 1] == ")" and "(" in text[start:end])
    ):
        end -= 1
    return start, end, label


def _country(text: str, start: int, end: int, label: str, roles: Roles) -> Span:
    """Countries are always locations, also when they act ("Armenia said" is LOC, not ORG)."""
    location = roles.location
    if location is None or label == location or text[start:end] not in countries():
        return start, end, label
    return start, end, location


# name -> rule, in the order they run
RULES: dict[str, Rule] = {
    "possessive": _possessive,  # before punctuation: the apostrophe of "Teachers'" is a possessive
    "surrounding-punctuation": _edges,
    "leading-the": _leading_the,
    "title": _title,
    "hyphen-prefix": _hyphen_prefix,
    "country-is-loc": _country,
}


DEFAULT_ROLES = Roles(person="PER", location="LOC")  # the default label set's


def align_span(
    text: str, start: int, end: int, label: str, counts: Counter | None = None, *, roles: Roles = DEFAULT_ROLES
) -> Span | None:
    """The span after every rule; None when nothing of it is left. `counts` gets +1 per rule that changed it.

    >>> text = "He met the Ministry of Health and Armenia’s envoy."
    >>> align_span(text, 7, 29, "ORG"), align_span(text, 34, 43, "ORG")
    ((11, 29, 'ORG'), (34, 41, 'LOC'))
    >>> align_span(text, 34, 43, "ORG", roles=Roles(person="PERSON", location="GPE"))
    (34, 41, 'GPE')
    """
    span = (start, end, label)
    for name, rule in RULES.items():
        changed = rule(text, *span, roles)
        if changed != span:
            span = changed
            if counts is not None:
                counts[name] += 1
        if span[0] >= span[1]:
            return None
    return span
