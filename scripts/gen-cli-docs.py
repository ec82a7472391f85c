"""Regenerate docs/cli.md from the command line's --help."""

from pathlib import Path

from newsner.clidocs import cli_reference

Path(__file__).resolve().parents[1].joinpath("docs", "cli.md").write_text(cli_reference(), encoding="utf-8")
