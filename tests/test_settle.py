"""What the settle after an action protects: content a page loads after a click is there when
execute_action returns, however it is fetched (slow, chained, after a timer, on a new page)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from playwright.async_api import BrowserContext, Page, Route

from wayfinder.actions import ClickAction, InputTextAction
from wayfinder.browser.actions import execute_action
from wayfinder.browser.snapshot import PageSnapshot, take_snapshot

SITE = "http://settle.test"
SLOW_S = 0.4
"""How long the fixture's API takes to answer: longer than any fixed wait would be."""

LOADER = """<script>
async function load(path) {
  const res = await fetch(path);
  document.getElementById('out').textContent = await res.text();
}
</script><div id="out"></div>"""

PAGES = {
    "/slow": LOADER + "<button onclick=\"load('/api/slow')\">Load</button>",
    "/chain": LOADER
    + """<button onclick="fetch('/api/first').then(r => r.text()).then(p => load(p))">
         Load</button>""",
    "/timer": LOADER + "<button onclick=\"setTimeout(() => load('/api/slow'), 10)\">Load</button>",
    "/go": '<a href="/spa">Open</a>',
    # A response whose handler keeps the page busy for longer than any quiet period of ours,
    # then fetches (as a framework does with a script it has just loaded).
    "/busy": LOADER
    + """<button onclick="fetch('/api/quick').then(() => setTimeout(() => {
           const t = Date.now(); while (Date.now() - t < 300) {}
           load('/api/slow');
         }, 20))">Load</button>""",
    "/type": LOADER + "<label>Search <input oninput=\"setTimeout(() => load('/api/slow'), 10)\">"
    "</label>",
    "/spa": LOADER + "<script>document.addEventListener('DOMContentLoaded', "
    "() => load('/api/slow'))</script>",
}


async def serve(context: BrowserContext) -> None:
    async def handler(route: Route) -> None:
        path = urlparse(route.request.url).path
        if path == "/api/quick":
            await route.fulfill(body="ok", content_type="text/plain")
        elif path == "/api/first":
            await asyncio.sleep(SLOW_S / 2)
            await route.fulfill(body="/api/slow", content_type="text/plain")
        elif path == "/api/slow":
            await asyncio.sleep(SLOW_S)
            await route.fulfill(body="Loaded: 3 results", content_type="text/plain")
        else:
            await route.fulfill(body=PAGES.get(path, ""), content_type="text/html")

    await context.route(f"{SITE}/**", handler)


def by_name(snap: PageSnapshot, name: str) -> str:
    (found,) = [e.id for e in snap.elements.values() if e.name == name]
    return found


async def _click_and_read(page: Page, path: str, name: str) -> str:
    await page.goto(f"{SITE}{path}")
    snap = await take_snapshot(page)
    page = await execute_action(page, snap, ClickAction(element_id=by_name(snap, name)))
    return await page.locator("#out").inner_text()


async def test_content_fetched_after_a_click_is_waited_for(
    context: BrowserContext, page: Page
) -> None:
    await serve(context)
    assert await _click_and_read(page, "/slow", "Load") == "Loaded: 3 results"


async def test_chained_requests_are_waited_for(context: BrowserContext, page: Page) -> None:
    await serve(context)
    assert await _click_and_read(page, "/chain", "Load") == "Loaded: 3 results"


async def test_a_request_started_from_a_timer_is_waited_for(
    context: BrowserContext, page: Page
) -> None:
    await serve(context)
    assert await _click_and_read(page, "/timer", "Load") == "Loaded: 3 results"


async def test_a_request_after_a_busy_script_is_waited_for(
    context: BrowserContext, page: Page
) -> None:
    await serve(context)
    assert await _click_and_read(page, "/busy", "Load") == "Loaded: 3 results"


async def test_a_new_page_loading_its_content_is_waited_for(
    context: BrowserContext, page: Page
) -> None:
    await serve(context)
    assert await _click_and_read(page, "/go", "Open") == "Loaded: 3 results"


async def test_a_request_typing_starts_from_a_timer_is_waited_for(
    context: BrowserContext, page: Page
) -> None:
    # Typing starts no request at once: the settle lets the page's own timers run first.
    await serve(context)
    await page.goto(f"{SITE}/type")
    snap = await take_snapshot(page)
    action = InputTextAction(element_id=by_name(snap, "Search"), text="lamp")
    page = await execute_action(page, snap, action)
    assert await page.locator("#out").inner_text() == "Loaded: 3 results"
