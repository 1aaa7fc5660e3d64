"""Typing a secret (a 2FA code) into a field so that nothing reads it back."""

from __future__ import annotations

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from wayfinder.browser.action_errors import ActionError, explain, is_fatal
from wayfinder.browser.element_actions import find_element, is_text_field
from wayfinder.browser.settle import Settler, current_page

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
    wanted = f'[data-wf-id="{element_id.strip().strip("[]").strip()}"]'
    found = await find_element(frame.locator(wanted) for frame in page.frames)
    if found is None:
        raise ActionError(
            f"There is no element [{element_id}] on the page any more; use an id from the "
            "latest page description."
        )
    loc, info = found
    if not is_text_field(info) or info["disabled"] or info["readOnly"]:
        raise ActionError(
            f"[{element_id}] is not a text field that can be typed into; call "
            "enter_verification_code on the field that asks for the code."
        )
    new_pages: list[Page] = []

    def on_page(new: Page) -> None:
        new_pages.append(new)

    page.context.on("page", on_page)
    try:
        async with Settler(page) as settler:
            # evaluate_all: one round trip (`loc` is the one element found)
            await loc.evaluate_all(f"els => els.forEach(e => e.setAttribute('{SECRET_MARK}', ''))")
            try:
                await loc.fill(secret, timeout=timeout_ms)
                if press_enter:
                    await loc.press("Enter", timeout=timeout_ms)
            except PlaywrightError as exc:
                if is_fatal(exc):
                    raise
                why = explain(exc, f"type the code into [{element_id}]", timeout_ms)
                raise ActionError(why.replace(secret, "******")) from None
            if not page.is_closed():
                await settler.settle(timeout_ms)
    finally:
        page.context.remove_listener("page", on_page)
    return await current_page(page, new_pages)
