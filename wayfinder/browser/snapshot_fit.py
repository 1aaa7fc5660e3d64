"""Fitting a page description into its token budget.

The items (text lines, element lines, frame and shadow headers) come in document order with
their page coordinates; `fit` chooses which to list in full, which elements to only count in the
`... N more elements above/below the viewport` lines, and renders the text
(docs/page-format.md, "The budget").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from wayfinder.browser.page_text import angles, says, trim, with_title

NEAR_BELOW = 1.0
"""Elements up to this many viewport heights below the viewport are listed in full."""
NEAR_ABOVE = 0.5
"""...and up to this many viewport heights above it."""
SUMMARY_NAMES = 5
SUMMARY_NAME_LEN = 30


def estimate_tokens(text: str) -> int:
    """Rough token count of `text`: characters / 4, rounded up.

    Good enough for budgeting English-heavy page text with Claude's tokenizer (it over-counts
    slightly for plain words and under-counts for dense punctuation/URLs); it is cheap and
    deterministic, which matters more here than precision.
    """
    return math.ceil(len(text) / 4)


@dataclass
class Item:
    kind: Literal["text", "element", "header"]
    indent: int
    line: str
    top: float
    bottom: float
    parent: int | None
    element_id: str | None = None
    name: str = ""
    distance: float = 0.0  # px outside the viewport (0 = overlaps it)
    side: Literal["above", "in", "below"] = "in"


def _summary(items: list[Item], side: str) -> str:
    names: list[str] = []
    # Nearest to the viewport first, on both sides.
    for item in items if side == "below" else reversed(items):
        name = angles(trim(item.name, SUMMARY_NAME_LEN).replace('"', "'"))
        if name and name not in names:
            names.append(name)
        if len(names) == SUMMARY_NAMES:
            break
    count = len(items)
    head = f"... {count} more element{'s' if count != 1 else ''} {side} the viewport"
    if not names:
        return head
    distinct = {i.name for i in items if i.name}
    tail = ", ..." if len(distinct) > len(names) else ""
    return head + ": " + ", ".join(f'"{n}"' for n in names) + tail


def _render(
    head: list[str], title: str | None, items: list[Item], kept: set[int], summarised: set[int]
) -> str:
    # A header stays only if something under it stays.
    shown = set()
    for i in kept:
        parent = items[i].parent
        while parent is not None and parent not in shown:
            shown.add(parent)
            parent = items[parent].parent
    above = [items[i] for i in sorted(summarised) if items[i].side == "above"]
    below = [items[i] for i in sorted(summarised) if items[i].side != "above"]
    lines = list(head)
    if title and not any(
        says(items[i].line if items[i].kind == "text" else angles(items[i].name), title)
        for i in kept
    ):
        # The title is written only when the page does not already say it, in a line of text
        # or an element's name (most pages' <h1>, a logo link): a model asked for it reads that
        # line. It goes on the URL line: `URL: u "t"` costs 5 characters less than a
        # `Title: t` line.
        lines[0] = with_title(lines[0], title)
    if above:
        lines.append(_summary(above, "above"))
    body = [
        "  " * item.indent + item.line
        for i, item in enumerate(items)
        if i in kept or (item.kind == "header" and i in shown)
    ]
    lines.extend(body)
    if not body and not above and not below:
        lines.append("(no visible content)")
    if below:
        lines.append(_summary(below, "below"))
    return "\n".join(lines)


def fit(head: list[str], title: str | None, items: list[Item], vh: float, budget: int) -> str:
    """Choose what to list so the text stays within `budget` tokens.

    `head` is the header (its first line the URL); `title` is quoted on the URL line unless a
    listed text line already says it.

    Level 1: every text line, elements near the viewport in full, far elements summarised.
    Then, while over budget: drop far text (farthest first), drop text outside the viewport,
    summarise elements outside the viewport (farthest first), and finally drop text and then
    elements inside the viewport from the bottom up. Lines are removed whole, never cut.
    """

    def near(item: Item) -> bool:
        limit = NEAR_ABOVE if item.side == "above" else NEAR_BELOW
        return item.distance <= limit * vh

    kept = {
        i for i, it in enumerate(items) if it.kind == "text" or (it.kind == "element" and near(it))
    }
    summarised = {i for i, it in enumerate(items) if it.kind == "element" and i not in kept}
    budget_chars = budget * 4
    summary_allowance = 2 * (60 + SUMMARY_NAMES * (SUMMARY_NAME_LEN + 6))
    base = sum(len(h) + 1 for h in head) + summary_allowance + len(f' "{title}"')
    size = base + sum(len(items[i].line) + 2 * items[i].indent + 1 for i in kept)

    def cost(i: int) -> int:
        return len(items[i].line) + 2 * items[i].indent + 1

    stages: list[list[int]] = [
        # far text, farthest first
        sorted(
            (i for i in kept if items[i].kind == "text" and not near(items[i])),
            key=lambda i: (-items[i].distance, -i),
        ),
        # remaining text outside the viewport
        sorted(
            (i for i in kept if items[i].kind == "text" and items[i].side != "in"),
            key=lambda i: (-items[i].distance, -i),
        ),
        # elements outside the viewport
        sorted(
            (i for i in kept if items[i].kind == "element" and items[i].side != "in"),
            key=lambda i: (-items[i].distance, -i),
        ),
        # text in the viewport, bottom up
        sorted((i for i in kept if items[i].kind == "text"), key=lambda i: -i),
        # elements in the viewport, bottom up
        sorted((i for i in kept if items[i].kind == "element"), key=lambda i: -i),
    ]
    for stage in stages:
        for i in stage:
            if size <= budget_chars:
                break
            if i not in kept:
                continue
            kept.discard(i)
            size -= cost(i)
            if items[i].kind == "element":
                summarised.add(i)
        if size <= budget_chars:
            break
    text = _render(head, title, items, kept, summarised)
    # The running size is an upper bound (summary allowance, headers); if the real text is
    # still over (pathological), drop whole lines from the bottom of the body.
    while estimate_tokens(text) > budget and kept:
        last = max(kept)
        kept.discard(last)
        if items[last].kind == "element":
            summarised.add(last)
        text = _render(head, title, items, kept, summarised)
    return text
