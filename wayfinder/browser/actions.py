"""The execution of actions (`wayfinder.actions`) on a live page."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Locator, Page, Request
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from wayfinder.actions import (
    Action,
    ClickAction,
    CompleteAction,
    EnterVerificationCodeAction,
    GoBackAction,
    GotoUrlAction,
    HoverAction,
    InputTextAction,
    KeypressAction,
    ScrollAction,
    SelectOptionAction,
    SwitchTabAction,
    TerminateAction,
    UploadFileAction,
    WaitAction,
)
from wayfinder.browser.snapshot import ElementRef, PageSnapshot


class ActionError(Exception):
    """The action cannot be done as asked (unknown element id, wrong kind of element, option
    not found, element not visible/enabled...).

    Its message is shown to the model, so it says what is wrong and what would work (e.g. it
    lists a select's options). Anything else raised by `execute_action` is an infrastructure
    problem (browser gone), not the model's fault.
    """


SETTLE_QUIET_S = 0.1
"""After acting, wait until the page has had no request in flight for this long: a request that
follows another (a fetch chained on a response, the images of content just inserted) starts
within milliseconds of the one before..."""
SETTLE_IDLE_S = 0.03
"""...or only this long when the action started no request at all (typing, toggling). The page
has run its event handlers and zero-delay timers by then (see `_page_turn`); this is the time
the events of a request they started take to reach us."""
SETTLE_MAX_S = 3.0
"""...but never longer than this (long-polling, analytics beacons, streaming)."""
_CHECKABLE_CLICK_MS = 2_000
"""Real-click budget for checkboxes/radios before falling back to a DOM click event."""
_NEW_TAB_WAIT_MS = 5_000
"""How long a click on a `target=_blank` link waits for its tab to appear."""
_TEXT_TYPES = frozenset(
    {
        "text", "email", "password", "search", "tel", "url", "number", "date",
        "datetime-local", "month", "time", "week",
    }
)  # fmt: skip
_FATAL_MARKERS = (
    "has been closed",
    "Target closed",
    "Browser closed",
    "Connection closed",
    "browser has disconnected",
)

_ELEMENT_INFO_JS = """
el => {
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
    opensTab: (() => {
      const owner = el.closest('a[href][target], area[href][target]') || el.form || null;
      const target = owner ? (owner.getAttribute('target') || '').toLowerCase() : '';
      return !!target && !['_self', '_parent', '_top'].includes(target);
    })(),
  };
}
"""


def _clean_id(element_id: str) -> str:
    return element_id.strip().strip("[]").strip()


def _ref(snapshot: PageSnapshot, element_id: str) -> ElementRef:
    ref = snapshot.elements.get(_clean_id(element_id))
    if ref is None:
        raise ActionError(
            f"There is no element [{element_id}] on the page. Use one of the ids shown in "
            "[brackets] in the latest page description (far-off elements are only summarised: "
            "scroll to them first)."
        )
    return ref


def _selector(ref: ElementRef) -> str:
    sel = f'[data-wf-id="{ref.id}"]'
    # Adding the tag guards against a stale id now naming another kind of element.
    return f"{ref.tag}{sel}" if re.fullmatch(r"[a-z][a-z0-9-]*", ref.tag) else sel


def resolve_element(page: Page, snapshot: PageSnapshot, element_id: str) -> Locator:
    """Locator for a snapshot element id (in its frame; Playwright CSS pierces open shadow
    roots). Raises ActionError for ids the snapshot does not know."""
    ref = _ref(snapshot, element_id)
    frames = page.frames
    frame = frames[ref.frame_index] if 0 <= ref.frame_index < len(frames) else page.main_frame
    return frame.locator(_selector(ref))


async def _locate(
    page: Page, snapshot: PageSnapshot, element_id: str
) -> tuple[ElementRef, Locator]:
    """Like resolve_element, but checks the element still exists, looking in every frame
    if frames were added or removed since the snapshot (which shifts page.frames)."""
    ref = _ref(snapshot, element_id)
    candidates = [resolve_element(page, snapshot, element_id)]
    candidates += [f.locator(_selector(ref)) for f in page.frames]
    for loc in candidates:
        try:
            if await loc.count() > 0:
                return ref, loc.first
        except PlaywrightError:
            continue  # frame detached meanwhile
    raise ActionError(
        f"Element [{ref.id}] ({ref.describe()}) is no longer on the page; the page changed "
        "since it was described. Look at the new page description and use its ids."
    )


class _Settler:
    """Counts the page's requests in flight so we can wait for it to go quiet after acting.

    `wait_for_load_state('networkidle')` only reports the first idle moment of a document, so
    it does not wait for the XHRs a click triggers in a single-page app; this does. It wakes on
    the page's request events rather than polling, so a quiet page costs no more than the quiet
    period itself.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.inflight: set[Request] = set()
        self.last_change = time.monotonic()
        self.saw_traffic = False
        self._changed = asyncio.Event()

    def _start(self, request: Request) -> None:
        if request.resource_type not in ("websocket", "eventsource"):
            self.inflight.add(request)
            self.last_change = time.monotonic()
            self.saw_traffic = True
            self._changed.set()

    def _end(self, request: Request) -> None:
        self.inflight.discard(request)
        self.last_change = time.monotonic()
        self._changed.set()

    def __enter__(self) -> _Settler:
        self.page.on("request", self._start)
        self.page.on("requestfinished", self._end)
        self.page.on("requestfailed", self._end)
        return self

    def __exit__(self, *exc: object) -> None:
        for event, fn in (
            ("request", self._start),
            ("requestfinished", self._end),
            ("requestfailed", self._end),
        ):
            self.page.remove_listener(event, fn)

    async def settle(self, timeout_ms: float) -> None:
        """Wait for DOMContentLoaded, then for a short quiet period; never fails."""
        start = time.monotonic()
        deadline = start + SETTLE_MAX_S
        self.last_change = max(self.last_change, start)
        await _load_state(self.page, min(timeout_ms, 5_000))
        if not self.saw_traffic:
            await _page_turn(self.page)
        while (now := time.monotonic()) < deadline:
            needed = SETTLE_QUIET_S if self.saw_traffic else SETTLE_IDLE_S
            quiet_at = self.last_change + needed
            if not self.inflight and now >= quiet_at:
                return
            self._changed.clear()
            wake = deadline if self.inflight else min(quiet_at, deadline)
            try:
                async with asyncio.timeout(wake - now):
                    await self._changed.wait()
            except TimeoutError:
                pass  # quiet long enough, or the page never went quiet: the loop decides


async def _page_turn(page: Page) -> None:
    """Return once the page has handled what the action sent it: its event handlers, the
    microtasks and zero-delay timers they queued have run, so any request they start has been
    issued."""
    try:
        # Bounded: a tab in the background may have its timers throttled.
        async with asyncio.timeout(SETTLE_QUIET_S):
            await page.evaluate("() => new Promise(done => setTimeout(done, 0))")
    except (PlaywrightError, TimeoutError):
        pass  # navigating, closed or throttled: the request events tell the rest


async def _load_state(page: Page, timeout_ms: float) -> None:
    try:
        await page.wait_for_load_state("domcontentloaded", timeout=timeout_ms)
    except PlaywrightError:
        pass  # slow or closed page: the next snapshot shows what is there


def _reason_from_log(message: str) -> str | None:
    """Pull the actionability failure out of a Playwright call log."""
    lines = [ln.strip(" -") for ln in message.splitlines()]
    for line in reversed(lines):
        if "intercepts pointer events" in line:
            blocker = line.split(" from ")[0].replace(" intercepts pointer events", "")
            return (
                f"it is covered by another element ({_trim_text(blocker, 120)}); close the "
                "popup/overlay or cookie banner first, or scroll"
            )
    checks = (
        ("element is not visible", "it is not visible (hidden, or inside a closed menu)"),
        ("element is not enabled", "it is disabled"),
        ("element is disabled", "it is disabled"),
        ("element is not editable", "it is read-only"),
        ("element is not stable", "it keeps moving (animation); try again or wait"),
        ("outside of the viewport", "it is outside the page and cannot be scrolled into view"),
        ("not attached to the DOM", "it was removed from the page"),
        ("element was detached", "it was removed from the page"),
    )
    for line in reversed(lines):
        for marker, reason in checks:
            if marker in line:
                return reason
    return None


def _trim_text(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _explain(exc: PlaywrightError, what: str, timeout_ms: float) -> str:
    message = str(exc)
    reason = _reason_from_log(message)
    if reason:
        return f"Could not {what}: {reason}."
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    first = re.sub(r"^\w+\.\w+: ", "", first)
    if isinstance(exc, PlaywrightTimeoutError):
        return f"Could not {what}: timed out after {timeout_ms / 1000:g}s ({first})."
    return f"Could not {what}: {_trim_text(first, 300)}."


def _match_option(options: list[dict[str, Any]], wanted: str) -> int | None:
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


def _list_options(labels: list[str], limit: int = 50) -> str:
    shown = ", ".join(f'"{label}"' for label in labels[:limit])
    more = len(labels) - limit
    return shown + (f" and {more} more" if more > 0 else "") if labels else "(none)"


async def _tab_list(pages: list[Page]) -> str:
    parts = []
    for i, p in enumerate(pages):
        try:
            title = await asyncio.wait_for(p.title(), 2.0)
        except (PlaywrightError, TimeoutError):
            title = ""
        parts.append(f"[{i}] {_trim_text(title or p.url, 40)}")
    return " | ".join(parts)


async def _click(
    page: Page, ref: ElementRef, loc: Locator, info: dict[str, Any], timeout_ms: float
) -> None:
    if info["tag"] == "select":
        labels = [o["label"] for o in info["options"] or []]
        raise ActionError(
            f"[{ref.id}] {ref.describe()} is a drop-down (<select>): use select_option with one "
            f"of its options: {_list_options(labels)}."
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
            await loc.click(timeout=min(timeout_ms, _CHECKABLE_CLICK_MS))
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
                await loc.click(timeout=timeout_ms)
                clicked = True
        except PlaywrightTimeoutError:
            if not clicked:
                raise
        return
    await loc.click(timeout=timeout_ms)


async def _input_text(
    page: Page,
    ref: ElementRef,
    loc: Locator,
    info: dict[str, Any],
    action: InputTextAction,
    timeout_ms: float,
) -> None:
    tag, itype = info["tag"], info["type"]
    is_field = tag == "textarea" or (tag == "input" and itype in _TEXT_TYPES)
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


async def _select_option(
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
        index = _match_option(options, option)
        if index is None:
            raise ActionError(
                f'No option "{option}" in [{ref.id}] {ref.describe()}. Available options: '
                f"{_list_options(labels)}."
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
    index = _match_option([{"label": t, "value": t} for t in texts], option)
    if index is None:
        raise ActionError(
            f'No option "{option}" in [{ref.id}] {ref.describe()}. Available options: '
            f"{_list_options(texts)}."
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


async def _upload_file(
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


async def _scroll(page: Page, snapshot: PageSnapshot, action: ScrollAction) -> None:
    sign = 1 if action.direction == "down" else -1
    if action.element_id is not None:
        _, loc = await _locate(page, snapshot, action.element_id)
        moved = await loc.evaluate(
            """(el, sign) => {
                 for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
                   const before = n.scrollTop;
                   const dy = sign * Math.max(n.clientHeight * 0.9, 40);
                   n.scrollBy({top: dy, behavior: 'instant'});
                   if (n.scrollTop !== before) return true;
                 }
                 return false;
               }""",
            sign,
            timeout=5_000,
        )
        if not moved:
            await loc.hover(timeout=5_000)
            await page.mouse.wheel(0, sign * 400)
        return
    moved = await page.evaluate(
        """sign => {
             const before = window.scrollY;
             window.scrollBy({top: sign * window.innerHeight * 0.9, behavior: 'instant'});
             return window.scrollY !== before;
           }""",
        sign,
    )
    if not moved:
        # The document does not scroll (app layouts scroll an inner container): use the wheel
        # over the middle of the viewport, which scrolls whatever is under it.
        size = page.viewport_size or await page.evaluate(
            "() => ({width: innerWidth, height: innerHeight})"
        )
        await page.mouse.move(size["width"] / 2, size["height"] / 2)
        await page.mouse.wheel(0, sign * size["height"] * 0.9)


async def _current_page(page: Page, new_pages: list[Page]) -> Page:
    """The page the agent should look at next: a freshly opened tab, else this one if open."""
    for new in reversed(new_pages):
        if not new.is_closed():
            await _load_state(new, 10_000)
            try:
                await new.bring_to_front()
            except PlaywrightError:
                pass
            return new
    if not page.is_closed():
        return page
    open_pages = [p for p in page.context.pages if not p.is_closed()]
    if open_pages:
        return open_pages[-1]
    return await page.context.new_page()


async def execute_action(
    page: Page, snapshot: PageSnapshot, action: Action, *, timeout_ms: float = 10_000
) -> Page:
    """Run `action` on `page` (element ids resolved through `snapshot`); returns the page that
    is current afterwards (a tab opened by the action, or the tab chosen by switch_tab).

    Raises ActionError when the action cannot be done as asked; its message is written for the
    model. complete/terminate are decisions, not page actions: passing them is a ValueError.
    """
    if isinstance(action, CompleteAction | TerminateAction | EnterVerificationCodeAction):
        # enter_verification_code needs the code, which only `type_secret`'s caller fetches.
        raise ValueError(f"{action.type} is not a page action; handle it before execute_action")

    if isinstance(action, SwitchTabAction):
        pages = page.context.pages
        if not 0 <= action.tab_index < len(pages):
            raise ActionError(
                f"There is no tab {action.tab_index}. Open tabs: {await _tab_list(pages)}."
            )
        target = pages[action.tab_index]
        await target.bring_to_front()
        await _load_state(target, timeout_ms)
        return target

    if isinstance(action, WaitAction):
        await asyncio.sleep(action.seconds)
        return page

    new_pages: list[Page] = []

    def on_page(new: Page) -> None:
        new_pages.append(new)

    context = page.context
    context.on("page", on_page)
    what = action.type.replace("_", " ")
    try:
        with _Settler(page) as settler:
            try:
                await _dispatch(page, snapshot, action, timeout_ms)
            except ActionError:
                raise
            except PlaywrightError as exc:
                message = str(exc)
                if any(marker in message for marker in _FATAL_MARKERS):
                    if page.is_closed():
                        # The action closed its own tab (window.close()): carry on elsewhere.
                        return await _current_page(page, new_pages)
                    raise
                raise ActionError(_explain(exc, what, timeout_ms)) from exc
            if not page.is_closed():
                await settler.settle(timeout_ms)
    finally:
        context.remove_listener("page", on_page)
    return await _current_page(page, new_pages)


async def _dispatch(page: Page, snapshot: PageSnapshot, action: Action, timeout_ms: float) -> None:
    """Perform one page action. Element actions turn Playwright errors into ActionErrors here,
    where the element's description is at hand."""
    if isinstance(action, GotoUrlAction):
        parsed = urlparse(action.url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            hint = f" (did you mean https://{action.url.strip()} ?)" if not parsed.scheme else ""
            raise ActionError(
                f"goto_url needs an absolute http:// or https:// URL, got {action.url!r}{hint}."
            )
        try:
            await page.goto(action.url.strip(), wait_until="domcontentloaded", timeout=timeout_ms)
        except PlaywrightError as exc:
            if any(marker in str(exc) for marker in _FATAL_MARKERS):
                raise
            first = str(exc).strip().splitlines()[0]
            raise ActionError(f"Could not load {action.url}: {_trim_text(first, 200)}") from exc
        return

    if isinstance(action, GoBackAction):
        before = page.url
        response = await page.go_back(wait_until="domcontentloaded", timeout=timeout_ms)
        if response is None and page.url == before:
            raise ActionError("There is no previous page in this tab's history.")
        return

    if isinstance(action, KeypressAction):
        for key in action.keys:
            try:
                await page.keyboard.press(key)
            except PlaywrightError as exc:
                if "Unknown key" in str(exc):
                    raise ActionError(
                        f'Unknown key "{key}". Use Playwright key names such as Enter, Tab, '
                        "Escape, ArrowDown, PageDown, Backspace, Control+A."
                    ) from exc
                raise
        return

    if isinstance(action, ScrollAction):
        await _scroll(page, snapshot, action)
        return

    if not isinstance(
        action,
        ClickAction | InputTextAction | SelectOptionAction | UploadFileAction | HoverAction,
    ):
        raise TypeError(f"execute_action does not know how to run {action!r}")
    ref, loc = await _locate(page, snapshot, action.element_id)
    info: dict[str, Any] = await loc.evaluate(_ELEMENT_INFO_JS, timeout=timeout_ms)
    target = f"[{ref.id}] {ref.describe()}"
    try:
        if isinstance(action, ClickAction):
            await _click(page, ref, loc, info, timeout_ms)
        elif isinstance(action, InputTextAction):
            await _input_text(page, ref, loc, info, action, timeout_ms)
        elif isinstance(action, SelectOptionAction):
            await _select_option(page, ref, loc, info, action.option, timeout_ms)
        elif isinstance(action, UploadFileAction):
            await _upload_file(page, ref, loc, info, action.path, timeout_ms)
        else:
            await loc.hover(timeout=timeout_ms)
    except ActionError:
        raise
    except PlaywrightError as exc:
        if any(marker in str(exc) for marker in _FATAL_MARKERS):
            raise
        verb = action.type.replace("_", " ").replace("input text", "type into")
        raise ActionError(_explain(exc, f"{verb} {target}", timeout_ms)) from exc
    return


SECRET_MARK = "data-wf-secret"
"""Set on a field holding a typed 2FA code: page descriptions mask it and checkpoints skip it
(`snapshot.js`, `form_state.js`), so the code never reaches the model or workflow history."""


async def type_secret(
    page: Page, element_id: str, secret: str, *, press_enter: bool, timeout_ms: float = 10_000
) -> Page:
    """Type `secret` into the text field of the latest snapshot's `element_id`, marked so that
    nothing reads it back; returns the current page afterwards (as `execute_action`).

    Raises ActionError (written for the model, never quoting the secret) when the element is
    gone or is not a text field.
    """
    wanted = f'[data-wf-id="{_clean_id(element_id)}"]'
    loc: Locator | None = None
    for frame in page.frames:
        try:
            if await frame.locator(wanted).count() > 0:
                loc = frame.locator(wanted).first
                break
        except PlaywrightError:
            continue  # frame detached meanwhile
    if loc is None:
        raise ActionError(
            f"There is no element [{element_id}] on the page any more; use an id from the "
            "latest page description."
        )
    info: dict[str, Any] = await loc.evaluate(_ELEMENT_INFO_JS, timeout=timeout_ms)
    is_field = info["tag"] == "textarea" or (
        info["tag"] == "input" and info["type"] in _TEXT_TYPES
    )
    if not is_field or info["disabled"] or info["readOnly"]:
        raise ActionError(
            f"[{element_id}] is not a text field that can be typed into; call "
            "enter_verification_code on the field that asks for the code."
        )
    new_pages: list[Page] = []

    def on_page(new: Page) -> None:
        new_pages.append(new)

    page.context.on("page", on_page)
    try:
        with _Settler(page) as settler:
            await loc.evaluate(f"el => el.setAttribute('{SECRET_MARK}', '')")
            try:
                await loc.fill(secret, timeout=timeout_ms)
                if press_enter:
                    await loc.press("Enter", timeout=timeout_ms)
            except PlaywrightError as exc:
                if any(marker in str(exc) for marker in _FATAL_MARKERS):
                    raise
                why = _explain(exc, f"type the code into [{element_id}]", timeout_ms)
                raise ActionError(why.replace(secret, "******")) from None
            if not page.is_closed():
                await settler.settle(timeout_ms)
    finally:
        page.context.remove_listener("page", on_page)
    return await _current_page(page, new_pages)
