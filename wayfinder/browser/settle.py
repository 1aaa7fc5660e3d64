"""After an action: wait for the page to settle, and pick the page that is current then."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Page, Request

SETTLE_QUIET_S = 0.05
"""After acting, wait until the page has had no request in flight for this long, and then for a
page turn (`_page_turn`) that starts no request either: a request that follows another (a fetch
chained on a response, the images of content just inserted) starts within milliseconds of the
page running what the last response brought, and a page still busy running it (a script it has
just loaded, which may fetch next) answers the page turn only when it is done. Waiting for the
page rather than for a longer time of ours holds however slow the page's scripts are..."""
SETTLE_TURN_MS = 15
"""...or, when the action started no request at all (typing, toggling), until this much of the
page's own time has passed (see `_page_turn`): its event handlers, their microtasks and the
timers they set for up to this long have run, so any request they start has been issued, and
its event reached us before the page's answer did (events and answers come in order on one
connection). Page time, not ours: on a loaded machine the page's timers are late too...
"""
SETTLE_IDLE_S = 0.03
"""...and at least this long from the end of the action (at the same time), for what the browser
announces itself, not in order with the page's answers: a tab the action opened. (A navigation
of the page is reported by the page itself: see `WATCH_JS`; under load, with requests routed by
Playwright, even 30 ms had let the request of a form submitted with Enter go unseen.)"""
SETTLE_MAX_S = 3.0
"""...but never longer than this (long-polling, analytics beacons, streaming)."""
PAGE_TURN_MAX_S = 0.5
"""A page turn that takes longer (a tab whose timers are throttled) is not waited for."""

WATCH_JS = """() => {
  const key = Symbol.for('wayfinder.navigate');
  if (!window.navigation) return;
  let seen = window[key];
  if (!seen) {
    seen = {event: null, entry: null};
    Object.defineProperty(window, key, {value: seen});
    navigation.addEventListener('navigate', e => {
      seen.event = e;
      seen.entry = navigation.currentEntry;
    });
  }
  seen.event = null;
}"""
"""Before an action: have the document note the next navigation it starts (the Navigation API's
`navigate` event, which fires for every navigation a document starts: a link, a form, a script
setting `location`). Its request is announced by the browser, which under load can come after
the page's answer to our page turn, and a navigation to a `blob:` URL has no request at all."""
PAGE_TURN_JS = """ms => new Promise(done => setTimeout(() => {
  const seen = window[Symbol.for('wayfinder.navigate')];
  const e = seen && seen.event;
  if (seen) seen.event = null;
  done(Boolean(e) && !e.defaultPrevented && !e.destination.sameDocument
       && e.downloadRequest === null && navigation.currentEntry === seen.entry
       && /^(https?|blob|file|about):/.test(e.destination.url));
}, ms))"""
"""`_page_turn`: true when the document has started a navigation to a new document since it
was last asked: one not cancelled, not a download nor a `mailto:` link (which leave the document
as it is), and not turned into a same-document one by a script's `intercept()`."""


class Turn(enum.Enum):
    """What a page turn (`_page_turn`) found."""

    ANSWERED = "answered"
    LEAVING = "leaving"
    """The document answered, and has started a navigation to a new document."""
    GONE = "gone"
    """No answer: the document went away (a navigation committed) or the tab closed."""


class Settler:
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
        self.started = 0
        """Requests started so far (websockets and event streams aside)."""
        self.commit_due = False
        """A new document is on its way to the main frame: its navigation has started, and
        has neither committed nor been aborted (a download, a 204) yet."""
        self._navigation_ended = False
        self._changed = asyncio.Event()
        self._committed = asyncio.Event()

    @property
    def saw_traffic(self) -> bool:
        return self.started > 0

    def _start(self, request: Request) -> None:
        if request.resource_type not in ("websocket", "eventsource"):
            self.inflight.add(request)
            self.last_change = time.monotonic()
            self.started += 1
            self._changed.set()
        if self._is_main_navigation(request):
            self.commit_due = True
            self._committed.clear()

    def _end(self, request: Request) -> None:
        self.inflight.discard(request)
        self.last_change = time.monotonic()
        self._changed.set()

    def _failed(self, request: Request) -> None:
        self._end(request)
        # Aborted: a download or a 204, which leave the document as it is. Any other failure
        # commits Chromium's error page.
        if self._is_main_navigation(request) and "ERR_ABORTED" in (request.failure or ""):
            self._navigation_over()

    def _navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self._navigation_over()

    def _navigation_over(self) -> None:
        self.commit_due = False
        self._navigation_ended = True
        self._committed.set()

    def _leaving(self) -> None:
        """The page said it has started a navigation: a commit is due, unless the navigation
        has already committed or been aborted (its events can come before the page's answer)."""
        if not self._navigation_ended:
            self.commit_due = True
            self._committed.clear()

    def _is_main_navigation(self, request: Request) -> bool:
        try:
            return request.is_navigation_request() and request.frame == self.page.main_frame
        except PlaywrightError:  # a service worker's request has no frame
            return False

    async def __aenter__(self) -> Settler:
        self.page.on("request", self._start)
        self.page.on("requestfinished", self._end)
        self.page.on("requestfailed", self._failed)
        self.page.on("framenavigated", self._navigated)
        try:
            await self.page.evaluate(WATCH_JS)
        except PlaywrightError:
            pass  # a document going away: the settle waits for the next one anyway
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.page.remove_listener("request", self._start)
        self.page.remove_listener("requestfinished", self._end)
        self.page.remove_listener("requestfailed", self._failed)
        self.page.remove_listener("framenavigated", self._navigated)

    async def settle(self, timeout_ms: float) -> None:
        """Wait for DOMContentLoaded, then for a short quiet period; never fails."""
        start = time.monotonic()
        deadline = start + SETTLE_MAX_S
        self.last_change = max(self.last_change, start)
        await self._document(start + min(timeout_ms, 5_000) / 1000)
        if not self.saw_traffic:
            # The page's turn, and a moment of ours for what the browser itself starts (a new
            # tab): together, not one after the other.
            turn, _ = await asyncio.gather(
                _page_turn(self.page),
                asyncio.sleep(max(0.0, start + SETTLE_IDLE_S - time.monotonic())),
            )
            if turn is Turn.ANSWERED and not self.saw_traffic:
                return
            if turn is Turn.LEAVING:
                self._leaving()
        # The action loaded something, perhaps a new document: while we wait for the page to
        # go quiet, Playwright sets up its scripts in it, which the next step's first locator
        # call (recording the element of an action) would otherwise wait for.
        primer = asyncio.create_task(prime(self.page))
        try:
            await self._quiet(deadline)
            await asyncio.wait({primer}, timeout=max(0.0, deadline - time.monotonic()))
        finally:
            primer.cancel()  # done by now, or a page that never answers: not ours to wait for

    async def _quiet(self, deadline: float) -> None:
        """No request in flight for `SETTLE_QUIET_S`, then a page turn that starts none."""
        while await self._no_requests_for_a_while(deadline):
            started = self.started
            turn = await _page_turn(self.page)
            if turn is Turn.LEAVING:
                self._leaving()
            elif self.page.is_closed():
                return
            elif turn is Turn.ANSWERED and self.started == started and not self.commit_due:
                return
            # A new document is coming: its DOMContentLoaded first.
            await self._document(deadline)

    async def _document(self, deadline: float) -> None:
        """Wait for the main frame's new document, when one is due, then for its
        DOMContentLoaded. The commit first: Playwright tracks load states in this process, from
        events that can come after an evaluate in the old document has failed, and until then
        the old document's DOMContentLoaded counts."""
        if self.commit_due:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await self._committed.wait()
        await load_state(self.page, max(0.0, deadline - time.monotonic()) * 1000)

    async def _no_requests_for_a_while(self, deadline: float) -> bool:
        """Wait until no request has been in flight for SETTLE_QUIET_S; False at `deadline`."""
        while (now := time.monotonic()) < deadline:
            quiet_at = self.last_change + SETTLE_QUIET_S
            if not self.inflight and now >= quiet_at:
                return True
            self._changed.clear()
            wake = deadline if self.inflight else min(quiet_at, deadline)
            try:
                async with asyncio.timeout(wake - now):
                    await self._changed.wait()
            except TimeoutError:
                pass  # quiet long enough, or the page never went quiet: the loop decides
        return False


async def prime(page: Page) -> None:
    """Have Playwright set up its injected scripts in the main frame's document (both its
    worlds), as the first locator call on a new document does. Costs two round trips on a
    document that has them; never fails (a page navigating away just needs it again)."""
    root = page.main_frame.locator(":root")
    try:
        await asyncio.gather(root.count(), root.evaluate_all("() => 0"))
    except PlaywrightError:
        pass


async def _page_turn(page: Page) -> Turn:
    """Return once `SETTLE_TURN_MS` of the page's time has passed: what reached the page before
    (an action's events, a response) has been handled, with the microtasks and short timers
    that queued, and a page busy running a script answers only when it is done. The answer says
    whether the document has started a navigation since the action (`WATCH_JS`)."""
    try:
        # Bounded: a tab in the background may have its timers throttled.
        async with asyncio.timeout(PAGE_TURN_MAX_S):
            leaving = await page.evaluate(PAGE_TURN_JS, SETTLE_TURN_MS)
    except PlaywrightError:
        return Turn.GONE
    except TimeoutError:
        return Turn.ANSWERED  # throttled: the request events tell the rest
    return Turn.LEAVING if leaving else Turn.ANSWERED


async def load_state(page: Page, timeout_ms: float) -> None:
    """Wait for the page's DOMContentLoaded; never fails."""
    try:
        await page.wait_for_load_state("domcontentloaded", timeout=timeout_ms)
    except PlaywrightError:
        pass  # slow or closed page: the next snapshot shows what is there


async def current_page(page: Page, new_pages: list[Page]) -> Page:
    """The page the agent should look at next: a freshly opened tab, else this one if open."""
    for new in reversed(new_pages):
        if not new.is_closed():
            await load_state(new, 10_000)
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
