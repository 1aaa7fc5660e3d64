"""Recording how to find an element again, and finding it from the record.

`ActionRecorder` runs around an action: before it acts, `record_target` proposes locators for
its element (role and accessible name, label, placeholder, test id, alt, title, text, then a
CSS path) and keeps, best first, those that match exactly this element and nothing else on the
page at that moment; after it, `record_after` notes the URL and a short text that appeared.
`resolve_target` is the other way round, for a rerun: the first locator of the chain that
matches exactly one element of the recorded kind.

The role and accessible name are first the page description's own (its snapshot computes them
as browsers do); where Playwright does not resolve that pair to exactly this element, they come
from Playwright's ARIA snapshot of the element. Either way a recorded `get_by_role(role,
name=...)` is one Playwright has resolved to this element.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from functools import cache
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, FrameLocator, Page
from playwright.async_api import Locator as PlaywrightLocator

from wayfinder.actions import Action
from wayfinder.browser.actions import resolve_element
from wayfinder.browser.snapshot import ElementRef, PageSnapshot
from wayfinder.scripts.model import ElementTarget, Locator, PageCheck

MAX_LOCATORS = 4
"""Semantic locators kept per element (the CSS path comes on top): enough to survive a
redesign or two, few enough to keep the step log compact."""
MAX_NAME = 120
"""Longer accessible names or texts are not used as locators (they are content, not names)."""
AFTER_TEXT_MAX = 100
ARIA_TIMEOUT_MS = 1_000
"""aria_snapshot waits for its element: a vanished one must not hold the step up for long."""
_ROLES_OF_SNAPSHOT = frozenset(
    "button link textbox searchbox combobox listbox checkbox radio slider spinbutton img "
    "switch tab menuitem menuitemcheckbox menuitemradio option treeitem gridcell".split()
)
"""The snapshot's roles (implicit or from `role=`) that are worth proposing as they are. Others
(a `clickable` div, an element with no role) ask Playwright's ARIA snapshot what it says."""
_ARIA_LINE = re.compile(r'^- ([a-z]+)(?: "((?:[^"\\]|\\.)*)")?')
_SALIENT = "h1, h2, h3, [role=alert], [role=status], [aria-live], output, dialog[open]"
_PAGE_LINES_JS = f"""
() => {{
  const clean = s => (s || '').replace(/\\s+/g, ' ').trim();
  const lines = (document.body ? document.body.innerText : '').split('\\n').map(clean);
  const salient = Array.from(document.querySelectorAll({json.dumps(_SALIENT)}))
    .map(e => clean(e.innerText)).filter(Boolean);
  return {{lines: lines.filter(Boolean), salient}};
}}
"""
_IDS_JS = "els => els.map(e => e.getAttribute('data-wf-id'))"

Scope = Page | Frame | FrameLocator


class TargetNotFoundError(Exception):
    """No locator of the chain matches exactly one element; the message names each one and
    what it matched (nothing, or several)."""


@cache
def _element_js() -> str:
    return Path(__file__).with_name("locators.js").read_text(encoding="utf-8")


async def element_info(element: PlaywrightLocator) -> dict[str, Any]:
    """What locators.js reads of the element: labels, texts, its CSS path ("css")..."""
    info: dict[str, Any] = await element.evaluate(_element_js())
    return info


def to_playwright(scope: Scope, locator: Locator) -> PlaywrightLocator:
    """The Playwright locator `locator` stands for, within `scope`."""
    if locator.within is not None:
        container = scope.locator(locator.within)
        if locator.within_text is not None:
            container = container.filter(has_text=locator.within_text)
        return _call(container, locator)
    return _call(scope, locator)


def _call(scope: Scope | PlaywrightLocator, locator: Locator) -> PlaywrightLocator:
    if locator.kind == "role":
        return scope.get_by_role(
            locator.role,  # type: ignore[arg-type]  # recorded from Playwright's own roles
            name=locator.name,
            exact=locator.exact if locator.name is not None else None,
        )
    if locator.kind == "label":
        return scope.get_by_label(locator.value, exact=locator.exact)
    if locator.kind == "placeholder":
        return scope.get_by_placeholder(locator.value, exact=locator.exact)
    if locator.kind == "test_id":
        return scope.get_by_test_id(locator.value)
    if locator.kind == "alt":
        return scope.get_by_alt_text(locator.value, exact=locator.exact)
    if locator.kind == "title":
        return scope.get_by_title(locator.value, exact=locator.exact)
    if locator.kind == "text":
        return scope.get_by_text(locator.value, exact=locator.exact)
    return scope.locator(locator.value)


def _aria_role_name(aria: str) -> tuple[str, str | None] | None:
    match = _ARIA_LINE.match(aria.splitlines()[0] if aria else "")
    if not match or match.group(1) in ("text", "generic", "none", "presentation"):
        return None
    name = json.loads(f'"{match.group(2)}"') if match.group(2) is not None else None
    return match.group(1), name


def _usable(value: str) -> bool:
    return 0 < len(value) <= MAX_NAME


def _role_candidates(role_name: tuple[str, str | None] | None) -> list[Locator]:
    """The role (and accessible name) locator worth checking, if any: the best kind."""
    if role_name is None:
        return []
    role, name = role_name
    if name and _usable(name):
        return [Locator(kind="role", role=role, name=name)]
    return [] if name else [Locator(kind="role", role=role)]


def _info_candidates(info: dict[str, Any]) -> list[Locator]:
    """The other locators worth checking, best first: labels, placeholder, test id, alt,
    title, text."""
    found = [
        Locator(kind="label", value=label)
        for label in [*info["labels"], info["ariaLabel"]]
        if _usable(label)
    ]
    for kind, key in (
        ("placeholder", "placeholder"),
        ("test_id", "testId"),
        ("alt", "alt"),
        ("title", "title"),
        ("text", "text"),
    ):
        if _usable(info[key]):
            found.append(Locator(kind=kind, value=info[key]))  # type: ignore[arg-type]
    return found


async def _frame_path(frame: Frame) -> list[str]:
    """CSS selectors of the iframes from the main frame down to `frame`."""
    path: list[str] = []
    while frame.parent_frame is not None:
        handle = await frame.frame_element()
        try:
            info = await handle.evaluate(_element_js())
        finally:
            await handle.dispose()
        path.insert(0, info["css"])
        frame = frame.parent_frame
    return path


async def _matches_only(scope: Frame, locator: Locator, element_id: str) -> bool:
    """Does `locator` match this element (by its snapshot id) and nothing else?"""
    try:
        ids = await to_playwright(scope, locator).evaluate_all(_IDS_JS)
    except PlaywrightError:
        return False  # e.g. a CSS path Playwright's engine does not accept
    return bool(ids == [element_id])


async def _unique(frame: Frame, proposed: list[Locator], element_id: str) -> list[Locator]:
    """The locators of `proposed` that match only this element, best first, at most
    MAX_LOCATORS."""
    return (await _checked(frame, proposed, element_id))[:MAX_LOCATORS]


async def _checked(frame: Frame, proposed: list[Locator], element_id: str) -> list[Locator]:
    """The locators of `proposed` that match only this element, in their order."""
    checks = await asyncio.gather(*(_matches_only(frame, loc, element_id) for loc in proposed))
    return [loc for loc, ok in zip(proposed, checks, strict=True) if ok]


async def record_target(
    page: Page, snapshot: PageSnapshot, element_id: str
) -> ElementTarget | None:
    """The locator chain of the snapshot's element `element_id`, each locator checked to
    match that element and no other on the page now; None when the element is no longer
    in its frame. Call it before the action acts."""
    element = resolve_element(page, snapshot, element_id)
    ref = snapshot.elements[element_id.strip().strip("[]").strip()]
    frames = page.frames
    frame = frames[ref.frame_index] if 0 <= ref.frame_index < len(frames) else page.main_frame

    # This runs before every action of every run, so independent round trips go together and
    # each kind of locator is checked as soon as it is known: the role and name the snapshot
    # gave (or else Playwright's ARIA snapshot), the others from locators.js.
    async def by_role() -> tuple[tuple[str, str | None] | None, list[Locator], list[Locator]]:
        known = _snapshot_role_name(ref)
        if known is not None:
            proposed = _role_candidates(known)
            unique = await _checked(frame, proposed, ref.id)
            if unique:
                return known, proposed, unique
        role_name = _aria_role_name(await _aria_snapshot(element))
        proposed = _role_candidates(role_name)
        if role_name == known:
            return role_name, proposed, []  # checked above: not unique
        return role_name, proposed, await _checked(frame, proposed, ref.id)

    async def by_info() -> tuple[dict[str, Any], list[Locator], list[Locator]] | None:
        # (evaluate_all does not wait for a missing element, as evaluate would.)
        infos = await element.evaluate_all(f"els => els.map({_element_js()})")
        if len(infos) != 1:
            return None
        info: dict[str, Any] = infos[0]
        proposed = [*_info_candidates(info), Locator(kind="css", value=info["css"])]
        return info, proposed, await _checked(frame, proposed, ref.id)

    (role_name, role_proposed, role_unique), read, frame_path = await asyncio.gather(
        by_role(), by_info(), _frame_path(frame)
    )
    if read is None:
        return None
    info, (*info_proposed, css), info_unique = read
    proposed = [*role_proposed, *info_proposed]
    unique = [*role_unique, *(loc for loc in info_unique if loc is not css)][:MAX_LOCATORS]
    if not unique and proposed:
        # Unique only within its card or row ("Add to cart" on every product): scope the
        # best semantic locators to a container.
        scoped = [
            loc.model_copy(update={"within": c["within"], "within_text": c["text"]})
            for c in info["containers"]
            for loc in proposed[:2]
        ]
        unique = await _unique(frame, scoped, ref.id)
    if css in info_unique:
        unique.append(css)
    accessible_name = role_name[1] if role_name is not None else None
    labels = [*info["labels"], info["ariaLabel"], info["name"], info["placeholder"]]
    return ElementTarget(
        locators=unique,
        frames=frame_path,
        tag=info["tag"],
        input_type=info["type"],
        field_name=accessible_name or next((x for x in labels if x), None),
        secret=info["type"] == "password" or info["autocomplete"] == "one-time-code",
    )


def _snapshot_role_name(ref: ElementRef) -> tuple[str, str | None] | None:
    """The role and accessible name the page description found, when they can be proposed as
    they are: a role Playwright knows, and a name the snapshot did not cut. (An element with
    no name asks Playwright, which may know one: a name beats a role alone.)"""
    if ref.role not in _ROLES_OF_SNAPSHOT or not ref.name or ref.name.endswith("…"):
        return None
    return ref.role, ref.name


async def _aria_snapshot(element: PlaywrightLocator) -> str:
    """Playwright's own role and name for the element ("" when it has none to give)."""
    try:
        return await element.aria_snapshot(timeout=ARIA_TIMEOUT_MS)
    except PlaywrightError:
        return ""


async def _page_lines(page: Page) -> dict[str, list[str]]:
    result: dict[str, list[str]] = await page.main_frame.evaluate(_PAGE_LINES_JS)
    return result


async def page_text_lines(page: Page) -> frozenset[str]:
    """The visible text lines of the page's main frame, to tell later what appeared."""
    return frozenset((await _page_lines(page))["lines"])


async def text_lines(page: Page) -> frozenset[str] | None:
    """`page_text_lines`, or None when the page cannot be read now (navigating, closed)."""
    try:
        return await page_text_lines(page)
    except PlaywrightError:
        return None


async def record_after(page: Page, before: frozenset[str]) -> PageCheck:
    """What the page looks like after an action: its URL and a short line that was not in
    `before` (a heading or status message first; None when nothing new appeared)."""
    seen = await _page_lines(page)

    def fits(line: str) -> bool:
        return (
            line not in before
            and 3 <= len(line) <= AFTER_TEXT_MAX
            and any(c.isalpha() for c in line)
        )

    lines = [line for line in seen["salient"] if fits(line)] or [
        line for line in seen["lines"] if fits(line)
    ]
    return PageCheck(url=page.url, text=lines[0] if lines else None)


class ActionRecorder:
    """Records an action for publishing: its element before it acts, the page after.

    Recording never fails a step: a page that navigates or detaches a frame mid-recording
    leaves that part unrecorded (None), and publishing says which step lacks it.
    """

    def __init__(self, page: Page, target: ElementTarget | None, before: frozenset[str]):
        self._page = page
        self.target = target
        self._before = before

    @classmethod
    async def start(
        cls,
        page: Page,
        snapshot: PageSnapshot,
        action: Action,
        seen: frozenset[str] | None = None,
    ) -> ActionRecorder:
        """Record the action's element; `seen` is the page's text now when it has just been
        read (`text_lines`), else it is read here."""
        element_id: str | None = getattr(action, "element_id", None)
        target: ElementTarget | None = None
        before: frozenset[str] = frozenset()

        async def text() -> frozenset[str]:
            return seen if seen is not None else await page_text_lines(page)

        try:
            if element_id and element_id.strip().strip("[]").strip() in snapshot.elements:
                target, before = await asyncio.gather(
                    record_target(page, snapshot, element_id), text()
                )
            else:
                before = await text()
        except PlaywrightError:
            pass  # the page moved under us; the step goes on unrecorded
        return cls(page, target, before)

    async def finish(self, page: Page) -> PageCheck | None:
        """The page after the action (`page` is the current tab then)."""
        try:
            return await record_after(page, self._before if page is self._page else frozenset())
        except PlaywrightError:
            return None


async def resolve_target(
    page: Page, target: ElementTarget, *, timeout_ms: float = 5_000
) -> PlaywrightLocator:
    """The first locator of `target`'s chain that matches exactly one element of the
    recorded kind (tag) on `page`, inside `target.frames`. Waits up to `timeout_ms` for the
    page to show one (a rerun is faster than the page it drives); then raises
    TargetNotFoundError naming each locator and what it matched."""
    scope: Scope = page
    for selector in target.frames:
        scope = scope.frame_locator(selector)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        outcomes: list[str] = []
        for locator in target.locators:
            candidate = to_playwright(scope, locator)
            try:
                tags = await candidate.evaluate_all("els => els.map(e => e.localName)")
            except PlaywrightError as exc:
                outcomes.append(f"{locator.describe()}: {str(exc).splitlines()[0]}")
                continue
            if tags == [target.tag]:
                return candidate
            outcomes.append(f"{locator.describe()}: {_matched(tags, target.tag)}")
        if time.monotonic() >= deadline:
            chain = "; ".join(outcomes) or "no locator was recorded"
            raise TargetNotFoundError(f"no locator matches one <{target.tag}>: {chain}")
        await asyncio.sleep(0.1)


def _matched(tags: list[str], wanted: str) -> str:
    if not tags:
        return "matches nothing"
    if len(tags) > 1:
        return f"matches {len(tags)} elements"
    return f"matches a <{tags[0]}>, not a <{wanted}>"
