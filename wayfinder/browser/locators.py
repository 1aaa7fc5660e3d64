"""Recording how to find an element again, and finding it from the record.

`record_target` runs when an action is about to act on an element: it proposes locators
(role and accessible name, label, placeholder, test id, alt, title, text, then a CSS path)
and keeps, best first, those that match exactly this element on the page at that moment.
`resolve_target` is the other way round, for a rerun: the first locator of the chain that
matches exactly one element.
"""

from __future__ import annotations

from playwright.async_api import Locator as PlaywrightLocator
from playwright.async_api import Page

from wayfinder.browser.snapshot import PageSnapshot
from wayfinder.scripts.model import ElementTarget, PageCheck


class TargetNotFoundError(Exception):
    """No locator of the chain matches exactly one element; the message names each one and
    what it matched (nothing, or several)."""


async def record_target(page: Page, snapshot: PageSnapshot, element_id: str) -> ElementTarget:
    """The locator chain of the snapshot's element `element_id`, each locator checked to
    match that element and no other on the page now. Call it before the action acts."""
    raise NotImplementedError


async def page_text_lines(page: Page) -> frozenset[str]:
    """The visible text lines of the page's main frame, to tell later what appeared."""
    raise NotImplementedError


async def record_after(page: Page, before: frozenset[str]) -> PageCheck:
    """What the page looks like after an action: its URL and a short line that was not in
    `before` (None when nothing new appeared)."""
    raise NotImplementedError


async def resolve_target(page: Page, target: ElementTarget) -> PlaywrightLocator:
    """The first locator of `target`'s chain that matches exactly one element on `page`
    (inside `target.frames`). Raises TargetNotFoundError when none does."""
    raise NotImplementedError
