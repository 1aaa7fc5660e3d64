"""What the page description keeps, checked against what Playwright itself sees of the page
(get_by_role with accessible names, aria_snapshot): names, table cells, images, SVG text, long
textareas, select options, custom drop-downs, and its size."""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import Page

from tests.fixtures.fidelity_pages import add_fidelity_pages
from tests.fixtures.sites import SiteServer
from wayfinder.actions import SelectOptionAction
from wayfinder.browser.actions import execute_action
from wayfinder.browser.snapshot import PageSnapshot, take_snapshot


@pytest.fixture
def fidelity(sites: SiteServer) -> str:
    add_fidelity_pages(sites)
    return sites.url + "/fidelity"


def line_of(snap: PageSnapshot, element_id: str | None) -> str:
    assert element_id is not None
    return next(ln for ln in snap.text.splitlines() if ln.lstrip().startswith(f"[{element_id}]<"))


async def wf_id(page: Page, role: str, name: str) -> str | None:
    return await page.get_by_role(role, name=name, exact=True).get_attribute("data-wf-id")  # type: ignore[arg-type]


async def test_names_are_the_accessible_names(page: Page, fidelity: str) -> None:
    await page.goto(fidelity + "/names")
    snap = await take_snapshot(page)
    for role, name in [
        ("button", "Toggle theme"),  # visually hidden text
        ("link", "Home"),  # an icon link's <img alt>
        ("link", "Read more about durable agents"),  # visible + visually hidden text
        ("textbox", "Username"),  # aria-labelledby
        ("textbox", "Search"),  # a <label> that is an <img alt>
        ("textbox", "Postal code"),  # title
        ("button", "Close dialog"),  # aria-label
    ]:
        line = line_of(snap, await wf_id(page, role, name))
        assert name in line, (role, name, line)
    assert "Revenue 2026: 42k" in snap.text.splitlines()  # the text an SVG draws


async def test_table_keeps_every_cell_in_rows(page: Page, fidelity: str) -> None:
    await page.goto(fidelity + "/table")
    snap = await take_snapshot(page)
    lines = snap.text.splitlines()
    assert "Name | Category | Price | In stock" in lines
    # Each product row: its link, then the rest of the row, every cell in place, including
    # repeated ones ("Tools", "$12.00", "$8.50") and the boolean column's <img alt>.
    rows = []
    for link in await page.get_by_role("link").all():
        name = (await link.text_content() or "").strip()
        i = lines.index(line_of(snap, await link.get_attribute("data-wf-id")))
        assert lines[i].endswith(f">{name}")
        rows.append([name, *[c.strip() for c in lines[i + 1].removeprefix("|").split(" | ")]])
    cells = [
        [(await c.text_content() or "").strip() or await c.locator("img").get_attribute("alt")]
        for c in await page.locator("tbody td").all()
    ]
    assert [c for row in rows for c in row] == [c[0] for c in cells]
    assert sum(r[2] == "$12.00" for r in rows) == 2


async def test_long_textarea_value_shows_its_end(page: Page, fidelity: str) -> None:
    await page.goto(fidelity + "/table")
    snap = await take_snapshot(page)
    area = await page.get_by_role("textbox", name="Notes").get_attribute("data-wf-id")
    line = line_of(snap, area)
    assert line.endswith("word59 lastword") and "word1 word2" in line


def options_of(line: str) -> list[str]:
    body = line.split(">", 1)[1]
    return [json.loads(o) for o in re.findall(r'"(?:[^"\\]|\\.)*"', body)]


async def test_select_options_are_distinct_and_unambiguous(page: Page, fidelity: str) -> None:
    await page.goto(fidelity + "/selects")
    snap = await take_snapshot(page)
    branch = options_of(line_of(snap, await wf_id(page, "combobox", "Branch")))
    assert len(branch) == len(set(branch)) == 12
    sep = options_of(line_of(snap, await wf_id(page, "combobox", "Separator")))
    assert sep == ["Red | Green", "Blue", '"Quoted"']
    # A long list is shortened while the select is not being worked on...
    country_id = await wf_id(page, "combobox", "Country")
    line = line_of(snap, country_id)
    assert len(options_of(line)) == 20 and line.endswith("… 20 more")
    # ...but shows every option when it is focused, or named as the snapshot's focus.
    hinted = await take_snapshot(page, focus_id=country_id)
    assert options_of(line_of(hinted, country_id))[-1] == "Country 40"
    await page.get_by_role("combobox", name="Country").focus()
    focused = await take_snapshot(page)
    assert len(options_of(line_of(focused, country_id))) == 40


@pytest.mark.parametrize("hiding", ["clipped", "transparent"])
async def test_custom_dropdown_on_a_hidden_select(page: Page, fidelity: str, hiding: str) -> None:
    await page.goto(fidelity + "/dropdown")
    if hiding == "transparent":  # full size, opacity 0, under the widget
        await page.evaluate(
            "() => { const s = document.getElementById('colour'); s.className = '';"
            " s.style.cssText = 'position:absolute;opacity:0;width:220px;height:30px'; }"
        )
    snap = await take_snapshot(page)
    select = next(e for e in snap.elements.values() if e.tag == "select")
    assert options_of(line_of(snap, select.id)) == ["Choose…", "Crimson", "Emerald", "Sapphire"]
    await execute_action(page, snap, SelectOptionAction(element_id=select.id, option="Emerald"))
    assert await page.locator("#out").text_content() == "Chosen: Emerald"
    assert await page.locator("#dd .current").text_content() == "Emerald"  # the widget follows


async def test_small_page_has_no_scroll_line_and_fits_aria_size(page: Page, fidelity: str) -> None:
    await page.goto(fidelity + "/tiny")
    snap = await take_snapshot(page)
    lines = snap.text.splitlines()
    assert lines[0] == f'URL: {fidelity}/tiny "Tiny"'
    assert not any(ln.startswith("Scroll:") for ln in lines)
    body = "\n".join(lines[1:])
    assert len(body) <= len(await page.locator("body").aria_snapshot())


async def test_short_repeated_text_is_kept(page: Page) -> None:
    cards = "".join(
        f"<div><h3>Item {i}</h3><p>{price}</p><p>In stock</p><button>Add</button></div>"
        for i, price in enumerate(["$5.00", "$5.00", "$7.00"])
    )
    await page.set_content(cards)
    lines = (await take_snapshot(page)).text.splitlines()
    assert lines.count("In stock") == 3
    assert lines.count("$5.00") == 2
