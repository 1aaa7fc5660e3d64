"""Checkpoints: what a run needs to carry on in a fresh browser after its own one is gone.

A checkpoint is taken after every step: the URL of each open tab and which one is current,
the context's storage state (cookies and localStorage, as Playwright's `storage_state()` gives
it), the current tab's sessionStorage, and the values typed into the current page's form
fields. It is small (a few KB on ordinary sites) and travels through Temporal as an activity
result, so any worker on any host can restore it; nothing is left on the disk of the host that
may die. Password fields and file inputs are never captured: a checkpoint lands in workflow
history, and a password has no business there. After a restore the model re-types them.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

MAX_CHECKPOINT_BYTES = 256 * 1024
"""Above this, the largest localStorage values are left out (and named in `omitted`)."""

NAVIGATION_TIMEOUT_MS = 30_000


@cache
def _form_js() -> str:
    return (Path(__file__).with_name("form_state.js")).read_text(encoding="utf-8")


class FieldValue(BaseModel):
    """One form control the run changed: where it is and what it holds."""

    selector: str
    value: str | None = None
    checked: bool | None = None
    selected: list[str] | None = None
    """Values of the selected options of a `<select multiple>`."""


class Checkpoint(BaseModel):
    """The state of a run's browser after a step, enough to rebuild it elsewhere."""

    tabs: list[str] = Field(default_factory=list)
    current: int = 0
    storage_state: dict[str, Any] = Field(default_factory=dict)
    session_storage: dict[str, str] = Field(default_factory=dict)
    """sessionStorage of the current tab's origin."""
    form_fields: list[FieldValue] = Field(default_factory=list)
    """Form controls of the current tab whose value differs from the page's own default."""
    omitted: list[str] = Field(default_factory=list)
    """localStorage keys left out because the checkpoint would have been too large."""

    @property
    def url(self) -> str | None:
        return self.tabs[self.current] if self.tabs else None


async def capture(context: BrowserContext, current: Page) -> Checkpoint:
    """Read the checkpoint of a live context whose tab `current` is the one being worked on."""
    pages = [page for page in context.pages if not page.is_closed()]
    # Three independent reads on the step's critical path: one round trip instead of three.
    state, session, fields = await asyncio.gather(
        context.storage_state(),
        current.evaluate("() => Object.fromEntries(Object.entries(sessionStorage))"),
        current.evaluate(_form_js(), {"mode": "capture"}),
    )
    checkpoint = Checkpoint(
        tabs=[page.url for page in pages],
        current=pages.index(current) if current in pages else max(len(pages) - 1, 0),
        storage_state=dict(state),
        session_storage=session or {},
        form_fields=[FieldValue.model_validate(field) for field in fields or []],
    )
    return _within_budget(checkpoint)


def _within_budget(checkpoint: Checkpoint) -> Checkpoint:
    """Drop the largest localStorage values until the checkpoint fits in its budget."""
    size = len(checkpoint.model_dump_json())
    if size <= MAX_CHECKPOINT_BYTES:
        return checkpoint
    entries = [
        (len(item.get("value", "")), origin, item)
        for origin in checkpoint.storage_state.get("origins", [])
        for item in origin.get("localStorage", [])
    ]
    for length, origin, item in sorted(entries, key=lambda entry: -entry[0]):
        if size <= MAX_CHECKPOINT_BYTES:
            break
        origin["localStorage"].remove(item)
        checkpoint.omitted.append(f"{origin.get('origin')}: {item.get('name')}")
        size -= length
    return checkpoint


async def restore(context: BrowserContext, first: Page, checkpoint: Checkpoint) -> Page:
    """Reopen the checkpoint's tabs in `context` (created with its storage state).

    `first` is the context's initial tab; it becomes the first of the checkpoint's tabs.
    Returns the current tab, with its sessionStorage and form values put back.
    """
    pages: list[Page] = []
    for index, url in enumerate(checkpoint.tabs):
        page = first if index == 0 else await context.new_page()
        if url and url != "about:blank":
            await page.goto(url, wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS)
        pages.append(page)
    if not pages:
        return first
    current = pages[min(checkpoint.current, len(pages) - 1)]
    if checkpoint.session_storage:
        # sessionStorage belongs to the tab, not the context: set it, then let the page's own
        # scripts see it by loading the page again.
        await current.evaluate(
            "items => { for (const [k, v] of Object.entries(items)) sessionStorage.setItem(k, v) }",
            checkpoint.session_storage,
        )
        await current.reload(wait_until="domcontentloaded", timeout=NAVIGATION_TIMEOUT_MS)
    if checkpoint.form_fields:
        fields = [field.model_dump(exclude_none=True) for field in checkpoint.form_fields]
        await current.evaluate(_form_js(), {"mode": "restore", "fields": fields})
    await current.bring_to_front()
    return current
