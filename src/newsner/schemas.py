"""The JSON Schemas of every record type, loaded once, and schema checks with readable messages."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from newsner.errors import NewsnerError

SCHEMA_NAMES = (
    "article",
    "sentence",
    "task",
    "annotation",
    "dataset-row",
    "config",
    "assignment",
    "annotators",
    "raw-article",
    "adjudication",
)


def schema_dir() -> Path:
    """Where the schemas are: inside the installed wheel, or `schemas/` of a source checkout."""
    packaged = resources.files("newsner") / "schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "schemas"
    if checkout.is_dir():
        return checkout
    raise NewsnerError("the JSON Schemas are missing from this installation; reinstall newsner")


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the parsed schema `name` (one of `SCHEMA_NAMES`)."""
    if name not in SCHEMA_NAMES:
        raise NewsnerError(f"unknown schema {name!r}; choose one of {', '.join(SCHEMA_NAMES)}")
    return json.loads((schema_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """A compiled validator for schema `name`."""
    return Draft202012Validator(load_schema(name))


# keywords whose meaning fastjsonschema (drafts 4-7) does not know: such schemas take the slow path
DRAFT_2020_ONLY = (
    "prefixItems",
    "$defs",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
    "unevaluatedItems",
    "$dynamicRef",
    "minContains",
    "maxContains",
)


@functools.cache
def fast_check(name: str) -> Any | None:
    """A compiled fastjsonschema validator for `name`, or None when the schema needs 2020-12 keywords.

    Used only to accept valid records quickly; every error message still comes from jsonschema.
    """
    import fastjsonschema

    text = json.dumps(load_schema(name))
    if any(f'"{keyword}"' in text for keyword in DRAFT_2020_ONLY):
        return None
    return fastjsonschema.compile(load_schema(name))


def is_valid(name: str, record: Any) -> bool:
    """True when `record` matches schema `name` (fast path when the schema allows it)."""
    import fastjsonschema

    check = fast_check(name)
    if check is None:
        return validator(name).is_valid(record)
    try:
        check(record)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


def json_path(error_path: Any) -> str:
    """Format a jsonschema error path as `$.a[0].b`."""
    out = "$"
    for part in error_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def schema_errors(name: str, record: Any) -> Iterator[str]:
    """Yield `[json path] message` for every way `record` breaks schema `name`, in a stable order."""
    if is_valid(name, record):
        return
    errors = sorted(validator(name).iter_errors(record), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    for error in errors:
        yield f"[{json_path(error.absolute_path)}] {_message(error)}"


def _message(error: Any) -> str:
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown key(s) {', '.join(map(repr, extra))}; remove them (schemas reject unknown keys)"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required but missing")
    if error.validator == "not" and error.schema.get("not", {}).get("pattern") == "@":
        return "looks like an e-mail address; use a pseudonym"
    return error.message
