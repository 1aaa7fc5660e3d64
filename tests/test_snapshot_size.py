"""The page description is no bigger than it has to be, and its short notations lose nothing:
no `role=clickable`, `<checkbox>`/`<radio>` labelled by their TEXT, `collapsed`, a `Title:` line
only when the page does not already say the title (docs/page-format.md)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from playwright.async_api import Page

from tests.fixtures.fake_policy import parse_page
from tests.fixtures.fidelity_pages import PAGES, add_fidelity_pages
from tests.fixtures.sites import SiteServer
from wayfinder.actions import ClickAction
from wayfinder.browser.actions import execute_action
from wayfinder.browser.snapshot import take_snapshot

HEADER = re.compile(r"^(URL|Title|Tabs|Scroll): ")


def line_for(text: str, element_id: str) -> str:
    return next(ln for ln in text.splitlines() if ln.lstrip().startswith(f"[{element_id}]<"))


@pytest.mark.parametrize(
    ("html", "title_line"),
    [
        ("<title>Products</title><h1>Products</h1>", None),  # the <h1> says it
        ("<title>products</title><h1>All  Products (24)</h1>", None),  # whole words, any case
        ("<title>Acme</title><a href='/'>Acme</a>", None),  # a logo link says it
        ("<title>Products | Acme</title><h1>Products</h1>", "Title: Products | Acme"),
        ("<title>Home</title><p>Homepage</p>", "Title: Home"),  # not as a whole word
    ],
)
async def test_title_only_when_the_page_does_not_say_it(
    page: Page, html: str, title_line: str | None
) -> None:
    await page.set_content(html)
    lines = (await take_snapshot(page)).text.splitlines()
    titles = [ln for ln in lines if ln.startswith("Title:")]
    assert titles == ([title_line] if title_line else [])
    if title_line:
        assert lines[1] == title_line  # right after the URL


async def test_checkboxes_and_radios_are_short_and_complete(page: Page) -> None:
    await page.set_content(
        """<label><input type=radio name=size value=s> Small</label>
           <label><input type=radio name=size value=l checked> Large</label>
           <input type=checkbox name=gift aria-label="Gift wrap">
           <label>Terms <input type=checkbox name=tos disabled></label>"""
    )
    snap = await take_snapshot(page)
    by_name = {e.name: e for e in snap.elements.values()}
    small, large, gift, tos = (by_name[n] for n in ("Small", "Large", "Gift wrap", "Terms"))
    assert line_for(snap.text, small.id).endswith("]<radio name=size>Small")
    assert line_for(snap.text, large.id).endswith("]<radio name=size checked>Large")
    assert line_for(snap.text, gift.id).endswith('<checkbox name=gift aria-label="Gift wrap">')
    assert line_for(snap.text, tos.id).endswith("]<checkbox name=tos disabled>Terms")
    assert not re.search(r"\s(?:type|label)=", snap.text)
    # The element table keeps the real tag and attributes; actions find the input.
    assert (small.tag, small.attributes["type"], small.describe()) == (
        "input",
        "radio",
        "radio 'Small'",
    )
    await execute_action(page, snap, ClickAction(element_id=small.id))
    assert await page.locator("input[value=s]").is_checked()
    # The fake model reads the notation as what it is: a labelled input of that type.
    parsed = {e.id: e for e in parse_page(snap.text).elements}
    assert parsed[large.id].is_checkbox and parsed[large.id].checked
    assert (parsed[large.id].tag, parsed[large.id].input_type) == ("input", "radio")
    assert parsed[large.id].attr("label") == "Large"
    assert parsed[tos.id].disabled


async def test_roles_shown_only_when_they_say_something(page: Page) -> None:
    await page.set_content(
        """<ul role=tablist><li role=tab aria-expanded=false>
             <a role=presentation href="#t1">First</a></li></ul>
           <div onclick="void 0">Row one</div>
           <span role=none tabindex=0>Row two</span>
           <details><summary>More</summary>Hidden text<p>Hidden paragraph</p></details>"""
    )
    snap = await take_snapshot(page)
    assert "role=clickable" not in snap.text and "role=presentation" not in snap.text
    assert "role=none" not in snap.text and "expanded=false" not in snap.text
    refs = {e.name: e for e in snap.elements.values()}
    assert re.search(r"\]<a href=\S+>First$", line_for(snap.text, refs["First"].id))
    assert line_for(snap.text, refs["Row one"].id).endswith("]<div>Row one")
    assert line_for(snap.text, refs["Row two"].id).endswith("]<span>Row two")
    assert refs["Row one"].role == refs["Row two"].role == "clickable"  # the table still knows
    assert line_for(snap.text, refs["More"].id).endswith("]<summary collapsed>More")
    assert re.search(r"\]<li role=tab collapsed>", snap.text)
    assert "Hidden" not in snap.text  # what a closed <details> holds is not shown


async def test_url_line_is_the_navigable_url_without_angle_brackets(page: Page) -> None:
    await page.goto('data:text/html,<title>T</title><p>a "b"</p><button>Go</button>')
    text = (await take_snapshot(page)).text
    url_line = text.splitlines()[0]
    match = re.fullmatch(r"URL: (\S*)", url_line)
    assert match and unquote(match[1]) == page.url
    # The only < > left are the description's own element markup.
    assert re.sub(r"^ *\[\d+\]<[\w-]+[^>]*>", "", text, flags=re.M).count("<") == 0
    assert ">" not in url_line


@pytest.mark.parametrize("path", sorted(PAGES))
async def test_body_is_at_most_aria_on_fidelity_pages(
    page: Page, sites: SiteServer, path: str
) -> None:
    """Without its header (aria has no URL), the description is no bigger than aria_snapshot()."""
    add_fidelity_pages(sites)
    await page.goto(sites.url + path)
    text = (await take_snapshot(page)).text
    body = "\n".join(ln for ln in text.splitlines() if not HEADER.match(ln))
    assert len(body) <= len(await page.locator("body").aria_snapshot())


async def test_page_format_doc_example_is_what_is_built(page: Page) -> None:
    """docs/page-format.md's example prints what take_snapshot builds today."""
    doc = (Path(__file__).parents[1] / "docs" / "page-format.md").read_text(encoding="utf-8")
    html = re.search(r'^HTML = """(.*?)"""$', doc, re.M | re.S)
    printed = re.search(r"It prints \(1280.720 viewport\):\n\n```\n(.*?)\n```", doc, re.S)
    assert html and printed
    await page.set_content(html[1])
    snap = await take_snapshot(page)
    assert f"{snap.text}\n{snap.token_estimate} tokens" == printed[1]
