"""The architecture holds: every import of a newsner module runs to its own layer or below, and no
module imports another function-locally (where a loop could hide). Layers as in docs/architecture.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "src" / "newsner"


def layers() -> dict[str, int]:
    """module (path under src/newsner, folders as `studio/`) -> layer number, read from architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text[text.index("## Layers") : text.index("## Modules")]
    found = {}
    for number, modules in re.findall(r"^\| (\d) \w[\w -]* \| (.+?) \|", table, re.MULTILINE):
        for name in re.findall(r"`([\w/]+(?:\.py|/))`", modules):
            found[name] = int(number)
    return found


def module_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE).as_posix()
    return relative.split("/")[0] + "/" if "/" in relative else relative


def target_of(name: str) -> str | None:
    """`newsner.studio.push` -> `studio/`; `newsner.rows` -> `rows.py`; `newsner` (the version) -> None."""
    parts = name.split(".")
    if parts[0] != "newsner" or len(parts) == 1:
        return None
    if (PACKAGE / parts[1]).is_dir():
        return parts[1] + "/"
    return parts[1] + ".py"


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported newsner module, at module level?) for every import in the file."""
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(name, id(node) in top) for name in names if name.startswith("newsner")]
    return found


def test_every_module_has_a_layer():
    known = layers()
    modules = {module_of(p) for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.name != "__init__.py"}
    assert modules - set(known) == set(), "add them to the Layers table of docs/architecture.md"


def test_imports_run_downward_and_never_hide_inside_a_function():
    known = layers()
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue
        here = module_of(path)
        for name, at_top in imports(path):
            target = target_of(name)
            if target is None or target == here:
                continue
            if not at_top:
                wrong.append(f"{path.relative_to(PACKAGE)}: imports {name} inside a function")
            elif known[target] > known[here]:
                wrong.append(
                    f"{path.relative_to(PACKAGE)} (layer {known[here]}) imports {name} (layer {known[target]})"
                )
    assert wrong == []


def test_the_check_can_fail(tmp_path: Path):
    """The reader above finds an upward import and a function-level one."""
    sample = tmp_path / "sample.py"
    sample.write_text("from newsner.cli import app\n\ndef f():\n    from newsner.rows import dataset_rows\n")
    assert imports(sample) == [("newsner.cli", True), ("newsner.rows", False)]
    assert layers()["cli.py"] > layers()["rows.py"] > layers()["ids.py"]


def test_no_import_loop_between_files():
    def file_of(name: str) -> str | None:
        parts = name.split(".")[1:]
        for candidate in (PACKAGE.joinpath(*parts).with_suffix(".py"), PACKAGE.joinpath(*parts, "__init__.py")):
            if parts and candidate.is_file():
                return candidate.relative_to(PACKAGE).as_posix()
        return None

    graph = {
        path.relative_to(PACKAGE).as_posix(): {f for name, _ in imports(path) if (f := file_of(name))}
        for path in PACKAGE.rglob("*.py")
    }
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        assert node not in trail, "import loop: " + " -> ".join([*trail[trail.index(node) :], node])
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            if not (node.endswith("__init__.py") and target.startswith(node.rsplit("/", 1)[0])):  # a face's re-exports
                visit(target, [*trail, node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
