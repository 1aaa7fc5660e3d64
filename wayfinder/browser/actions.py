"""The execution of actions (`wayfinder.actions`) on a live page.

`execute_action` is the entry point: it finds the element, runs the action (the element
actions are in `element_actions`), turns Playwright's failures into `ActionError`s the model
can act on (`action_errors`) and waits for the page to settle (`settle`). `type_secret`
(`secret_typing`) types a 2FA code the same way without it being read back.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlparse

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page

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
from wayfinder.browser import element_actions
from wayfinder.browser.action_errors import ActionError, explain, is_fatal, trim_text
from wayfinder.browser.secret_typing import SECRET_MARK, type_secret
from wayfinder.browser.settle import Settler, current_page, load_state
from wayfinder.browser.snapshot import ElementRef, PageSnapshot

__all__ = [
    "SECRET_MARK",
    "ActionError",
    "execute_action",
    "resolve_element",
    "type_secret",
]


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
    page: Page, snapshot: PageSnapshot, element_id: str, *, for_click: bool = False
) -> tuple[ElementRef, Locator, dict[str, Any]]:
    """Like resolve_element, but checks the element still exists, looking in every frame
    if frames were added or removed since the snapshot (which shifts page.frames); with what
    `element_actions.ELEMENT_INFO_JS` reads of the element."""
    ref = _ref(snapshot, element_id)
    candidates = [resolve_element(page, snapshot, element_id)]
    candidates += [f.locator(_selector(ref)) for f in page.frames]
    found = await element_actions.find_element(candidates, for_click=for_click)
    if found is None:
        raise ActionError(
            f"Element [{ref.id}] ({ref.describe()}) is no longer on the page; the page changed "
            "since it was described. Look at the new page description and use its ids."
        )
    return ref, *found


async def _tab_list(pages: list[Page]) -> str:
    parts = []
    for i, p in enumerate(pages):
        try:
            title = await asyncio.wait_for(p.title(), 2.0)
        except (PlaywrightError, TimeoutError):
            title = ""
        parts.append(f"[{i}] {trim_text(title or p.url, 40)}")
    return " | ".join(parts)


async def _scroll(page: Page, snapshot: PageSnapshot, action: ScrollAction) -> None:
    sign = 1 if action.direction == "down" else -1
    if action.element_id is not None:
        _, loc, _ = await _locate(page, snapshot, action.element_id)
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
        await load_state(target, timeout_ms)
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
        async with Settler(page) as settler:
            try:
                await _dispatch(page, snapshot, action, timeout_ms)
            except ActionError:
                raise
            except PlaywrightError as exc:
                if is_fatal(exc):
                    if page.is_closed():
                        # The action closed its own tab (window.close()): carry on elsewhere.
                        return await current_page(page, new_pages)
                    raise
                raise ActionError(explain(exc, what, timeout_ms)) from exc
            if not page.is_closed():
                await settler.settle(timeout_ms)
    finally:
        context.remove_listener("page", on_page)
    return await current_page(page, new_pages)


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
            if is_fatal(exc):
                raise
            first = str(exc).strip().splitlines()[0]
            raise ActionError(f"Could not load {action.url}: {trim_text(first, 200)}") from exc
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
    ref, loc, info = await _locate(
        page, snapshot, action.element_id, for_click=isinstance(action, ClickAction)
    )
    target = f"[{ref.id}] {ref.describe()}"
    try:
        if isinstance(action, ClickAction):
            await element_actions.click(page, ref, loc, info, timeout_ms)
        elif isinstance(action, InputTextAction):
            await element_actions.input_text(page, ref, loc, info, action, timeout_ms)
        elif isinstance(action, SelectOptionAction):
            await element_actions.select_option(page, ref, loc, info, action.option, timeout_ms)
        elif isinstance(action, UploadFileAction):
            await element_actions.upload_file(page, ref, loc, info, action.path, timeout_ms)
        else:
            await loc.hover(timeout=timeout_ms)
    except ActionError:
        raise
    except PlaywrightError as exc:
        if is_fatal(exc):
            raise
        verb = action.type.replace("_", " ").replace("input text", "type into")
        raise ActionError(explain(exc, f"{verb} {target}", timeout_ms)) from exc
    return
