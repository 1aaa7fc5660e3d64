"""Page description against Playwright's `aria_snapshot()`: size and coverage.

For each page (the fixture sites, the fidelity pages of tests/fixtures/fidelity_pages.py, and
the MiniWoB++ tasks when the `miniwob` package is installed: `pip install miniwob`, which ships
the tasks' HTML), on a 1280x720 viewport:

* size ratio = len(take_snapshot(page).text) / (len(aria) + len("URL: <url>\\n")), where aria is
  page.locator("body").aria_snapshot(): an agent that reads aria_snapshot() must be told the URL
  too. Also against aria alone, and without the description's header (its URL line with the
  quoted title, `Tabs:`, `Scroll:`). The pages still over aria + URL line are listed, with the
  characters the quoted title costs. And against aria + URL + title lines (`Title: <title>\n`,
  when the page has one): what an agent sends that tells the model the page's title as well,
  as Playwright's MCP server does (its Page URL and Page Title lines above the snapshot); and
  against aria_snapshot(mode="ai") + URL line: the snapshot an agent that acts on the page must
  send, with a `[ref=eN]` per element to act on (what Playwright's MCP server sends);
* coverage: every interactable that the aria snapshot lists (button, link, textbox, checkbox,
  option, ...) in or near the viewport (one viewport below, half above, as the description's own
  NEAR_* rules), located with Playwright's get_by_role(role, name=...). It counts as missed when
  the description shows no element line for it, or shows one without its accessible name.

    .venv/bin/python -m bench.page_size [--miniwob-limit N] [--show-missed] [--dump DIR]

`--dump DIR` writes each page's description and aria snapshot to DIR/<page>.txt, one after the
other, to compare them where the ratio is worst.

Everything is served from 127.0.0.1 (MiniWoB++ by a tiny static http server).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.server
import re
import statistics
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, async_playwright

from tests.fixtures.fidelity_pages import PAGES as FIDELITY_PAGES
from tests.fixtures.fidelity_pages import add_fidelity_pages
from tests.fixtures.sites import SiteServer
from wayfinder.browser.host import CHROMIUM_ARGS, find_chromium
from wayfinder.browser.page_text import URL_LINE, header_url
from wayfinder.browser.snapshot import take_snapshot

FIXTURE_PAGES = ["/news", "/products", "/contact", "/shop/category/garden", "/frames", "/shadow"]
INTERACTIVE = {
    "button", "link", "textbox", "checkbox", "radio", "combobox", "listbox", "option",
    "slider", "spinbutton", "searchbox", "tab", "menuitem", "switch", "treeitem",
}  # fmt: skip
_HEADER = re.compile(r"^(URL|Tabs|Scroll): ")
_ARIA_LINE = re.compile(r'^\s*- (?P<role>[a-z]+)(?: "(?P<name>(?:[^"\\]|\\.)*)")?')


@dataclass
class Figures:
    label: str
    description: int
    body: int
    """Characters without the URL/Title/Tabs/Scroll header."""
    aria: int
    url_line: int
    """Characters of a `URL: <url>` line: an agent reading aria_snapshot() needs the URL too."""
    title: int
    """Characters the quoted title costs on the description's URL line (0 when not shown)."""
    title_line: int
    """Characters of a `Title: <title>` line (0 for a page without a title)."""
    aria_ai: int
    """Characters of aria_snapshot(mode="ai"): with the refs an agent acts on."""
    near: int = 0
    missed: list[str] = field(default_factory=list)
    texts: tuple[str, str] = ("", "")
    """(description, aria snapshot), for --dump."""

    @property
    def ratio(self) -> float:
        return self.description / max(self.aria, 1)

    @property
    def body_ratio(self) -> float:
        return self.body / max(self.aria, 1)

    @property
    def with_url_ratio(self) -> float:
        return self.description / max(self.aria + self.url_line, 1)

    @property
    def with_url_title_ratio(self) -> float:
        return self.description / max(self.aria + self.url_line + self.title_line, 1)

    @property
    def ai_ratio(self) -> float:
        return self.description / max(self.aria_ai + self.url_line, 1)


def _norm(text: str) -> str:
    # The description writes page text's < > as \u2039 \u203a (docs/page-format.md).
    text = text.replace("\u2039", "<").replace("\u203a", ">")
    return " ".join(text.split()).casefold()


async def _coverage(page: Page, aria: str, description: str) -> tuple[int, list[str]]:
    lines = {m[1]: m[0] for m in re.findall(r"^( *\[(\d+)\]<.*)$", description, re.M)}
    vh = page.viewport_size["height"] if page.viewport_size else 720
    wanted: dict[tuple[str, str], int] = {}
    for raw in aria.splitlines():
        m = _ARIA_LINE.match(raw)
        if m and m["role"] in INTERACTIVE:
            key = (m["role"], (m["name"] or "").replace('\\"', '"'))
            wanted[key] = wanted.get(key, 0) + 1
    near, missed = 0, []
    for (role, name), count in wanted.items():
        loc = page.get_by_role(role, name=name, exact=True) if name else page.get_by_role(role)  # type: ignore[arg-type]
        try:
            handles = (await loc.element_handles())[: count if name else 50]
        except PlaywrightError:
            continue
        for handle in handles:
            box = await handle.bounding_box()
            if box is None or box["y"] > 2 * vh or box["y"] + box["height"] < -0.5 * vh:
                continue
            # The element itself, the element or label standing for it, or its select.
            wf_id = await handle.evaluate(
                """el => { const own = el.closest('[data-wf-id]');
                  if (own) return own.getAttribute('data-wf-id');
                  const lab = el.labels && Array.from(el.labels).find(l => l.dataset.wfId);
                  if (lab) return lab.dataset.wfId;
                  const inner = el.querySelector('[data-wf-id]');
                  return inner ? inner.getAttribute('data-wf-id') : null; }"""
            )
            if not name and wf_id is None:
                # Unnamed matches include named ones: only count those aria shows unnamed.
                own = await handle.evaluate("el => el.getAttribute('aria-label') || ''")
                if own:
                    continue
            near += 1
            line = lines.get(wf_id or "")
            if line is None:
                missed.append(f"{role} {name!r}: not listed")
            elif name and _norm(name) not in _norm(line.replace('\\"', '"')):
                missed.append(f"{role} {name!r}: listed without its name: {line.strip()[:100]}")
    return near, missed


async def _measure(page: Page, label: str) -> Figures:
    snap = await take_snapshot(page)
    aria = await page.locator("body").aria_snapshot()
    aria_ai = await page.locator("body").aria_snapshot(mode="ai")
    near, missed = await _coverage(page, aria, snap.text)
    body = "\n".join(ln for ln in snap.text.splitlines() if not _HEADER.match(ln))
    # What an agent reading aria must send too: the URL as `URL: <url>` and a newline, whatever
    # the description's own header looks like.
    url_line = len(header_url(page.url)) + 1
    header = URL_LINE.match(snap.text.splitlines()[0])
    title = len(header["title"]) + 3 if header and header["title"] is not None else 0
    title_line = len(f"Title: {snap.title}\n") if snap.title else 0
    return Figures(
        label,
        len(snap.text),
        len(body),
        len(aria),
        url_line,
        title,
        title_line,
        len(aria_ai),
        near,
        missed,
        (snap.text, aria),
    )


@contextlib.contextmanager
def _static_server(root: Path) -> Iterator[str]:
    handler = functools.partial(_QuietStatic, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietStatic(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _miniwob_root() -> Path | None:
    try:
        import miniwob  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return Path(miniwob.__file__).parent / "html"


async def _miniwob(page: Page, limit: int | None) -> list[Figures]:
    root = _miniwob_root()
    if root is None:
        print("(miniwob not installed: `pip install miniwob` to measure the MiniWoB++ tasks)")
        return []
    tasks = sorted((root / "miniwob").glob("*.html"))[:limit]
    out = []
    with _static_server(root) as base:
        for task in tasks:
            await page.goto(f"{base}/miniwob/{task.name}")
            # Start the episode (the cover's "START" click) with a fixed seed.
            await page.evaluate(
                "() => { if (Math.seedrandom) Math.seedrandom('wayfinder');"
                " if (window.core && core.startEpisodeReal) core.startEpisodeReal(); }"
            )
            await page.wait_for_timeout(150)
            out.append(await _measure(page, task.stem))
    return out


def _p90(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def _figures(what: str, values: list[float]) -> str:
    values = sorted(values)
    return (
        f"  {what:<38} median {statistics.median(values):.2f}x, p90 {_p90(values):.2f}x, "
        f"max {values[-1]:.2f}x ({sum(1 for r in values if r > 1.0)} over 1.0x)"
    )


def _report(title: str, figures: list[Figures], show_missed: bool) -> None:
    if not figures:
        return
    near = sum(f.near for f in figures)
    missed = sum(len(f.missed) for f in figures)
    print(f"{title}: {len(figures)} pages, interactables near the viewport {near}, missed {missed}")
    print(_figures("against aria + URL line:", [f.with_url_ratio for f in figures]))
    print(_figures("against aria + URL + title lines:", [f.with_url_title_ratio for f in figures]))
    print(_figures("against aria alone:", [f.ratio for f in figures]))
    print(_figures('against aria(mode="ai") + URL line:', [f.ai_ratio for f in figures]))
    print(_figures("body (no URL/Tabs/Scroll) vs aria:", [f.body_ratio for f in figures]))
    over = sorted((f for f in figures if f.with_url_ratio > 1.0), key=lambda f: -f.with_url_ratio)
    if over:
        # Why a page is over: the title the URL line quotes (aria has none), or a body bigger
        # than aria's (elements aria does not list: clickable rows, slider handles...).
        print(f"  still over aria + URL line ({len(over)}): page ratio +chars (title chars)")
        print(
            "    "
            + ", ".join(
                f"{f.label} {f.with_url_ratio:.2f}x +{f.description - f.aria - f.url_line}"
                f" ({f.title})"
                for f in over
            )
        )
    for f in figures:
        if show_missed or len(figures) <= 12:
            print(
                f"  {f.label:<32}{f.description:>7} / {f.aria:<7} = {f.ratio:5.2f}x  "
                f"+URL {f.with_url_ratio:4.2f}x  body {f.body_ratio:4.2f}x  "
                f"missed {len(f.missed)}/{f.near}"
            )
        if show_missed:
            for m in f.missed:
                print(f"      {m}")


def _dump(directory: Path, figures: list[Figures]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for f in figures:
        name = re.sub(r"[^\w.-]+", "_", f.label.strip("/")) or "page"
        description, aria = f.texts
        (directory / f"{name}.txt").write_text(
            f"{f.ratio:.2f}x ({f.description} / {f.aria} chars)\n"
            f"---- description\n{description}\n---- aria_snapshot\n{aria}\n",
            encoding="utf-8",
        )


async def main(miniwob_limit: int | None, show_missed: bool, dump: Path | None) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=find_chromium(None), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        with SiteServer() as sites:
            add_fidelity_pages(sites)
            fixtures = []
            for path in FIXTURE_PAGES + list(FIDELITY_PAGES):
                await page.goto(sites.url + path)
                fixtures.append(await _measure(page, path))
        mini = await _miniwob(page, miniwob_limit)
        await browser.close()
    _report("fixture pages", fixtures, show_missed)
    _report("MiniWoB++", mini, show_missed)
    if dump is not None:
        _dump(dump, fixtures + mini)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--miniwob-limit", type=int, default=None)
    parser.add_argument("--show-missed", action="store_true")
    parser.add_argument("--dump", type=Path, default=None, help="write each page's texts here")
    args = parser.parse_args()
    asyncio.run(main(args.miniwob_limit, args.show_missed, args.dump))
