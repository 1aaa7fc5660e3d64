"""The actions on one element of the page: click, type, select an option, upload a file.

Each takes the element's locator and what `ELEMENT_INFO_JS` read of it as the element was found
(`find_element`, in the same round trip), and raises `ActionError` with a message for the model
when the element is not of a kind the action works on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from wayfinder.actions import InputTextAction
from wayfinder.browser.action_errors import ActionError
from wayfinder.browser.snapshot import ElementRef

_CHECKABLE_CLICK_MS = 2_000
"""Real-click budget for checkboxes/radios before falling back to a DOM click event."""
_NEW_TAB_WAIT_MS = 5_000
"""How long a click on a `target=_blank` link waits for its tab to appear."""
TEXT_TYPES = frozenset(
    {
        "text", "email", "password", "search", "tel", "url", "number", "date",
        "datetime-local", "month", "time", "week",
    }
)  # fmt: skip
"""The input types `fill` types into."""

ELEMENT_INFO_JS = """
(el, forClick) => {
  const clean = s => (s || '').replace(/\\s+/g, ' ').trim();
  const ctl = el.localName === 'label' ? el.control : null;
  return {
    tag: el.localName,
    type: (el.localName === 'input' ? (el.type || 'text') : '').toLowerCase(),
    role: (el.getAttribute('role') || '').trim().split(/\\s+/)[0].toLowerCase(),
    editable: !!el.isContentEditable,
    readOnly: !!el.readOnly,
    disabled: !!(el.matches(':disabled') || el.getAttribute('aria-disabled') === 'true'),
    options: el.localName === 'select'
      ? Array.from(el.options).map(o => ({label: clean(o.label || o.text), value: o.value,
                                           disabled: o.disabled}))
      : null,
    control: ctl ? {tag: ctl.localName, type: (ctl.type || '').toLowerCase()} : null,
    controls: el.getAttribute('aria-controls') || el.getAttribute('aria-owns') || '',
    reachable: !!forClick && (() => {
      // Asked for a click only (it costs a layout and a look at every animation). A click at
      // the centre of the element would reach it now, and nothing on the page is
      // animating: Playwright's own checks before a click, which wait for the element to keep
      // its place over two animation frames, can be skipped (see `click`). Only in a
      // top-level document, for an element wholly in the viewport (no scrolling first).
      if (window.top !== window || el.matches(':disabled')) return false;
      if (document.getAnimations().some(a => a.playState === 'running')) return false;
      const box = el.getClientRects()[0];
      if (!box || box.width < 1 || box.height < 1 || box.left < 0 || box.top < 0 ||
          box.right > innerWidth || box.bottom > innerHeight) return false;
      const x = box.left + box.width / 2, y = box.top + box.height / 2;
      let hit = document.elementFromPoint(x, y);
      while (hit && hit.shadowRoot) {
        const inner = hit.shadowRoot.elementFromPoint(x, y);
        if (!inner || inner === hit) break;
        hit = inner;
      }
      for (let n = hit; n; n = n.parentNode || n.host) if (n === el) return true;
      return false;
    })(),
    opensTab: (() => {
      const owner = el.closest('a[href][target], area[href][target]') || el.form || null;
      const target = owner ? (owner.getAttribute('target') || '').toLowerCase() : '';
      return !!target && !['_self', '_parent', '_top'].includes(target);
    })(),
  };
}
"""
_FIRST_INFO_JS = f"(els, forClick) => els.slice(0, 1).map(el => ({ELEMENT_INFO_JS})(el, forClick))"


async def find_element(
    candidates: Iterable[Locator], *, for_click: bool = False
) -> tuple[Locator, dict[str, Any]] | None:
    """The first candidate that matches an element, with what `ELEMENT_INFO_JS` reads of it
    (whether a click would reach it only `for_click`: see `click`).

    One round trip per candidate tried: finding the element and reading it go together, and
    `evaluate_all` neither waits for an element nor goes through an element handle as
    `Locator.evaluate` does (three round trips)."""
    for loc in candidates:
        try:
            infos: list[dict[str, Any]] = await loc.evaluate_all(_FIRST_INFO_JS, for_click)
        except PlaywrightError:
            continue  # frame detached meanwhile
        if infos:
            return loc.first, infos[0]
    return None


def is_text_field(info: dict[str, Any]) -> bool:
    """A textarea or an input `fill` types into (contenteditable areas are not)."""
    return info["tag"] == "textarea" or (info["tag"] == "input" and info["type"] in TEXT_TYPES)


def match_option(options: list[dict[str, Any]], wanted: str) -> int | None:
    """Index of the option matching `wanted`: label, then value (case-insensitive), then a
    label that uniquely contains it."""

    def norm(s: str) -> str:
        return " ".join(s.split()).casefold()

    w = norm(wanted)
    for key in ("label", "value"):
        for i, opt in enumerate(options):
            if norm(str(opt[key])) == w:
                return i
    partial = [i for i, opt in enumerate(options) if w and w in norm(str(opt["label"]))]
    return partial[0] if len(partial) == 1 else None


def list_options(labels: list[str], limit: int = 50) -> str:
    shown = ", ".join(f'"{label}"' for label in labels[:limit])
    more = len(labels) - limit
    return shown + (f" and {more} more" if more > 0 else "") if labels else "(none)"


async def click(
    page: Page, ref: ElementRef, loc: Locator, info: dict[str, Any], timeout_ms: float
) -> None:
    """Click the element as a person would; a select, a file input get an error naming the
    action that works on them.

    Where `ELEMENT_INFO_JS` found the element `reachable` (its centre hit-tests to it, in the
    viewport, enabled, nothing animating), the click goes straight to it: Playwright's checks
    would only confirm that, after two animation frames (20-40 ms of every click). Anywhere
    else they run, and wait, as usual: an element still covered, moving, disabled or off-screen.
    """
    force = bool(info["reachable"])
    if info["tag"] == "select":
        labels = [o["label"] for o in info["options"] or []]
        raise ActionError(
            f"[{ref.id}] {ref.describe()} is a drop-down (<select>): use select_option with one "
            f"of its options: {list_options(labels)}."
        )
    if info["tag"] == "input" and info["type"] == "file":
        raise ActionError(
            f"[{ref.id}] {ref.describe()} is a file input: use upload_file with the file's path."
        )
    checkable = info["type"] in ("checkbox", "radio") or (info["control"] or {}).get("type") in (
        "checkbox",
        "radio",
    )
    if checkable:
        # Custom-styled checkboxes are often covered by their label/decoration; a real click
        # would wait the full timeout for the cover to go away, so fall back to a DOM click.
        try:
            await loc.click(timeout=min(timeout_ms, _CHECKABLE_CLICK_MS), force=force)
        except PlaywrightTimeoutError:
            await loc.dispatch_event("click")
        return
    if info.get("opensTab"):
        # A link or form that opens a tab: Playwright reports the new page only once it is
        # set up, which on a busy machine can be after this page has settled. Wait for it, so
        # the tab becomes current; a tab the browser blocked is no error.
        clicked = False
        try:
            async with page.context.expect_page(timeout=min(timeout_ms, _NEW_TAB_WAIT_MS)):
                await loc.click(timeout=timeout_ms, force=force)
                clicked = True
        except PlaywrightTimeoutError:
            if not clicked:
                raise
        return
    await loc.click(timeout=timeout_ms, force=force)


async def input_text(
    page: Page,
    ref: ElementRef,
    loc: Locator,
    info: dict[str, Any],
    action: InputTextAction,
    timeout_ms: float,
) -> None:
    tag, itype = info["tag"], info["type"]
    is_field = is_text_field(info)
    if not is_field and not info["editable"]:
        hint = ""
        if tag == "select":
            hint = " It is a drop-down: use select_option."
        elif itype in ("checkbox", "radio"):
            hint = " It is a checkbox/radio: use click to toggle it."
        elif itype == "file":
            hint = " It is a file input: use upload_file."
        raise ActionError(
            f"[{ref.id}] {ref.describe()} is not a text field; input_text works on text inputs, "
            f"textareas and editable areas.{hint}"
        )
    if info["disabled"]:
        raise ActionError(f"[{ref.id}] {ref.describe()} is disabled; it cannot be typed into.")
    if is_field:
        if info["readOnly"]:
            raise ActionError(f"[{ref.id}] {ref.describe()} is read-only.")
        await loc.fill(action.text, timeout=timeout_ms)
        if action.press_enter:
            await loc.press("Enter", timeout=timeout_ms)
        return
    # contenteditable: rich editors listen to real keyboard events, so focus and type.
    await loc.click(timeout=timeout_ms)
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.press("Delete")
    if len(action.text) <= 200:
        await page.keyboard.type(action.text)
    else:
        await page.keyboard.insert_text(action.text)
    if action.press_enter:
        await page.keyboard.press("Enter")


async def select_option(
    page: Page,
    ref: ElementRef,
    loc: Locator,
    info: dict[str, Any],
    option: str,
    timeout_ms: float,
) -> None:
    if info["tag"] == "select":
        options: list[dict[str, Any]] = info["options"] or []
        labels = [o["label"] for o in options]
        index = match_option(options, option)
        if index is None:
            raise ActionError(
                f'No option "{option}" in [{ref.id}] {ref.describe()}. Available options: '
                f"{list_options(labels)}."
            )
        if options[index]["disabled"]:
            raise ActionError(f'Option "{labels[index]}" of [{ref.id}] is disabled.')
        if info["disabled"]:
            raise ActionError(f"[{ref.id}] {ref.describe()} is disabled.")
        await loc.select_option(index=index, timeout=timeout_ms)
        return
    if info["role"] not in ("listbox", "combobox") and not info["controls"]:
        raise ActionError(
            f"[{ref.id}] {ref.describe()} is not a drop-down; select_option works on <select> "
            "elements and ARIA listboxes/comboboxes. Use click instead."
        )
    # ARIA widget: options live inside the listbox, or appear (often elsewhere in the DOM)
    # once the combobox is opened.
    frame_owner = loc
    if info["role"] == "listbox":
        opts = frame_owner.locator('[role="option"]')
    else:
        await loc.click(timeout=timeout_ms)
        await asyncio.sleep(0.3)
        frame = await _frame_of(page, loc)
        if info["controls"]:
            first_id = info["controls"].split()[0]
            opts = frame.locator(f'[id="{first_id}"] [role="option"]')
            if await opts.count() == 0:
                opts = frame.locator('[role="option"]:visible')
        else:
            opts = frame.locator('[role="option"]:visible')
    texts = [" ".join(t.split()) for t in await opts.all_inner_texts()]
    index = match_option([{"label": t, "value": t} for t in texts], option)
    if index is None:
        raise ActionError(
            f'No option "{option}" in [{ref.id}] {ref.describe()}. Available options: '
            f"{list_options(texts)}."
        )
    await opts.nth(index).click(timeout=timeout_ms)


async def _frame_of(page: Page, loc: Locator) -> Frame:
    handle = await loc.element_handle()
    try:
        frame = await handle.owner_frame() if handle else None
    finally:
        if handle:
            await handle.dispose()
    return frame or page.main_frame


async def upload_file(
    page: Page, ref: ElementRef, loc: Locator, info: dict[str, Any], path: str, timeout_ms: float
) -> None:
    if not Path(path).is_file():
        raise ActionError(f"File not found on the worker: {path!r}. Use an existing file path.")
    is_file_input = info["tag"] == "input" and info["type"] == "file"
    labels_file = (info["control"] or {}).get("type") == "file"
    if is_file_input or labels_file:
        await loc.set_input_files(path, timeout=timeout_ms)
        return
    # Custom upload buttons hide the real input and open a file chooser on click.
    try:
        async with page.expect_file_chooser(timeout=min(timeout_ms, 5_000)) as chooser_info:
            await loc.click(timeout=timeout_ms)
        chooser = await chooser_info.value
    except PlaywrightTimeoutError as exc:
        raise ActionError(
            f"[{ref.id}] {ref.describe()} is not a file input and clicking it did not open a "
            "file chooser; use upload_file on the page's file input (<input type=file>) or its "
            "upload button."
        ) from exc
    await chooser.set_files(path)
