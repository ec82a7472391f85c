"""The Label Studio labeling config, generated from the label set (never edited by hand)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from newsner.config import Settings

FROM_NAME = "label"
TO_NAME = "text"
CATEGORY_NAME = "category"

# distinct, readable colours for up to 12 entity labels (cycled beyond)
PALETTE = [
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#469990",
    "#9a6324",
    "#800000",
    "#000075",
]


def label_config(settings: Settings) -> str:
    """The `<View>` XML for NER on one sentence (plus sentence categories when configured).

    >>> print(label_config(settings))  # doctest: +SKIP
    """
    lines = [
        "<View>",
        "  <Style>.lsf-richtext__line { white-space: pre-wrap; }</Style>",
        f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}" showInline="true">',
    ]
    for i, entity in enumerate(settings.entities):
        lines.append(f"    <Label value={quoteattr(entity)} background={quoteattr(PALETTE[i % len(PALETTE)])}/>")
    lines += ["  </Labels>", f'  <Text name="{TO_NAME}" value="$text" granularity="symbol"/>']
    if settings.categories:
        lines.append(f'  <Choices name="{CATEGORY_NAME}" toName="{TO_NAME}" choice="single" showInline="true">')
        lines += [f"    <Choice value={quoteattr(c)}/>" for c in settings.categories]
        lines.append("  </Choices>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"
