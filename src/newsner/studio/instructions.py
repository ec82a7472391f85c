"""The instructions Label Studio shows: the guidelines as HTML, with a stylesheet that survives its sanitiser."""

from __future__ import annotations

from pathlib import Path

# Label Studio's stylesheet strips list numbers and bullets, draws tables without borders and gives
# headings the body's line height (a two-line <h1> overlaps). Its instructions sanitiser drops `style`
# attributes but keeps <style> elements and classes, so the guidelines come with a stylesheet scoped
# to their own wrapper (measured in the labeling view of Label Studio 1.23.2).
INSTRUCTION_CLASS = "newsner-guidelines"
INSTRUCTION_CSS = " ".join(
    f".{INSTRUCTION_CLASS} {rule}"
    for rule in (
        "h1, .{0} h2, .{0} h3 {{ line-height: 1.25; margin: 0.9em 0 0.4em; font-weight: 600; }}",
        "h1 {{ font-size: 1.6em; }}",
        "h2 {{ font-size: 1.3em; }}",
        "p {{ margin: 0.5em 0; }}",
        "ol {{ list-style: decimal outside; padding-left: 1.8em; margin: 0.5em 0; }}",
        "ul {{ list-style: disc outside; padding-left: 1.8em; margin: 0.5em 0; }}",
        "li {{ display: list-item; margin: 0.25em 0; }}",
        "table {{ border-collapse: collapse; margin: 0.6em 0; }}",
        "th, .{0} td {{ border: 1px solid #8a8a8a; padding: 4px 8px; text-align: left; vertical-align: top; }}",
    )
).format(INSTRUCTION_CLASS)


def guidelines_html(path: Path, *, style: bool = True) -> str:
    """The annotators' guidelines (Markdown, tables included) as HTML for the project instructions.

    Raw HTML in the Markdown is escaped, not passed through. The HTML carries a stylesheet scoped to
    its wrapper so that numbered rules, bullets, table borders and headings read as written.
    """
    from markdown_it import MarkdownIt  # imported when used: the offline steps never need it

    if not path.is_file():
        return ""
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(path.read_text(encoding="utf-8"))
    return (
        f"<style>{INSTRUCTION_CSS}</style>\n" if style else ""
    ) + f'<div class="{INSTRUCTION_CLASS}">\n{body}</div>\n'
