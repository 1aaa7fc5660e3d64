"""The page description is no bigger than it has to be, and its short notations lose nothing:
no `role=clickable`, `<checkbox>`/`<radio>` labelled by their TEXT, `collapsed`, the title quoted
on the URL line and only when the page does not already say it, a role written as the tag, no
`name=` that repeats the line, no bare wrapper around one element (docs/page-format.md). On every
fixture page the description is at most aria_snapshot() plus the URL line an agent reading aria
must be sent too."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from playwright.async_api import Page

from bench.page_size import FIXTURE_PAGES
from tests.fixtures.fake_policy import parse_page
from tests.fixtures.fidelity_pages import PAGES, add_fidelity_pages
from tests.fixtures.sites import SiteServer
from wayfinder.actions import ClickAction, InputTextAction
from wayfinder.browser.actions import execute_action
from wayfinder.browser.page_text import URL_LINE, header_url
from wayfinder.browser.snapshot import take_snapshot

HEADER = re.compile(r"^(URL|Tabs|Scroll): ")


def line_for(text: str, element_id: str) -> str:
    return next(ln for ln in text.splitlines() if ln.lstrip().startswith(f"[{element_id}]<"))


@pytest.mark.parametrize(
    ("html", "title"),
    [
        ("<title>Products</title><h1>Products</h1>", None),  # the <h1> says it
        ("<title>products</title><h1>All  Products (24)</h1>", None),  # whole words, any case
        ("<title>Acme</title><a href='/'>Acme</a>", None),  # a logo link says it
        ("<title>Products | Acme</title><h1>Products</h1>", "Products | Acme"),
        ("<title>Home</title><p>Homepage</p>", "Home"),  # not as a whole word
        ('<title>Say "hi" &lt;3</title>', "Say 'hi' \u20393"),  # the quotes stay unambiguous
    ],
)
async def test_title_on_the_url_line_only_when_the_page_does_not_say_it(
    page: Page, html: str, title: str | None
) -> None:
    await page.set_content(html)
    text = (await take_snapshot(page)).text
    lines = text.splitlines()
    assert not any(ln.startswith("Title:") for ln in lines)
    header = URL_LINE.fullmatch(lines[0])
    assert header and header["url"] == "about:blank" and header["title"] == title
    if title:
        assert lines[0] == f'URL: about:blank "{title}"'
        # 5 characters less than the `Title: t` line of its own it replaces.
        assert len(lines[0]) == len(f"URL: about:blank\nTitle: {title}") - 5
    # The fake model reads URL and title from the project's URL_LINE.
    parsed = parse_page(text)
    assert (parsed.url, parsed.title or None) == ("about:blank", title)


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
    assert re.search(r"\]<tab collapsed>$", snap.text, re.M)
    assert "Hidden" not in snap.text  # what a closed <details> holds is not shown


async def test_a_role_is_written_as_the_tag(page: Page) -> None:
    await page.set_content(
        """<div role=tab aria-selected=true>Details</div>
           <span role=checkbox aria-checked=true tabindex=0>Gift wrap</span>
           <div role=textbox contenteditable>Draft</div>
           <ul role=listbox aria-label="Fruit"><li role=option>Apple</li></ul>
           <a role=button href="/next">Next</a>
           <input role=combobox name=city aria-label="Town">"""
    )
    snap = await take_snapshot(page)
    refs = {e.name: e for e in snap.elements.values()}
    lines = {name: line_for(snap.text, ref.id) for name, ref in refs.items()}
    assert lines["Details"].endswith("]<tab selected>Details")
    assert lines["Gift wrap"].endswith("]<checkbox checked>Gift wrap")
    assert lines["Draft"].endswith("]<textbox>Draft")
    assert lines["Fruit"].endswith(']<listbox aria-label="Fruit">')
    assert lines["Apple"].endswith("]<option>Apple")
    # Tags that say how to act keep themselves and show the role.
    assert lines["Next"].endswith(']<a role=button href="/next">Next')
    assert lines["Town"].endswith(']<input name=city role=combobox aria-label="Town">')
    # Shorter than `<div role=tab selected>`: the tag is dropped, not the role.
    assert len(lines["Details"]) == len(f"[{refs['Details'].id}]<div role=tab selected>Details") - 9
    # The table keeps the real tag; the fake model reads the role from the tag.
    assert (refs["Details"].tag, refs["Details"].role) == ("div", "tab")
    assert (refs["Gift wrap"].tag, refs["Gift wrap"].role) == ("span", "checkbox")
    parsed = {e.id: e for e in parse_page(snap.text).elements}
    assert parsed[refs["Details"].id].role == "tab"
    assert parsed[refs["Gift wrap"].id].is_checkbox and parsed[refs["Gift wrap"].id].checked
    assert parsed[refs["Draft"].id].is_text_field
    assert parsed[refs["Fruit"].id].is_select and parsed[refs["Next"].id].is_link


async def test_name_left_out_only_when_it_repeats_the_line(page: Page) -> None:
    await page.set_content(
        """<label>First name: <input name=first_name></label>
           <label>Password <input type=password name=password></label>
           <input type=email name=email placeholder="Email">
           <input type=radio name=radio aria-label="Yes">
           <label>Search <input name=q></label>
           <label><input type=checkbox name=news> Newsletter</label>"""
    )
    snap = await take_snapshot(page)
    refs = {e.name: e for e in snap.elements.values()}
    first, pw, email = refs["First name:"], refs["Password"], refs["Email"]
    assert line_for(snap.text, first.id).endswith(']<input label="First name:">')
    assert line_for(snap.text, pw.id).endswith(']<input type=password label="Password">')
    assert line_for(snap.text, email.id).endswith(']<input type=email placeholder="Email">')
    assert line_for(snap.text, refs["Yes"].id).endswith(']<radio aria-label="Yes">')
    # A name that says something else stays.
    assert line_for(snap.text, refs["Search"].id).endswith(']<input name=q label="Search">')
    assert line_for(snap.text, refs["Newsletter"].id).endswith("]<checkbox name=news>Newsletter")
    assert snap.text.count("name=") == 2
    # The element table keeps every name, and the field is still filled by its id.
    assert (first.attributes["name"], pw.attributes["name"]) == ("first_name", "password")
    await execute_action(page, snap, InputTextAction(element_id=first.id, text="Ada"))
    assert await page.locator("input[name=first_name]").input_value() == "Ada"
    parsed = {e.id: e for e in parse_page(snap.text).elements}
    assert parsed[first.id].is_text_field and parsed[first.id].attr("label") == "First name:"


async def test_bare_wrapper_around_one_element_is_not_listed(page: Page) -> None:
    await page.set_content(
        """<ul role=menu>
             <li style="cursor:pointer" onclick="document.title = 'picked ' + this.textContent">
               <a href="#pavia">Pavia</a></li>
             <li onclick="void 0">Rome <a href="#rome-map">map</a></li>
             <li onclick="void 0" aria-label="Vienna"><a href="#vienna">Wien</a></li>
           </ul>"""
    )
    snap = await take_snapshot(page)
    lines = snap.text.splitlines()
    pavia = next(e for e in snap.elements.values() if e.name == "Pavia")
    assert line_for(snap.text, pavia.id).endswith('#pavia">Pavia')
    # The wrapping <li> has no line, no id in the table, no data-wf-id left in the page.
    assert lines[1] == line_for(snap.text, pavia.id)
    assert [e.tag for e in snap.elements.values()].count("li") == 2
    assert await page.locator("li[data-wf-id]").count() == 2
    # A click on the element inside does what a click on the wrapper did.
    await execute_action(page, snap, ClickAction(element_id=pavia.id))
    assert await page.title() == "picked Pavia"
    # A wrapper with text or an attribute of its own is listed.
    assert lines[lines.index("Rome") - 1].endswith("]<li>")
    assert any(ln.endswith(']<li aria-label="Vienna">') for ln in lines)


async def test_url_line_is_the_navigable_url_without_angle_brackets(page: Page) -> None:
    await page.goto('data:text/html,<title>T</title><p>a "b"</p><button>Go</button>')
    text = (await take_snapshot(page)).text
    url_line = text.splitlines()[0]
    match = URL_LINE.fullmatch(url_line)
    assert match and unquote(match["url"]) == page.url and match["title"] == "T"
    # The only < > left are the description's own element markup.
    assert re.sub(r"^ *\[\d+\]<[\w-]+[^>]*>", "", text, flags=re.M).count("<") == 0
    assert ">" not in url_line


@pytest.mark.parametrize("path", FIXTURE_PAGES + sorted(PAGES))
async def test_at_most_aria_plus_url_line_on_fixture_pages(
    page: Page, sites: SiteServer, path: str
) -> None:
    """An agent reading aria_snapshot() must be sent the URL too: with that line the description
    is no bigger than aria on any fixture page; without its header it is no bigger than aria."""
    add_fidelity_pages(sites)
    await page.goto(sites.url + path)
    text = (await take_snapshot(page)).text
    aria = await page.locator("body").aria_snapshot()
    assert len(text) <= len(aria) + len(header_url(page.url)) + 1
    body = "\n".join(ln for ln in text.splitlines() if not HEADER.match(ln))
    assert len(body) <= len(aria)


async def test_page_format_doc_example_is_what_is_built(page: Page) -> None:
    """docs/page-format.md's example prints what take_snapshot builds today."""
    doc = (Path(__file__).parents[1] / "docs" / "page-format.md").read_text(encoding="utf-8")
    html = re.search(r'^HTML = """(.*?)"""$', doc, re.M | re.S)
    printed = re.search(r"It prints \(1280.720 viewport\):\n\n```\n(.*?)\n```", doc, re.S)
    assert html and printed
    await page.set_content(html[1])
    snap = await take_snapshot(page)
    assert f"{snap.text}\n{snap.token_estimate} tokens" == printed[1]
