"""`docs/cli.md`, generated from the command line's own `--help` (a test keeps it current)."""

from __future__ import annotations

from typing import Any

from newsner.cli import app

WIDTH = 100


def _context(command: Any, name: str, parent: Any = None) -> Any:
    return command.context_class(command, info_name=name, parent=parent, terminal_width=WIDTH, max_content_width=WIDTH)


def _walk(command: Any, ctx: Any, path: list[str]) -> list[tuple[str, str]]:
    sections = [(" ".join(path), command.get_help(ctx))]
    if hasattr(command, "list_commands"):  # a group (Typer vendors its own Click, so no isinstance check)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            sections += _walk(sub, _context(sub, name, ctx), [*path, name])
    return sections


def cli_reference() -> str:
    """The Markdown CLI reference: every command's `--help`, at a fixed width."""
    import typer

    command = typer.main.get_command(app)
    ctx = _context(command, "newsner")
    lines = [
        "# Command-line reference",
        "",
        "Generated from `newsner --help` by `python scripts/gen-cli-docs.py`; a test fails when it is stale.",
        "",
    ]
    for name, text in _walk(command, ctx, ["newsner"]):
        lines += [f"## `{name}`", "", "```text", text.rstrip(), "```", ""]
    return "\n".join(lines)
