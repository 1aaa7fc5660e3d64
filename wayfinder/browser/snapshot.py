"""Seeing a page: the compact text description the model reads, and the element table behind it.

`take_snapshot` runs `snapshot.js` in every frame of the page (cross-origin iframes included,
through Playwright's per-frame evaluation), stitches the results together in document order
and renders the description documented in docs/page-format.md. The description is the
largest cost of every agent step, so it is budgeted: content in and near the viewport is
listed in full, far-off elements are summarised, and the whole text is kept under
`token_budget`.

Each listed element carries a `data-wf-id` attribute in the DOM; `ElementRef` records the id
and frame so `wayfinder.browser.actions` can find the element back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Page
from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

# ---- tunables (documented in docs/page-format.md) ----
NEAR_BELOW = 1.0
"""Elements up to this many viewport heights below the viewport are listed in full."""
NEAR_ABOVE = 0.5
"""...and up to this many viewport heights above it."""
MAX_ELEMENT_TEXT = 80
MAX_TEXTAREA_TEXT = 2000
"""A textarea shows this much of its value: its start and its end, `…` between."""
MAX_ATTR_VALUE = 80
MAX_HREF = 100
TEXT_LINE_WIDTH = 100
TEXT_MAX_LINES = 3
ROW_MAX_LINES = 10
"""A table row may wrap over this many lines (its cells are never dropped for repetition)."""
DEDUP_MIN_CHARS = 40
"""A text line already shown is not repeated only when at least this long (boilerplate)."""
MAX_SELECT_OPTIONS = 20
"""A select lists this many options, unless it is focused or is the snapshot's focus_id."""
MAX_OPTION_TEXT = 60
SUMMARY_NAMES = 5
SUMMARY_NAME_LEN = 30
FRAME_TIMEOUT_S = 3.0
"""A child frame that does not answer in time (busy or still loading) is left out."""

_NATIVE_KIND_TAGS = frozenset({"button", "select", "textarea"})
_UNQUOTED_ATTRS = frozenset({"type", "name", "role"})
_WORDY = re.compile(r"[^\W_]")
_SIMPLE_VALUE = re.compile(r"[\w.:/\[\]-]+")


class ElementRef(BaseModel):
    """One interactable element of a snapshot: enough to find it again and to name it in logs."""

    id: str = Field(description='Short id shown to the model, e.g. "12".')
    frame_index: int = Field(
        description="Index into page.frames at snapshot time (0 = main frame). Resolution also "
        "falls back to searching every frame for the id, since frames can come and go."
    )
    tag: str
    role: str | None = None
    name: str = ""
    attributes: dict[str, str] = Field(default_factory=dict)

    def describe(self) -> str:
        """Human one-liner for logs and error messages, e.g. "button 'Submit'"."""
        kind = self.tag
        if self.tag == "a":
            kind = "link"
        elif self.tag == "input":
            itype = self.attributes.get("type", "text")
            kind = itype if itype in ("checkbox", "radio", "file") else "input"
        elif self.role and self.role != "clickable" and self.tag not in _NATIVE_KIND_TAGS:
            kind = self.role
        name = _trim(self.name, 60)
        return f"{kind} '{name}'" if name else f"{kind} [{self.id}]"


class TabInfo(BaseModel):
    """One open tab of the browser context (index into page.context.pages)."""

    index: int
    url: str
    title: str
    current: bool


class PageSnapshot(BaseModel):
    """What the model sees of a page at one step, plus the element table to act on it."""

    url: str
    title: str
    tabs: list[TabInfo]
    text: str = Field(description="The compact page description (docs/page-format.md).")
    elements: dict[str, ElementRef] = Field(
        description="Every element that got an id, including summarised far-off ones."
    )
    token_estimate: int = Field(description="estimate_tokens(text): characters / 4.")


def estimate_tokens(text: str) -> int:
    """Rough token count of `text`: characters / 4, rounded up.

    Good enough for budgeting English-heavy page text with Claude's tokenizer (it over-counts
    slightly for plain words and under-counts for dense punctuation/URLs); it is cheap and
    deterministic, which matters more here than precision.
    """
    return math.ceil(len(text) / 4)


@cache
def _script() -> str:
    """snapshot.js, wrapped to return JSON text: Playwright's structured serialisation of a
    result with thousands of nodes costs ~0.4 s on a 2000-link page, JSON.stringify ~5 ms."""
    body = (Path(__file__).with_name("snapshot.js")).read_text(encoding="utf-8")
    return f"(args) => JSON.stringify(({body.strip()})(args))"


# ---------------------------------------------------------------------------------------------
# Collecting: run the script frame by frame.


@dataclass
class _FrameResult:
    frame: Frame
    data: dict[str, Any]
    children: dict[str, _FrameResult]


class _IdState:
    """Carries the id counter and the ids used so far from frame to frame."""

    def __init__(self) -> None:
        self.next_id = 1
        self.taken: set[str] = set()

    def update(self, data: dict[str, Any]) -> None:
        self.next_id = max(self.next_id, int(data.get("nextId", 1)))
        for node in data["nodes"]:
            if node["k"] == "e":
                self.taken.add(node["id"])


async def _evaluate(frame: Frame, state: _IdState) -> dict[str, Any]:
    raw = await frame.evaluate(_script(), {"start": state.next_id, "taken": sorted(state.taken)})
    data: dict[str, Any] = json.loads(raw)
    state.update(data)
    return data


async def _evaluate_main(page: Page, state: _IdState) -> dict[str, Any]:
    """Evaluate in the main frame, riding out a navigation that destroys the context."""
    for attempt in range(3):
        try:
            return await _evaluate(page.main_frame, state)
        except PlaywrightError as exc:
            if attempt == 2 or "closed" in str(exc).lower():
                raise
            log.debug("snapshot: main frame evaluation failed (%s), retrying", exc)
            try:
                await page.wait_for_load_state("domcontentloaded", timeout=5_000)
            except PlaywrightError:
                await asyncio.sleep(0.2)
    raise AssertionError("unreachable")


async def _frame_token(frame: Frame) -> str | None:
    handle = await frame.frame_element()
    try:
        return await handle.get_attribute("data-wf-frame")
    finally:
        await handle.dispose()


async def _collect_children(parent: _FrameResult, state: _IdState) -> None:
    """Evaluate the child frames whose <iframe> the parent listed (visible ones), depth first."""
    tokens = {n["tok"] for n in parent.data["nodes"] if n["k"] == "f"}
    if not tokens:
        return
    for child in parent.frame.child_frames:
        if child.is_detached():
            continue
        try:
            token = await asyncio.wait_for(_frame_token(child), FRAME_TIMEOUT_S)
            if token is None or token not in tokens or token in parent.children:
                continue
            data = await asyncio.wait_for(_evaluate(child, state), FRAME_TIMEOUT_S)
        except (PlaywrightError, TimeoutError) as exc:
            log.debug("snapshot: skipping frame %s: %s", child.url, exc)
            continue
        result = _FrameResult(child, data, {})
        parent.children[token] = result
        await _collect_children(result, state)


# ---------------------------------------------------------------------------------------------
# Rendering.


@dataclass
class _Item:
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


def _trim(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rstrip()
    return cut + "…"


def _angles(text: str) -> str:
    """Page text never contains `<` or `>`: only the description's own element markup does, so
    a page can neither forge an element line nor a prompt section (`</page>`)."""
    return text.replace("<", "\u2039").replace(">", "\u203a")


def _quote(value: str, limit: int) -> str:
    value = _angles(_trim(value, limit).replace('"', "'"))
    return f'"{value}"'


def _trim_middle(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    half = (limit - 3) // 2
    return text[:half].rstrip() + " … " + text[-half:].lstrip()


def _options(node: dict[str, Any], show_all: bool) -> str:
    """A select's options, JSON-quoted (an option's own `,` or `|` cannot look like a
    separator), trimmed only where that keeps them distinct."""
    opts: list[str] = [_angles(o) for o in node.get("opts", [])]
    trimmed = [_trim_middle(o, MAX_OPTION_TEXT) for o in opts]
    if len(set(trimmed)) < len(set(opts)):
        trimmed = opts
    shown = trimmed if show_all else trimmed[:MAX_SELECT_OPTIONS]
    more = int(node.get("nopts", 0)) - len(shown)
    text = ", ".join(json.dumps(o, ensure_ascii=False) for o in shown)
    return text + (f", … {more} more" if more > 0 else "")


def _format_attr(key: str, value: str | None) -> str:
    if value is None:
        return key
    if key in _UNQUOTED_ATTRS and _SIMPLE_VALUE.fullmatch(value):
        return f"{key}={value}"
    if key == "expanded" and value == "false":
        return "expanded=false"
    if key == "checked" and value == "mixed":
        return "checked=mixed"
    return f"{key}={_quote(value, MAX_HREF if key == 'href' else MAX_ATTR_VALUE)}"


def _format_element(node: dict[str, Any], focus_id: str | None) -> str:
    tag = node["tag"]
    attrs = " ".join(_format_attr(k, v) for k, v in node["a"])
    opening = f"<{tag} {attrs}>" if attrs else f"<{tag}>"
    if tag == "select":
        text = _options(node, bool(node.get("focus")) or node["id"] == focus_id)
    elif tag == "textarea":
        text = _angles(_trim_middle(node.get("x", ""), MAX_TEXTAREA_TEXT))
    else:
        text = _angles(_trim(node.get("x", ""), MAX_ELEMENT_TEXT))
    # No closing tag: page text never contains `<`/`>` (see _angles), so the line's end is the
    # element's end, and `</button>` would only cost tokens.
    return f"[{node['id']}]{opening}{text}"


def _wrap(text: str, max_lines: int = TEXT_MAX_LINES) -> list[str]:
    text = _angles(_trim(text, TEXT_LINE_WIDTH * max_lines))
    return textwrap.wrap(text, TEXT_LINE_WIDTH, break_long_words=True, break_on_hyphens=False)


class _Builder:
    """Flattens the per-frame results into ordered items with page coordinates."""

    def __init__(
        self, page: Page, viewport_top: float, viewport_height: float, focus_id: str | None
    ) -> None:
        self.page = page
        self.focus_id = focus_id
        self.items: list[_Item] = []
        self.elements: dict[str, ElementRef] = {}
        self.seen_text: set[str] = set()
        self.vtop = viewport_top
        self.vh = viewport_height
        self.frame_index = {id(f): i for i, f in enumerate(page.frames)}

    def add(self, item: _Item) -> int:
        vbottom = self.vtop + self.vh
        if item.bottom < self.vtop:
            item.side, item.distance = "above", self.vtop - item.bottom
        elif item.top > vbottom:
            item.side, item.distance = "below", item.top - vbottom
        self.items.append(item)
        return len(self.items) - 1

    def frame(self, result: _FrameResult, base: float, indent: int, parent: int | None) -> None:
        """Add one frame's nodes; `base` is the page y of this frame's viewport top."""
        findex = self.frame_index.get(id(result.frame), 0)
        stack: list[tuple[int, int]] = []  # (depth, header item index)
        for node in result.data["nodes"]:
            depth = int(node["d"])
            while stack and stack[-1][0] >= depth:
                stack.pop()
            owner = stack[-1][1] if stack else parent
            top, bottom = base + float(node["t"]), base + float(node["b"])
            kind = node["k"]
            if kind == "t":
                if not _WORDY.search(node["x"]):
                    continue  # separators and decoration: "|", "•", "(", ...
                row = bool(node.get("row"))
                key = node["x"].casefold()
                if not row and len(key) >= DEDUP_MIN_CHARS:
                    # Only long repeated text (boilerplate) is compressed: a short one ("In
                    # stock", "$12.00") repeated in a list is content.
                    if key in self.seen_text:
                        continue
                    self.seen_text.add(key)
                for line in _wrap(node["x"], ROW_MAX_LINES if row else TEXT_MAX_LINES):
                    self.add(_Item("text", indent + depth, line, top, bottom, owner))
            elif kind == "e":
                ref = ElementRef(
                    id=node["id"],
                    frame_index=findex,
                    tag=node["tag"],
                    role=node["role"] or None,
                    name=_trim(node["name"], MAX_ELEMENT_TEXT),
                    attributes={k: ("true" if v is None else v) for k, v in node["a"]},
                )
                self.elements[ref.id] = ref
                line = _format_element(node, self.focus_id)
                self.add(
                    _Item("element", indent + depth, line, top, bottom, owner, ref.id, ref.name)
                )
            elif kind == "s":
                idx = self.add(_Item("header", indent + depth, "shadow:", top, bottom, owner))
                stack.append((depth, idx))
            elif kind == "f":
                child = result.children.get(node["tok"])
                if child is None:
                    continue
                label = _angles(node["label"].replace('"', "'"))
                idx = self.add(
                    _Item("header", indent + depth, f'iframe "{label}":', top, bottom, owner)
                )
                self.frame(child, top, indent + depth + 1, idx)


def _summary(items: list[_Item], side: str) -> str:
    names: list[str] = []
    # Nearest to the viewport first, on both sides.
    for item in items if side == "below" else reversed(items):
        name = _angles(_trim(item.name, SUMMARY_NAME_LEN).replace('"', "'"))
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


def _render(head: list[str], items: list[_Item], kept: set[int], summarised: set[int]) -> str:
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


def _fit(head: list[str], items: list[_Item], vh: float, budget: int) -> str:
    """Choose what to list so the text stays within `budget` tokens.

    Level 1: every text line, elements near the viewport in full, far elements summarised.
    Then, while over budget: drop far text (farthest first), drop text outside the viewport,
    summarise elements outside the viewport (farthest first), and finally drop text and then
    elements inside the viewport from the bottom up. Lines are removed whole, never cut.
    """

    def near(item: _Item) -> bool:
        limit = NEAR_ABOVE if item.side == "above" else NEAR_BELOW
        return item.distance <= limit * vh

    kept = {
        i for i, it in enumerate(items) if it.kind == "text" or (it.kind == "element" and near(it))
    }
    summarised = {i for i, it in enumerate(items) if it.kind == "element" and i not in kept}
    budget_chars = budget * 4
    summary_allowance = 2 * (60 + SUMMARY_NAMES * (SUMMARY_NAME_LEN + 6))
    base = sum(len(h) + 1 for h in head) + summary_allowance
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
    text = _render(head, items, kept, summarised)
    # The running size is an upper bound (summary allowance, headers); if the real text is
    # still over (pathological), drop whole lines from the bottom of the body.
    while estimate_tokens(text) > budget and kept:
        last = max(kept)
        kept.discard(last)
        if items[last].kind == "element":
            summarised.add(last)
        text = _render(head, items, kept, summarised)
    return text


async def _tabs(page: Page) -> list[TabInfo]:
    tabs: list[TabInfo] = []
    for index, other in enumerate(page.context.pages):
        title = ""
        try:
            title = await asyncio.wait_for(other.title(), 2.0)
        except (PlaywrightError, TimeoutError):
            pass
        tabs.append(TabInfo(index=index, url=other.url, title=title, current=other is page))
    return tabs


async def take_snapshot(
    page: Page, *, token_budget: int = 6000, focus_id: str | None = None
) -> PageSnapshot:
    """Describe `page` for the model and record how to find each listed element again.

    `focus_id` names the element being worked on (the last action's target): a select with that
    id lists all its options, as does the focused one.
    """
    state = _IdState()
    main_data = await _evaluate_main(page, state)
    root = _FrameResult(page.main_frame, main_data, {})
    await _collect_children(root, state)
    if state.next_id > int(main_data["nextId"]):
        # Child frames used higher ids: remember that in the main window so the next snapshot
        # starts above them and an element keeps its id.
        try:
            await page.main_frame.evaluate(
                "n => { window.__wfNextId = Math.max(window.__wfNextId || 1, n); }",
                state.next_id,
            )
        except PlaywrightError:
            pass

    scroll_y = float(main_data["scrollY"])
    vh = float(main_data["viewportHeight"]) or 1.0
    builder = _Builder(page, scroll_y, vh, focus_id)
    builder.frame(root, scroll_y, 0, None)

    tabs = await _tabs(page)
    title = main_data.get("title") or ""
    head = [f"URL: {_trim(page.url, 300)}"]
    if title.strip():
        head.append(f"Title: {_angles(_trim(title, 150))}")
    if len(tabs) > 1:
        head.append(
            "Tabs: "
            + " | ".join(
                f"[{t.index}] {_angles(_trim(t.title or t.url, 40))}"
                + (" (current)" if t.current else "")
                for t in tabs
            )
        )
    scroll_height = float(main_data["scrollHeight"])
    if scroll_y > 0 or scroll_height > vh + 1:
        # Only a page that scrolls says where the viewport is.
        head.append(
            f"Scroll: {round(scroll_y)} of {round(scroll_height)}px, viewport {round(vh)}px"
        )
    text = _fit(head, builder.items, vh, token_budget)
    return PageSnapshot(
        url=page.url,
        title=title,
        tabs=tabs,
        text=text,
        elements=builder.elements,
        token_estimate=estimate_tokens(text),
    )
