from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from newsner.schemas import SCHEMA_NAMES, load_schema, schema_errors
from tests.conftest import ROOT


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_examples_validate(name: str):
    example = json.loads((ROOT / "schemas" / "examples" / f"{name}.json").read_text())
    assert list(schema_errors(name, example)) == []


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schemas_reject_unknown_keys(name: str):
    example = json.loads((ROOT / "schemas" / "examples" / f"{name}.json").read_text())
    example["surprise"] = 1
    assert list(schema_errors(name, example)) == [
        "[$] unknown key(s) 'surprise'; remove them (schemas reject unknown keys)"
    ]
    assert load_schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_wheel_ships_the_same_schemas(tmp_path: Path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    [wheel] = tmp_path.glob("newsner-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            Path(n).name: archive.read(n)
            for n in archive.namelist()
            if n.startswith("newsner/schemas/") and n.endswith(".schema.json")
        }
    source = {p.name: p.read_bytes() for p in (ROOT / "schemas").glob("*.schema.json")}
    assert packaged == source


def _mutations(record: dict) -> list:
    """Broken variants of a valid record: each key dropped, each value replaced by wrong types."""
    out = []
    for key in record:
        out.append({k: v for k, v in record.items() if k != key})
        for wrong in (None, 7, "x", [], {}, -1, True):
            out.append({**record, key: wrong})
    return out


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_fast_path_agrees_with_jsonschema(name: str):
    from newsner.schemas import is_valid, validator

    example = json.loads((ROOT / "schemas" / "examples" / f"{name}.json").read_text())
    nested = [
        {**example, key: broken}
        for key, value in example.items()
        if isinstance(value, dict)
        for broken in _mutations(value)
    ]
    candidates = [example, *_mutations(example), *nested]
    assert [is_valid(name, r) for r in candidates] == [validator(name).is_valid(r) for r in candidates]
    assert not all(is_valid(name, r) for r in candidates)
