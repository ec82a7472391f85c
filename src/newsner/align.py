"""Guideline-aligned pre-labels: the mechanical rules of annotation/guidelines.md, applied after the model.

Each rule takes `(text, start, end, label)` of one predicted span and returns the span it should be
(or the same span). Rules run in order; every change is counted by rule in the prelabel report; the
span keeps the model's score. Only rules a machine can apply without judgement are here; the model's
real confusions (a person tagged ORG) are left for annotators and `newsner train`.

Switched on by `[prelabel] align = true` in newsner.toml.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable

Span = tuple[int, int, str]
Rule = Callable[[str, int, int, str], Span]

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


def _leading_the(text: str, start: int, end: int, label: str) -> Span:
    """Guideline 1: "the" stays outside ("the Ministry of Health" -> "Ministry of Health")."""
    match = _THE.match(text, start, end)
    return (match.end(), end, label) if match else (start, end, label)


def _title(text: str, start: int, end: int, label: str) -> Span:
    """Guideline 2: titles and roles stay outside a person's name ("President Tokayev" -> "Tokayev")."""
    if label != "PER":
        return start, end, label
    match = _TITLES.match(text, start, end)
    return (match.end(), end, label) if match and match.end() < end else (start, end, label)


def _possessive(text: str, start: int, end: int, label: str) -> Span:
    """Guideline 3: a possessive 's stays outside ("Kazakhstan’s" -> "Kazakhstan")."""
    match = _POSSESSIVE.search(text, start, end)
    if match and match.start() > start and (match.group() != "'" or text[match.start() - 1] == "s"):
        return start, match.start(), label
    return start, end, label


def _hyphen_prefix(text: str, start: int, end: int, label: str) -> Span:
    """Guideline 4: mark only the name part of a prefixed word ("ex-Soviet" -> "Soviet")."""
    match = _PREFIX.match(text, start, end)
    return (match.end(), end, label) if match else (start, end, label)


def _edges(text: str, start: int, end: int, label: str) -> Span:
    """Guideline 7: no surrounding punctuation, quotes or spaces (a bracket pair inside stays)."""
    while start < end and (text[start].isspace() or text[start] in _EDGE and text[start] != "("):
        start += 1
    while end > start and (
        text[end - 1].isspace() or text[end - 1] in _EDGE and not (text[end - 1] == ")" and "(" in text[start:end])
    ):
        end -= 1
    return start, end, label


def _country(text: str, start: int, end: int, label: str) -> Span:
    """Countries are always LOC, also when they act ("Armenia said" is LOC, not ORG)."""
    name = text[start:end]
    return (start, end, "LOC") if label != "LOC" and name in countries() else (start, end, label)


# name -> rule, in the order they run
RULES: dict[str, Rule] = {
    "possessive": _possessive,  # before punctuation: the apostrophe of "Teachers'" is a possessive
    "surrounding-punctuation": _edges,
    "leading-the": _leading_the,
    "title": _title,
    "hyphen-prefix": _hyphen_prefix,
    "country-is-loc": _country,
}


def align_span(text: str, start: int, end: int, label: str, counts: Counter | None = None) -> Span | None:
    """The span after every rule; None when nothing of it is left. `counts` gets +1 per rule that changed it.

    >>> text = "He met the Ministry of Health and Armenia’s envoy."
    >>> align_span(text, 7, 29, "ORG"), align_span(text, 34, 43, "ORG")
    ((11, 29, 'ORG'), (34, 41, 'LOC'))
    """
    span = (start, end, label)
    for name, rule in RULES.items():
        changed = rule(text, *span)
        if changed != span:
            span = changed
            if counts is not None:
                counts[name] += 1
        if span[0] >= span[1]:
            return None
    return span
