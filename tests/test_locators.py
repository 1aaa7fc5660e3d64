"""Recording how to find an element again, on the fixture sites in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.fixtures.sites import SiteServer
from wayfinder import Client, RunStatus
from wayfinder.actions import ClickAction
from wayfinder.browser.actions import execute_action
from wayfinder.browser.locators import (
    ActionRecorder,
    TargetNotFoundError,
    record_target,
    resolve_target,
    to_playwright,
)
from wayfinder.browser.snapshot import PageSnapshot, take_snapshot
from wayfinder.scripts.model import ElementTarget


async def _snapshot(page: Page, url: str) -> PageSnapshot:
    await page.goto(url)
    return await take_snapshot(page, token_budget=6000)


def _id_of(snapshot: PageSnapshot, description: str) -> str:
    return next(i for i, ref in snapshot.elements.items() if ref.describe() == description)


async def _target(page: Page, snapshot: PageSnapshot, description: str) -> ElementTarget:
    target = await record_target(page, snapshot, _id_of(snapshot, description))
    assert target is not None
    return target


@pytest.mark.parametrize("path", ["/contact", "/products", "/frames", "/shadow", "/news"])
async def test_every_recorded_locator_finds_its_element_and_no_other(
    page: Page, sites: SiteServer, path: str
) -> None:
    snapshot = await _snapshot(page, sites.url + path)
    assert snapshot.elements
    for element_id, ref in list(snapshot.elements.items())[:15]:
        target = await record_target(page, snapshot, element_id)
        assert target is not None and target.locators, ref.describe()
        frame = page.frames[ref.frame_index]
        for locator in target.locators:
            ids = await to_playwright(frame, locator).evaluate_all(
                "els => els.map(e => e.dataset.wfId)"
            )
            assert ids == [element_id], (ref.describe(), locator.describe())
        # And a rerun finds it the same way, from the main page through the frames.
        found = await resolve_target(page, target, timeout_ms=0)
        assert await found.get_attribute("data-wf-id") == element_id


async def test_form_fields_are_found_by_role_and_label_first(page: Page, sites: SiteServer) -> None:
    snapshot = await _snapshot(page, f"{sites.url}/contact")
    email = await _target(page, snapshot, "input 'Email'")
    assert [loc.describe() for loc in email.locators] == [
        "get_by_role('textbox', name='Email', exact=True)",
        "get_by_label('Email', exact=True)",
        "locator('#email')",
    ]
    assert (email.tag, email.input_type, email.field_name, email.secret) == (
        "input",
        "email",
        "Email",
        False,
    )
    send = await _target(page, snapshot, "button 'Send message'")
    assert send.locators[0].describe() == "get_by_role('button', name='Send message', exact=True)"


async def test_a_button_repeated_on_every_card_is_found_within_its_card(
    page: Page, sites: SiteServer
) -> None:
    snapshot = await _snapshot(page, f"{sites.url}/products")
    buttons = [i for i, r in snapshot.elements.items() if r.describe() == "button 'Add to cart'"]
    target = await record_target(page, snapshot, buttons[1])
    assert target is not None
    assert target.locators[0].describe() == (
        "locator('article').filter(has_text='Widget B')"
        ".get_by_role('button', name='Add to cart', exact=True)"
    )


async def test_a_password_field_is_marked_secret(page: Page) -> None:
    await page.set_content(
        '<label for="pw">Password</label><input id="pw" type="password" name="pw">'
        '<label>Code <input autocomplete="one-time-code" name="otp"></label>'
    )
    snapshot = await take_snapshot(page, token_budget=6000)
    password = await _target(page, snapshot, "input 'Password'")
    code = await _target(page, snapshot, "input 'Code'")
    assert password.secret and code.secret
    assert password.field_name == "Password"


async def test_a_role_name_playwright_would_not_resolve_is_asked_of_playwright(
    page: Page,
) -> None:
    # The description names a field by its `name=` when nothing else names it; Playwright's
    # accessible name of it is empty, so its role locator comes from Playwright's ARIA snapshot.
    await page.set_content(
        '<input name="q"><input name="r"><button title="Run the search">Go</button>'
    )
    snapshot = await take_snapshot(page, token_budget=6000)
    query = await _target(page, snapshot, "input 'q'")
    shown = [loc.describe() for loc in query.locators]
    assert "get_by_role('textbox', name='q', exact=True)" not in shown
    assert query.field_name == "q"  # still named for the published code's parameter
    found = await resolve_target(page, query, timeout_ms=0)
    assert await found.get_attribute("name") == "q"
    go = await _target(page, snapshot, "button 'Go'")
    assert go.locators[0].describe() == "get_by_role('button', name='Go', exact=True)"


async def test_a_button_in_an_iframe_is_clicked_through_its_frame(
    page: Page, sites: SiteServer
) -> None:
    snapshot = await _snapshot(page, f"{sites.url}/frames")
    target = await _target(page, snapshot, "button 'Confirm order'")
    assert target.frames == ["html > body > main > iframe"]
    await page.reload()  # a fresh document: no snapshot ids, as on a rerun
    await (await resolve_target(page, target)).click()
    assert "Order confirmed" in await page.frames[1].inner_text("body")


async def test_a_redesigned_button_fails_with_every_locator_named(
    page: Page, sites: SiteServer
) -> None:
    snapshot = await _snapshot(page, f"{sites.url}/contact")
    target = await _target(page, snapshot, "button 'Send message'")
    await page.evaluate(
        """() => { const b = document.querySelector('form button');
                   b.textContent = 'Submit'; b.id = 'go'; b.className = 'primary';
                   const row = document.createElement('div'); b.replaceWith(row);
                   row.append(b); }"""
    )
    with pytest.raises(TargetNotFoundError) as raised:
        await resolve_target(page, target, timeout_ms=300)
    message = str(raised.value)
    assert "get_by_role('button', name='Send message', exact=True): matches nothing" in message
    assert "locator('html > body > main > form > button')" in message


async def test_the_recorder_notes_what_appeared_after_the_action(page: Page) -> None:
    await page.set_content(
        "<h1>Settings</h1><p>Nothing saved yet</p>"
        "<button onclick=\"document.body.insertAdjacentHTML('beforeend', "
        "'<p role=status>Saved your settings.</p>')\">Save</button>"
    )
    snapshot = await take_snapshot(page, token_budget=6000)
    action = ClickAction(element_id=_id_of(snapshot, "button 'Save'"))
    recorder = await ActionRecorder.start(page, snapshot, action)
    page = await execute_action(page, snapshot, action)
    after = await recorder.finish(page)
    assert recorder.target is not None
    best = recorder.target.locators[0]
    assert best.describe() == "get_by_role('button', name='Save', exact=True)"
    assert after is not None and after.text == "Saved your settings."


async def test_every_action_of_one_answer_is_recorded_with_the_page_after_it(
    client: Client, sites: SiteServer
) -> None:
    # The fake model fills the whole form in one answer: six actions, one step.
    run = await client.run_task(
        'Fill "Grace Hopper" into "Name", fill "grace@example.com" into "Email", select "Billing" '
        'from "Topic", fill "Hello." into "Message", check "I agree", then click "Send".',
        url=f"{sites.url}/contact",
        wait_for_completion=True,
    )
    assert run.status is RunStatus.completed, run.failure_reason
    acted = [s for s in await client.get_run_steps(run.run_id) if s.action_type != "complete"]
    assert [s.element for s in acted] == [
        "input 'Name'",
        "input 'Email'",
        "select 'Topic'",
        "textarea 'Message'",
        "checkbox 'I agree to the privacy policy'",
        "button 'Send message'",
    ]
    assert run.usage.model_calls < len(acted)  # several actions did come in one answer
    for step in acted:
        assert step.target is not None and step.target.locators, step.element
        assert step.after is not None, step.element
    # Each after-record read the page right after its own action, not after a later one.
    assert [s.after.url for s in acted if s.after] == [f"{sites.url}/contact"] * 6
    assert acted[-2].after is not None and acted[-2].after.text is None
    assert acted[-1].after is not None
    assert acted[-1].after.text == "Thank you, Grace Hopper! We received your message."
