"""A typed 2FA code stays on the page: masked in the page description, left out of checkpoints."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.fixtures.sites import SiteServer
from wayfinder.browser.actions import ActionError, type_secret
from wayfinder.browser.checkpoint import capture
from wayfinder.browser.snapshot import take_snapshot

CODE = "48291375"
FORM = """<!doctype html><title>Verify</title><form onsubmit="return false">
<label>Name <input name="name"></label>
<label>Verification code <input name="code" inputmode="numeric"></label>
<button>Verify</button></form>"""


async def test_a_typed_code_is_masked_and_not_checkpointed(page: Page, sites: SiteServer) -> None:
    sites.add_page("/secret-typing", FORM)
    await page.goto(f"{sites.url}/secret-typing")
    await page.fill("input[name=name]", "Ada")
    snapshot = await take_snapshot(page)
    field = next(ref for ref in snapshot.elements.values() if "Verification" in ref.describe())
    page = await type_secret(page, field.id, CODE, press_enter=False)
    assert await page.input_value("input[name=code]") == CODE  # the site has it
    assert CODE not in (await take_snapshot(page)).text
    checkpoint = await capture(page.context, page)
    assert CODE not in checkpoint.model_dump_json()
    assert "Ada" in checkpoint.model_dump_json()  # other fields are still kept


async def test_a_field_that_is_not_text_is_refused_without_the_code(
    page: Page, sites: SiteServer
) -> None:
    sites.add_page("/secret-typing-button", FORM)
    await page.goto(f"{sites.url}/secret-typing-button")
    snapshot = await take_snapshot(page)
    button = next(ref for ref in snapshot.elements.values() if ref.tag == "button")
    with pytest.raises(ActionError, match="not a text field") as refused:
        await type_secret(page, button.id, CODE, press_enter=True)
    assert CODE not in str(refused.value)
