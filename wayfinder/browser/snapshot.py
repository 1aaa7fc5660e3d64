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
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Page
from pydantic import BaseModel, Field

from wayfinder.browser.page_text import (
    MAX_ELEMENT_TEXT,
    ROW_MAX_LINES,
    TEXT_MAX_LINES,
    angles,
    element_line,
    header_url,
    title_shown,
    trim,
    wrap,
)
from wayfinder.browser.snapshot_fit import Item, estimate_tokens, fit

__all__ = ["ElementRef", "PageSnapshot", "TabInfo", "estimate_tokens", "take_snapshot"]

log = logging.getLogger(__name__)

DEDUP_MIN_CHARS = 40
"""A text line already shown is not repeated only when at least this long (boilerplate)."""
FRAME_TIMEOUT_S = 3.0
"""A child frame that does not answer in time (busy or still loading) is left out."""

_NATIVE_KIND_TAGS = frozenset({"button", "select", "textarea"})
_WORDY = re.compile(r"[^\W_]")


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
        name = trim(self.name, 60)
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


class _Builder:
    """Flattens the per-frame results into ordered items with page coordinates."""

    def __init__(
        self, page: Page, viewport_top: float, viewport_height: float, focus_id: str | None
    ) -> None:
        self.page = page
        self.focus_id = focus_id
        self.items: list[Item] = []
        self.elements: dict[str, ElementRef] = {}
        self.seen_text: set[str] = set()
        self.vtop = viewport_top
        self.vh = viewport_height
        self.frame_index = {id(f): i for i, f in enumerate(page.frames)}

    def add(self, item: Item) -> int:
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
                for line in wrap(node["x"], ROW_MAX_LINES if row else TEXT_MAX_LINES):
                    self.add(Item("text", indent + depth, line, top, bottom, owner))
            elif kind == "e":
                ref = ElementRef(
                    id=node["id"],
                    frame_index=findex,
                    tag=node["tag"],
                    role=node["role"] or None,
                    name=trim(node["name"], MAX_ELEMENT_TEXT),
                    attributes={k: ("true" if v is None else v) for k, v in node["a"]},
                )
                self.elements[ref.id] = ref
                line = element_line(node, self.focus_id)
                self.add(
                    Item("element", indent + depth, line, top, bottom, owner, ref.id, ref.name)
                )
            elif kind == "s":
                idx = self.add(Item("header", indent + depth, "shadow:", top, bottom, owner))
                stack.append((depth, idx))
            elif kind == "f":
                child = result.children.get(node["tok"])
                if child is None:
                    continue
                label = angles(node["label"].replace('"', "'"))
                idx = self.add(
                    Item("header", indent + depth, f'iframe "{label}":', top, bottom, owner)
                )
                self.frame(child, top, indent + depth + 1, idx)


async def _tabs(page: Page, title: str) -> list[TabInfo]:
    """The context's tabs; `title` is the current one's (read with the page), the others' are
    asked together."""

    async def title_of(other: Page) -> str:
        if other is page:
            return title
        try:
            return await asyncio.wait_for(other.title(), 2.0)
        except (PlaywrightError, TimeoutError):
            return ""

    pages = page.context.pages
    titles = await asyncio.gather(*(title_of(other) for other in pages))
    return [
        TabInfo(index=index, url=other.url, title=titles[index], current=other is page)
        for index, other in enumerate(pages)
    ]


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

    title = main_data.get("title") or ""
    tabs = await _tabs(page, title)
    head = [header_url(page.url)]
    if len(tabs) > 1:
        head.append(
            "Tabs: "
            + " | ".join(
                f"[{t.index}] {angles(trim(t.title or t.url, 40))}"
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
    text = fit(head, title_shown(title), builder.items, vh, token_budget)
    return PageSnapshot(
        url=page.url,
        title=title,
        tabs=tabs,
        text=text,
        elements=builder.elements,
        token_estimate=estimate_tokens(text),
    )
