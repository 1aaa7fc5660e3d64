"""Page snapshots against real Chromium: format, ids, visibility, frames, shadow DOM, budget."""

from __future__ import annotations

import re

from playwright.async_api import BrowserContext, Page, Route

from wayfinder.browser.snapshot import ElementRef, estimate_tokens, take_snapshot

SITE = "http://site.test"
ELEMENT_LINE = re.compile(r"^(?P<indent> *)\[(?P<id>\d+)\]<(?P<tag>[\w-]+)(?P<attrs>[^>]*)>")


async def serve(context: BrowserContext, pages: dict[str, str]) -> None:
    """Serve `pages` (path -> HTML) at http://site.test/ without a server."""

    async def handler(route: Route) -> None:
        path = route.request.url.removeprefix(SITE).split("?")[0] or "/"
        body = pages.get(path)
        if body is None:
            await route.fulfill(status=404, body="not found", content_type="text/plain")
        else:
            await route.fulfill(body=body, content_type="text/html")

    await context.route(f"{SITE}/**", handler)


def element_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ELEMENT_LINE.match(ln)]


def find(elements: dict[str, ElementRef], name: str) -> ElementRef:
    matches = [e for e in elements.values() if e.name == name]
    assert len(matches) == 1, (name, [e.name for e in elements.values()])
    return matches[0]


FORM_PAGE = """<html><head><title>Top stories</title></head><body>
<h1>Top stories</h1>
<a href="/item/1">Show HN: A durable browser agent</a>
<div>123 points by bob | 45 comments</div>
<form>
  <label for="q">Search stories</label> <input id="q" name="q" placeholder="Search">
  <label>Country <select name="country"><option>US</option><option>UK</option>
    <option>France</option></select></label>
  <button>Submit</button>
  <label for="msg">Message</label><textarea id="msg" name="msg"></textarea>
  <label><input type="checkbox" name="tos" checked> I agree</label>
  <span id="pw-label">Secret code</span><input type="password" aria-labelledby="pw-label">
  <input type="hidden" name="csrf" value="tok">
</form>
<div style="display:none"><button>Gone button</button></div>
<button style="visibility:hidden">Invisible button</button>
<button aria-hidden="true">Aria hidden button</button>
<button style="width:0;height:0;padding:0;border:0;overflow:hidden">Zero button</button>
<span style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)">
  Screen reader only</span>
<a href="https://elsewhere.test/page?x=1">Elsewhere</a>
</body></html>"""


async def test_format_lists_elements_and_text(context: BrowserContext, page: Page) -> None:
    await serve(context, {"/news": FORM_PAGE})
    await page.goto(f"{SITE}/news")
    snap = await take_snapshot(page)
    lines = snap.text.splitlines()

    # The title says what the <h1> line says: it is not written twice (no quoted title).
    assert lines[0] == f"URL: {SITE}/news"
    assert lines[1] == "Top stories"
    assert not any(ln.startswith("Scroll:") for ln in lines)  # the page does not scroll
    assert not any(ln.startswith("Tabs:") for ln in lines)  # one tab only
    assert "Top stories" in lines
    assert "123 points by bob | 45 comments" in lines

    link = find(snap.elements, "Show HN: A durable browser agent")
    assert f'[{link.id}]<a href="/item/1">Show HN: A durable browser agent' in lines
    q = find(snap.elements, "Search stories")
    assert f'[{q.id}]<input name=q label="Search stories" placeholder="Search">' in lines
    country = find(snap.elements, "Country")
    # `name=country` says what its label says: left out of the line, kept in the table.
    assert f'[{country.id}]<select label="Country" value="US">"US", "UK", "France"' in lines
    assert country.attributes["name"] == "country"
    assert f"[{find(snap.elements, 'Submit').id}]<button>Submit" in lines
    msg = find(snap.elements, "Message")
    assert f'[{msg.id}]<textarea name=msg label="Message">' in lines
    tos = find(snap.elements, "I agree")
    assert f"[{tos.id}]<checkbox name=tos checked>I agree" in lines
    pw = find(snap.elements, "Secret code")
    assert f'[{pw.id}]<input type=password label="Secret code">' in lines
    other = find(snap.elements, "Elsewhere")
    assert other.attributes["href"] == "https://elsewhere.test/page?x=1"

    # Label text is carried by its input, not repeated as a text line (also aria-labelledby's).
    for label in ("Search stories", "Country", "Message", "I agree", "Secret code"):
        assert label not in lines
    # Hidden things are left out.
    for hidden in ("Gone", "Invisible", "Aria hidden", "Zero button", "Screen reader", "csrf"):
        assert hidden not in snap.text
    # Every element line's id is in the table, and ids are unique.
    ids = [ELEMENT_LINE.match(ln)["id"] for ln in element_lines(snap.text)]  # type: ignore[index]
    assert len(ids) == len(set(ids)) == len(snap.elements)
    assert snap.token_estimate == estimate_tokens(snap.text)
    assert snap.tabs[0].current and snap.tabs[0].title == "Top stories"
    assert q.describe() == "input 'Search stories'"
    assert find(snap.elements, "Submit").describe() == "button 'Submit'"
    assert link.describe() == "link 'Show HN: A durable browser agent'"


async def test_ids_are_stable_across_snapshots(page: Page) -> None:
    await page.set_content(
        "<button id=a>Alpha</button><button id=b>Beta</button><a href='/x'>Gamma</a>"
    )
    first = await take_snapshot(page)
    ids = {e.name: e.id for e in first.elements.values()}

    await page.evaluate(
        """() => {
            document.getElementById('b').remove();
            const n = document.createElement('button');
            n.textContent = 'Delta';
            document.body.prepend(n);
        }"""
    )
    second = await take_snapshot(page)
    again = {e.name: e.id for e in second.elements.values()}
    assert again["Alpha"] == ids["Alpha"]
    assert again["Gamma"] == ids["Gamma"]
    assert "Beta" not in again
    # A new element never reuses an id, not even the removed one's.
    assert again["Delta"] not in ids.values()
    assert int(again["Delta"]) > max(int(i) for i in ids.values())


async def test_cloned_element_gets_its_own_id(page: Page) -> None:
    await page.set_content("<button id=a>Alpha</button>")
    await take_snapshot(page)
    await page.evaluate(
        "() => { const c = document.getElementById('a').cloneNode(true); c.textContent = 'Copy';"
        " document.body.append(c); }"
    )
    snap = await take_snapshot(page)
    assert len({e.id for e in snap.elements.values()}) == 2


async def test_select_options_and_value(page: Page) -> None:
    options = "".join(f"<option value=c{i}>Country {i}</option>" for i in range(50))
    await page.set_content(
        f"<select name=big>{options}</select>"
        "<label for=s>Size</label><select id=s><option value=s>Small</option>"
        "<option value=m selected>Medium</option></select>"
    )
    snap = await take_snapshot(page)
    size = find(snap.elements, "Size")
    assert (
        f'[{size.id}]<select label="Size" value="Medium">"Small", "Medium"'
        in snap.text.splitlines()
    )
    assert size.attributes["value"] == "Medium"
    big = next(e for e in snap.elements.values() if e.attributes.get("name") == "big")
    line = next(ln for ln in snap.text.splitlines() if ln.startswith(f"[{big.id}]"))
    assert line.endswith('"Country 19", … 30 more')


async def test_cursor_pointer_area_listed_once(page: Page) -> None:
    await page.set_content(
        """<div class=card style="cursor:pointer">
             <span style="cursor:pointer">Card title</span>
             <div><b>Nested</b> description</div>
           </div>
           <div onclick="void 0">Inline handler</div>
           <div tabindex="0">Focusable</div>
           <div role="tab" aria-selected="true">Tab one</div>
           <label style="cursor:pointer"><input type=checkbox> Remember me</label>"""
    )
    snap = await take_snapshot(page)
    lines = element_lines(snap.text)
    card = [ln for ln in lines if "Card title" in ln]
    assert len(card) == 1
    # Detected clickables show no role: every listed element is actionable (the table knows).
    assert card[0].endswith("]<div>Card title Nested description")
    assert snap.elements[card[0][1 : card[0].index("]")]].role == "clickable"
    assert "Card title" not in [ln for ln in snap.text.splitlines() if ln not in lines]
    assert any(ln.endswith("]<div>Inline handler") for ln in lines)
    assert any(ln.endswith("]<div>Focusable") for ln in lines)
    assert "role=clickable" not in snap.text
    assert any(ln.endswith("]<tab selected>Tab one") for ln in lines)  # a role is the tag
    # The label wrapping the checkbox is not an extra element.
    assert sum("Remember me" in ln for ln in snap.text.splitlines()) == 1
    assert any(ln.endswith("]<checkbox>Remember me") for ln in lines)


async def test_visually_hidden_checkbox_lists_its_label(page: Page) -> None:
    await page.set_content(
        """<input type=checkbox id=news style="opacity:0;position:absolute" checked>
           <label for=news style="padding:4px">Send me news</label>"""
    )
    snap = await take_snapshot(page)
    label = find(snap.elements, "Send me news")
    assert label.tag == "label"
    assert f"[{label.id}]<checkbox checked>Send me news" in snap.text  # written as its role
    assert label.role == "checkbox"


async def test_container_with_nested_controls_is_walked(page: Page) -> None:
    await page.set_content(
        """<div role=listbox aria-label="Fruits">
             <div role=option>Apple</div><div role=option aria-selected=true>Pear</div>
           </div>"""
    )
    snap = await take_snapshot(page)
    lines = snap.text.splitlines()
    listbox = find(snap.elements, "Fruits")
    assert f'[{listbox.id}]<listbox aria-label="Fruits">' in lines
    assert any(ln.endswith("]<option>Apple") for ln in lines)
    assert any(ln.endswith("]<option selected>Pear") for ln in lines)
    assert (listbox.tag, listbox.role) == ("div", "listbox")


FRAME_PAGE = """<html><head><title>Frames</title></head><body>
<p>Outer text</p>
<button>Outer button</button>
<iframe name="payment" src="/pay" style="height:150px"></iframe>
<iframe srcdoc="<p>Inline doc</p><a href='/inline'>Inline link</a>"></iframe>
<iframe src="/pay" style="display:none"></iframe>
<shadow-host></shadow-host>
<script>
customElements.define('shadow-host', class extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({mode: 'open'}).innerHTML =
      '<p>Shadow text</p><button onclick="this.textContent=\\'Shadow clicked\\'">' +
      'Shadow button</button>';
  }
});
</script>
</body></html>"""
PAY_PAGE = "<html><body><h3>Card details</h3><button>Pay now</button></body></html>"


async def test_iframes_and_shadow_roots(context: BrowserContext, page: Page) -> None:
    await serve(context, {"/frames": FRAME_PAGE, "/pay": PAY_PAGE})
    await page.goto(f"{SITE}/frames")
    await page.wait_for_function("document.querySelectorAll('iframe').length === 3")
    snap = await take_snapshot(page)
    lines = snap.text.splitlines()

    pay = find(snap.elements, "Pay now")
    inline = find(snap.elements, "Inline link")
    shadow = find(snap.elements, "Shadow button")
    i = lines.index('iframe "payment":')
    assert lines[i + 1] == "  Card details"
    assert lines[i + 2] == f"  [{pay.id}]<button>Pay now"
    j = lines.index('iframe "srcdoc":')
    assert lines[j + 1] == "  Inline doc"
    assert lines[j + 2] == f'  [{inline.id}]<a href="/inline">Inline link'
    k = lines.index("shadow:")
    assert lines[k + 1] == "  Shadow text"
    assert lines[k + 2] == f"  [{shadow.id}]<button>Shadow button"
    assert i < j < k  # document order

    assert page.frames[pay.frame_index].url == f"{SITE}/pay"
    assert page.frames[inline.frame_index].url == "about:srcdoc"
    assert shadow.frame_index == 0
    assert len(snap.elements) == 4  # the display:none iframe contributes nothing
    # Ids are unique across frames and stay put on the next snapshot.
    again = await take_snapshot(page)
    assert {e.name: e.id for e in again.elements.values()} == {
        e.name: e.id for e in snap.elements.values()
    }


async def test_cross_origin_iframe(context: BrowserContext, page: Page) -> None:
    await serve(
        context, {"/outer": '<button>Top</button><iframe src="http://pay.test/widget"></iframe>'}
    )

    async def other(route: Route) -> None:
        await route.fulfill(body="<button>Foreign</button>", content_type="text/html")

    await context.route("http://pay.test/**", other)
    await page.goto(f"{SITE}/outer")
    snap = await take_snapshot(page)
    assert 'iframe "http://pay.test/widget":' in snap.text
    foreign = find(snap.elements, "Foreign")
    assert foreign.frame_index == 1
    assert foreign.id != find(snap.elements, "Top").id


async def test_far_elements_summarised_on_huge_page(context: BrowserContext, page: Page) -> None:
    links = "\n".join(f'<div><a href="/p/{i}">Link number {i}</a></div>' for i in range(2000))
    await serve(context, {"/links": f"<title>Links</title><h1>Many links</h1>{links}"})
    await page.goto(f"{SITE}/links")
    snap = await take_snapshot(page)

    assert len(snap.elements) == 2000
    listed = element_lines(snap.text)
    assert 20 < len(listed) < 200
    summary = snap.text.splitlines()[-1]
    match = re.fullmatch(r"\.\.\. (\d+) more elements below the viewport: (.*), \.\.\.", summary)
    assert match, summary
    assert int(match[1]) + len(listed) == 2000
    assert match[2].startswith(f'"Link number {len(listed)}"')
    assert snap.token_estimate <= 6000

    small = await take_snapshot(page, token_budget=300)
    assert small.token_estimate <= 300
    assert small.text.startswith(f'URL: {SITE}/links "Links"\nScroll: ')
    assert all(len(ln) <= 300 for ln in small.text.splitlines())
    assert re.search(r"^\.\.\. \d+ more elements below the viewport", small.text, re.M)


async def test_budget_drops_far_text_before_near_content(page: Page) -> None:
    paragraphs = "".join(f"<p>Paragraph {i} " + "lorem ipsum " * 12 + "</p>" for i in range(300))
    await page.set_content(f"<button>Top button</button>{paragraphs}<a href='/end'>End</a>")
    full = await take_snapshot(page, token_budget=100_000)
    assert "Paragraph 299" in full.text  # far text is kept while the budget allows

    tight = await take_snapshot(page, token_budget=800)
    assert tight.token_estimate <= 800
    assert "[1]<button>Top button" in tight.text.replace(
        f"[{find(tight.elements, 'Top button').id}]", "[1]"
    )
    assert "Paragraph 0 " in tight.text
    assert "Paragraph 299" not in tight.text
    assert tight.text.splitlines()[-1] == '... 1 more element below the viewport: "End"'


async def test_scrolled_page_summarises_above(page: Page) -> None:
    buttons = "".join(f"<p style='height:200px'><button>B{i}</button></p>" for i in range(40))
    await page.set_content(buttons)
    await page.evaluate("window.scrollTo(0, 4000)")
    snap = await take_snapshot(page)
    lines = snap.text.splitlines()
    # about:blank has no title: no Title line.
    assert re.fullmatch(r"Scroll: 4000 of \d+px, viewport 720px", lines[1])
    above = re.fullmatch(
        r'\.\.\. (\d+) more elements above the viewport: "B(\d+)", .*, \.\.\.', lines[2]
    )
    assert above, lines[2]
    assert int(above[2]) == int(above[1]) - 1  # nearest first
    assert any(ln.endswith("<button>B20") for ln in lines)


async def test_tabs_line_with_two_tabs(context: BrowserContext, page: Page) -> None:
    await page.set_content("<title>One</title><p>first</p>")
    other = await context.new_page()
    await other.set_content("<title>Two</title><p>second</p>")
    snap = await take_snapshot(other)
    assert "Tabs: [0] One | [1] Two (current)" in snap.text.splitlines()
    assert [t.current for t in snap.tabs] == [False, True]


async def test_long_text_is_trimmed_and_wrapped(page: Page) -> None:
    long = "word " * 200
    await page.set_content(f"<p>{long}</p><a href='/x'>{'very long link text ' * 20}</a>")
    snap = await take_snapshot(page)
    body = snap.text.splitlines()[3:]
    assert all(len(ln) <= 160 for ln in body)
    assert any(ln.endswith("…") for ln in body)
    link = element_lines(snap.text)[0]
    assert link.endswith("…")


async def test_empty_page(page: Page) -> None:
    await page.set_content("<div></div>")
    snap = await take_snapshot(page)
    assert snap.text.splitlines()[-1] == "(no visible content)"
    assert snap.elements == {}
