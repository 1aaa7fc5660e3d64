"""Tests of the test doubles: the fake Messages API (through the real anthropic SDK) and the
fixture sites.  Page descriptions here are written by hand in the wayfinder format."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import anthropic
import httpx
import pytest
from anthropic import AsyncAnthropic
from pydantic import TypeAdapter

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.fake_page import parse_page
from tests.fixtures.fake_request import Request, parse_history
from tests.fixtures.sites import SiteServer
from wayfinder.actions import Action
from wayfinder.feedback import PastStep
from wayfinder.llm import prompts
from wayfinder.llm.tools import action_tools, verify_tool

MODEL = "claude-sonnet-4-6"


# ---------------------------------------------------------------------------------------------
# Tool definitions, as the wayfinder side offers them
# ---------------------------------------------------------------------------------------------


def _tool(name: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name} tool",
        "input_schema": {"type": "object", "properties": props, "required": required},
    }


_ID = {"element_id": {"type": "string"}}
ACT_TOOLS = [
    _tool("click", _ID, ["element_id"]),
    _tool(
        "input_text",
        {**_ID, "text": {"type": "string"}, "press_enter": {"type": "boolean"}},
        ["element_id", "text"],
    ),
    _tool("select_option", {**_ID, "option": {"type": "string"}}, ["element_id", "option"]),
    _tool("upload_file", {**_ID, "path": {"type": "string"}}, ["element_id", "path"]),
    _tool("hover", _ID, ["element_id"]),
    _tool("keypress", {"keys": {"type": "array", "items": {"type": "string"}}}, ["keys"]),
    _tool(
        "scroll",
        {"direction": {"enum": ["up", "down"]}, "element_id": {"type": ["string", "null"]}},
        ["direction"],
    ),
    _tool("wait", {"seconds": {"type": "number"}}, []),
    _tool("goto_url", {"url": {"type": "string"}}, ["url"]),
    _tool("go_back", {}, []),
    _tool("switch_tab", {"tab_index": {"type": "integer"}}, ["tab_index"]),
    _tool("complete", {"output": {}, "summary": {"type": "string"}}, ["summary"]),
    _tool("terminate", {"reason": {"type": "string"}}, ["reason"]),
]
VERIFY_TOOLS = [
    _tool(
        "report_verification",
        {"verified": {"type": "boolean"}, "reason": {"type": "string"}},
        ["verified", "reason"],
    )
]


def extract_tools(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [_tool("submit_extraction", {"data": schema}, ["data"])]


def step(
    action: dict[str, Any], element: str | None = None, url: str = "", error: str | None = None
) -> dict[str, Any]:
    """One step of the history (`history()` numbers them and words them as the project does)."""
    return {"action": action, "element": element, "url": url or BASE + "/", "error": error}


def history(steps: list[dict[str, Any]], earlier: int = 0) -> list[str]:
    past = [
        PastStep(number=earlier + i, action=TypeAdapter(Action).validate_python(s["action"]),
                 element=s["element"], url=s["url"], error=s["error"])
        for i, s in enumerate(steps, 1)
    ]  # fmt: skip
    return prompts.history_lines(past, earlier)


def prompt(
    task: str,
    page: str,
    steps: list[dict[str, Any]] | None = None,
    feedback: str = "",
    claim: dict[str, Any] | None = None,
    error_codes: dict[str, str] | None = None,
    earlier: int = 0,
) -> str:
    """A user turn built by the project's own prompt builders (`wayfinder.llm.prompts`)."""
    lines = history(steps or [], earlier)
    notes = [feedback] if feedback else []
    if claim is not None:
        return prompts.verify_prompt(
            task=task, page=page, output=claim.get("output"), summary=claim.get("summary", ""),
            history=lines if steps is not None else None, feedback=notes,
        )  # fmt: skip
    return prompts.act_prompt(
        task=task, page=page, history=lines, feedback=notes, error_codes=error_codes
    )


def token() -> str:
    return f"tok-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------------------------------------
# Hand-written page descriptions
# ---------------------------------------------------------------------------------------------

BASE = "http://127.0.0.1:8000"

NEWS_PAGE = f"""
URL: {BASE}/news
Title: Hacker Digest
Scroll: 0 of 2400px, viewport 720px
[1]<a href="/news">Hacker Digest</a>
[2]<a href="/news/new">new</a>
[3]<a href="/news/past">past</a>
[4]<a href="/news/login">login</a>
1.
[5]<a href="/item/1">Show HN: A durable browser agent built on Temporal</a>
(github.com)
503 points by mkline 1 hours ago |
[6]<a href="/news/hide?id=1">hide</a>
|
[7]<a href="/item/1">57 comments</a>
2.
[8]<a href="/item/2">The unreasonable effectiveness of SQLite in production</a>
(fly.io)
486 points by tptacek2 1 hours ago |
[9]<a href="/news/hide?id=2">hide</a>
|
[10]<a href="/item/2">110 comments</a>
... 40 more elements below the viewport: "More", "Guidelines", "FAQ", ...
"""

PRODUCTS_PAGE = f"""
URL: {BASE}/products
Title: Products | Acme Gadgets
[1]<a href="/products">Acme Gadgets</a>
[2]<a href="/products">Products</a>
[3]<a href="/contact">Support</a>
Cart (0)
Our products
[4]<select label="Sort by" value="Featured">"Featured", "Lowest price", "Highest rated"
Hand-picked gadgets for home and office.
[5]<a href="/products/widget-a">Widget A</a>
Compact aluminium widget for everyday tasks.
$29.99
Rating: 4.5 (128 reviews)
[6]<button>Add to cart</button>
[7]<a href="/products/widget-b">Widget B</a>
The lighter sibling of Widget A, in recycled plastic.
$24.50
Rating: 4.1 (86 reviews)
[8]<button>Add to cart</button>
[9]<a href="/products/widget-c">Widget C</a>
Our best seller, with a lifetime warranty.
$39.00
Rating: 4.8 (311 reviews)
[10]<button>Add to cart</button>
[11]<a href="/products/gadget-pro">Gadget Pro</a>
A professional gadget with a brushed-steel finish.
$89.99
Rating: 4.6 (54 reviews)
[12]<button>Add to cart</button>
(c) 2024 Acme Gadgets Ltd.
"""


def contact_page(
    name: str = "",
    email: str = "",
    topic: str = "General",
    message: str = "",
    consent: bool = False,
    alert: str = "",
) -> str:
    checked = " checked" if consent else ""
    return f"""
URL: {BASE}/contact
Title: Contact us | Northwind Studio
[1]<a href="/contact">Northwind Studio</a>
[2]<a href="/contact/about">About</a>
Contact us
Tell us about your project. We usually reply within two business days.
{alert}
Name
[3]<input type=text name=name label="Name" value="{name}">
Email
[4]<input type=email name=email label="Email" value="{email}">
Topic
[5]<select label="Topic" value="{topic}">"General", "Billing", "Technical support", "Press"
Message
[6]<textarea name=message label="Message">{message}</textarea>
iframe "captcha":
  [7]<input type=checkbox name=consent label="I agree to the privacy policy"{checked}>
  I agree to the privacy policy
[8]<button type=submit>Send message</button>
"""


THANK_YOU_PAGE = f"""
URL: {BASE}/contact
Title: Message sent | Northwind Studio
[1]<a href="/contact">Northwind Studio</a>
Thank you, Ada Lovelace! We received your message.
We'll reply to ada@example.com within two business days. Topic: Technical support.
[2]<a href="/contact">Send another message</a>
"""

SHADOW_PAGE = f"""
URL: {BASE}/shadow
Title: Daily Brew
[1]<a href="/shadow">Daily Brew</a>
Five ways to improve your pour-over
shadow:
  We use cookies to improve your experience.
  [2]<button>Accept cookies</button>
"""


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Any:
    with FakeAnthropicServer() as server:
        yield server


@pytest.fixture(scope="module")
def sites() -> Any:
    with SiteServer() as server:
        yield server


@pytest.fixture
def client(fake: FakeAnthropicServer) -> AsyncAnthropic:
    return AsyncAnthropic(base_url=fake.url, api_key="test", max_retries=0)


async def ask(
    client: AsyncAnthropic,
    text: str,
    tools: list[dict[str, Any]] | None = None,
    **kw: Any,
) -> anthropic.types.Message:
    return await client.messages.create(
        model=MODEL,
        max_tokens=1024,
        system="You are a browser automation agent.",
        messages=[{"role": "user", "content": text}],
        tools=tools if tools is not None else ACT_TOOLS,  # type: ignore[arg-type]
        **{"tool_choice": {"type": "any", "disable_parallel_tool_use": True}, **kw},
    )


def tool_call(message: anthropic.types.Message) -> tuple[str, dict[str, Any]]:
    uses = [b for b in message.content if b.type == "tool_use"]
    assert len(uses) == 1, message.content
    assert message.stop_reason == "tool_use"
    return uses[0].name, dict(uses[0].input)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Act
# ---------------------------------------------------------------------------------------------


async def test_click_by_quoted_text(client: AsyncAnthropic) -> None:
    msg = await ask(client, prompt('Click "past" to see older stories', NEWS_PAGE))
    assert msg.model == MODEL and msg.id.startswith("msg_") and msg.usage.input_tokens > 100
    assert tool_call(msg) == ("click", {"element_id": "3"})


async def test_answer_title_of_top_post(client: AsyncAnthropic) -> None:
    name, args = tool_call(await ask(client, prompt("Get the title of the top post", NEWS_PAGE)))
    assert name == "complete"
    assert args["output"] == "Show HN: A durable browser agent built on Temporal"
    assert args["summary"]


async def test_form_sequence_progresses_with_history(client: AsyncAnthropic) -> None:
    task = (
        'Fill "Ada Lovelace" in the "Name" field, type "ada@example.com" into "Email", '
        'select "Technical support" from "Topic", enter "Hello there" in "Message", '
        'check "I agree to the privacy policy", then click "Send message".'
    )
    state: dict[str, Any] = {}
    history: list[dict[str, Any]] = []
    fields = {
        "3": ("name", "input 'Name'"),
        "4": ("email", "input 'Email'"),
        "6": ("message", "textarea 'Message'"),
    }
    actions = []
    for _ in range(10):
        name, args = tool_call(await ask(client, prompt(task, contact_page(**state), history)))
        actions.append((name, args.get("element_id")))
        url = f"{BASE}/contact"
        action = {"type": name, **args}
        if name == "input_text":
            key, label = fields[args["element_id"]]
            state[key] = args["text"]
            history.append(step(action, label, url))
        elif name == "select_option":
            assert args["option"] == "Technical support"
            state["topic"] = args["option"]
            history.append(step(action, "select 'Topic'", url))
        elif name == "click" and args["element_id"] == "7":
            state["consent"] = True
            history.append(step(action, "checkbox 'I agree to the privacy policy'", url))
        else:
            history.append(step(action, "button 'Send message'", url))
            break
    assert actions == [
        ("input_text", "3"),
        ("input_text", "4"),
        ("select_option", "5"),
        ("input_text", "6"),
        ("click", "7"),
        ("click", "8"),
    ]
    assert state == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "topic": "Technical support",
        "message": "Hello there",
        "consent": True,
    }
    # On the confirmation page everything is done: complete with no output.
    name, args = tool_call(await ask(client, prompt(task, THANK_YOU_PAGE, history)))
    assert name == "complete" and args["output"] is None
    # With a question at the end, the confirmation text is the answer.
    name, args = tool_call(
        await ask(client, prompt(task + " What does the page say?", THANK_YOU_PAGE, history))
    )
    assert (name, args["output"]) == (
        "complete",
        "Thank you, Ada Lovelace! We received your message.",
    )


async def test_form_state_on_page_counts_as_done(client: AsyncAnthropic) -> None:
    task = 'Select "Billing" from "Topic", then tick "I agree to the privacy policy"'
    page = contact_page(topic="Billing", consent=True)
    name, _ = tool_call(await ask(client, prompt(task, page)))
    assert name == "complete"


async def test_keep_clicking_never_completes(client: AsyncAnthropic) -> None:
    t = token()
    page = f"""
URL: {BASE}/pages/7
Title: Archive, page 7
[1]<a href="/pages/7#entry-1">Entry 7.1: notes from the design review</a>
[2]<a href="/pages/6">Previous page</a>
[3]<a href="/pages/8">Next page</a>
"""
    history = [
        step({"type": "click", "element_id": "3"}, "link 'Next page'", f"{BASE}/pages/{n}")
        for n in range(2, 8)
    ]
    msg = await ask(client, prompt(f'Keep clicking "Next page" [case {t}]', page, history))
    assert tool_call(msg) == ("click", {"element_id": "3"})


async def test_multi_turn_conversation_uses_last_user_message(client: AsyncAnthropic) -> None:
    first = prompt('Click "Add to cart" for Widget B', PRODUCTS_PAGE)
    msg = await client.messages.create(
        model=MODEL,
        max_tokens=512,
        tools=ACT_TOOLS,  # type: ignore[arg-type]
        messages=[
            {"role": "user", "content": first},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "click",
                        "input": {"element_id": "8"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"},
                    {
                        "type": "text",
                        "text": prompt(
                            'Click "Add to cart" for Widget B',
                            PRODUCTS_PAGE.replace("Cart (0)", "Cart (1)"),
                            [step({"type": "click", "element_id": "8"}, "button 'Add to cart'")],
                        ),
                    },
                ],
            },
        ],
    )
    name, _ = tool_call(msg)
    assert name == "complete"


COOKIES_ACCEPTED = SHADOW_PAGE.replace("[2]<button>Accept cookies</button>", "Cookies accepted")


@pytest.mark.parametrize(
    ("task", "page", "expected"),
    [
        ("What is the rating of Gadget Pro?", PRODUCTS_PAGE, ("complete", {"output": "4.6"})),
        (
            "What are the titles of the top 2 stories?",
            NEWS_PAGE,
            (
                "complete",
                {
                    "output": [
                        "Show HN: A durable browser agent built on Temporal",
                        "The unreasonable effectiveness of SQLite in production",
                    ]
                },
            ),
        ),
        (
            'Click "Accept cookies", then tell me what the banner says',
            COOKIES_ACCEPTED,
            ("complete", {"output": "Cookies accepted"}),
        ),
        (
            "What is the title of this page? [case 0123abcd]",
            NEWS_PAGE,
            ("complete", {"output": "Hacker Digest"}),
        ),
    ],
)
async def test_phrasings(
    client: AsyncAnthropic, task: str, page: str, expected: tuple[str, dict[str, Any]]
) -> None:
    history = None
    if "Accept cookies" in task:
        history = [step({"type": "click", "element_id": "2"}, "button 'Accept cookies'")]
    name, args = tool_call(await ask(client, prompt(task, page, history)))
    assert name == expected[0], args
    assert {k: args.get(k) for k in expected[1]} == expected[1]


CATALOGUE_PAGE = f"""
URL: {BASE}/shop/catalogue
Title: Catalogue | Green Thumb Supplies
[1]<a href="/shop">Green Thumb Supplies</a>
[2]<a href="/shop/catalogue">Catalogue</a>
Catalogue
[3]<a href="/shop/category/garden">Garden</a>
[4]<a href="/shop/category/kitchen">Kitchen</a>
"""
GARDEN_PAGE = f"""
URL: {BASE}/shop/category/garden
Title: Garden | Green Thumb Supplies
[1]<a href="/shop">Green Thumb Supplies</a>
[2]<a href="/shop/catalogue">Catalogue</a>
Garden
Product
Price
Watering Can
$12.50
In stock
Garden Hose (15 m)
$24.00
"""


# ---------------------------------------------------------------------------------------------
# Verify & extract
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "claim", "expected"),
    [
        (THANK_YOU_PAGE, {"output": None, "summary": "Sent the form."}, True),
        (THANK_YOU_PAGE, {"output": "thank you,  ada lovelace!", "summary": "x"}, True),
        (THANK_YOU_PAGE, {"output": "Thank you, Grace Hopper!", "summary": "x"}, False),
        (
            PRODUCTS_PAGE,
            {"output": [{"name": "Widget A", "price": 29.99, "rating": 4.5}], "summary": "x"},
            True,
        ),
        (
            contact_page(alert="Error: Email is required."),
            {"output": None, "summary": "Sent."},
            False,
        ),
    ],
)
async def test_verification(
    client: AsyncAnthropic, page: str, claim: dict[str, Any], expected: bool
) -> None:
    msg = await ask(client, prompt("Send the contact form", page, claim=claim), tools=VERIFY_TOOLS)
    name, args = tool_call(msg)
    assert name == "report_verification"
    assert args["verified"] is expected, args["reason"]
    assert args["reason"]


async def test_verification_of_a_question_needs_an_answer(client: AsyncAnthropic) -> None:
    text = prompt(
        "Get the title of the top post",
        NEWS_PAGE,
        steps=[],
        claim={"output": None, "summary": "Looked at the list."},
    )
    name, args = tool_call(await ask(client, text, tools=VERIFY_TOOLS))
    assert name == "report_verification" and args["verified"] is False


# ---------------------------------------------------------------------------------------------
# Fault injection and control
# ---------------------------------------------------------------------------------------------


async def test_scripted_errors_have_real_shapes(
    fake: FakeAnthropicServer, client: AsyncAnthropic
) -> None:
    t = token()
    fake.script(t, [{"status": 500}, {"status": 429, "retry_after": 7}, {"status": 529}])
    text = prompt(f'Click "past" ({t})', NEWS_PAGE)
    with pytest.raises(anthropic.InternalServerError) as e500:
        await ask(client, text)
    assert e500.value.body["error"]["type"] == "api_error"  # type: ignore[index]
    with pytest.raises(anthropic.RateLimitError) as e429:
        await ask(client, text)
    assert e429.value.response.headers["retry-after"] == "7"
    assert e429.value.body == {  # type: ignore[comparison-overlap]
        "type": "error",
        "error": {"type": "rate_limit_error", "message": e429.value.body["error"]["message"]},  # type: ignore[index]
    }
    with pytest.raises(anthropic.APIStatusError) as e529:
        await ask(client, text)
    assert e529.value.status_code == 529
    assert e529.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    assert tool_call(await ask(client, text)) == ("click", {"element_id": "3"})  # script used up
    assert len(fake.requests(t)) == 4


async def test_sdk_retries_through_scripted_errors(fake: FakeAnthropicServer) -> None:
    t = token()
    fake.script(
        t,
        [{"status": 500, "retry_after": 0}, {"status": 429}, {"status": 529, "retry_after": 0.01}],
    )
    retrying = AsyncAnthropic(base_url=fake.url, api_key="test", max_retries=3)
    started = time.monotonic()
    msg = await ask(retrying, prompt(f'Click "past" ({t})', NEWS_PAGE))
    assert tool_call(msg) == ("click", {"element_id": "3"})
    assert len(fake.requests(t)) == 4
    assert time.monotonic() - started < 1


async def test_prompt_cache_usage(client: AsyncAnthropic) -> None:
    t = token()
    system = [{"type": "text", "text": f"Agent {t}", "cache_control": {"type": "ephemeral"}}]
    usages = []
    for _ in range(2):
        msg = await client.messages.create(
            model=MODEL,
            max_tokens=256,
            system=system,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": prompt('Click "past"', NEWS_PAGE)}],
            tools=ACT_TOOLS,  # type: ignore[arg-type]
            tool_choice={"type": "any", "disable_parallel_tool_use": True},
        )
        assert [b.type for b in msg.content] == ["tool_use"]  # forced tool: no text first
        usages.append(msg.usage)
    assert usages[0].cache_creation_input_tokens > 0 and usages[0].cache_read_input_tokens == 0
    assert usages[1].cache_read_input_tokens == usages[0].cache_creation_input_tokens
    assert usages[1].input_tokens < usages[0].input_tokens + usages[0].cache_creation_input_tokens


async def test_malformed_answers(fake: FakeAnthropicServer, client: AsyncAnthropic) -> None:
    t = token()
    fake.script(
        t,
        [
            {"malformed": "unknown_element"},
            {"malformed": "bad_arguments"},
        ],
    )
    text = prompt(f'Click "past" ({t})', NEWS_PAGE)
    name, args = tool_call(await ask(client, text))
    assert name == "click" and args["element_id"] not in {str(i) for i in range(1, 11)}
    assert tool_call(await ask(client, text)) == ("click", {})
    assert tool_call(await ask(client, text)) == ("click", {"element_id": "3"})


async def test_delays(fake: FakeAnthropicServer, client: AsyncAnthropic) -> None:
    t = token()
    text = prompt(f'Click "past" ({t})', NEWS_PAGE)
    fake.script(t, [{"delay": 0.3}])
    started = time.monotonic()
    await ask(client, text)
    assert time.monotonic() - started >= 0.3
    async with httpx.AsyncClient(base_url=fake.url) as http:
        r = await http.post("/_control/delay", json={"match": t, "seconds": 0.2})
        assert r.json() == {"ok": True}
    for _ in range(2):
        started = time.monotonic()
        await ask(client, text)
        assert time.monotonic() - started >= 0.2
    fake.delay(t, 0)
    started = time.monotonic()
    await ask(client, text)
    assert time.monotonic() - started < 0.2


async def test_control_api_over_http(fake: FakeAnthropicServer, client: AsyncAnthropic) -> None:
    t = token()
    async with httpx.AsyncClient(base_url=fake.url) as http:
        r = await http.post("/_control/script", json={"match": t, "responses": [{"status": 500}]})
        assert r.status_code == 200
        with pytest.raises(anthropic.InternalServerError):
            await ask(client, prompt(f'Click "past" ({t})', NEWS_PAGE))
        await ask(client, prompt(f'Click "past" ({t})', NEWS_PAGE))
        seen = (await http.get("/_control/requests", params={"match": t})).json()
        assert (
            len(seen) == 2 and seen[0]["model"] == MODEL and seen[0]["tools"][0]["name"] == "click"
        )
        assert (await http.get("/_control/requests", params={"match": token()})).json() == []
        # Requests without credentials are refused like the real API.
        r = await http.post("/v1/messages", json={"model": MODEL, "max_tokens": 5, "messages": []})
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        r = await http.post("/_control/script", json={"responses": []})
        assert r.status_code == 400


async def test_reset(client: AsyncAnthropic) -> None:
    with FakeAnthropicServer() as own:
        sdk = AsyncAnthropic(base_url=own.url, api_key="test", max_retries=0)
        own.script("zzz", [{"status": 500}])
        own.delay("zzz", 5)
        await ask(sdk, prompt("Get the title of the top post", NEWS_PAGE))
        assert len(own.requests()) == 1
        async with httpx.AsyncClient(base_url=own.url) as http:
            assert (await http.post("/_control/reset")).json() == {"ok": True}
        assert own.requests() == []
        msg = await ask(sdk, prompt("Get the title of the top post (zzz)", NEWS_PAGE))
        assert tool_call(msg)[0] == "complete"


async def test_request_validation(client: AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError, match="tool_result"):
        await client.messages.create(
            model=MODEL,
            max_tokens=100,
            tools=ACT_TOOLS,  # type: ignore[arg-type]
            messages=[
                {"role": "user", "content": prompt('Click "past"', NEWS_PAGE)},
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "toolu_9",
                            "name": "click",
                            "input": {"element_id": "3"},
                        }
                    ],
                },
                {"role": "user", "content": "go on"},
            ],
        )
    with pytest.raises(anthropic.BadRequestError, match="tool_choice"):
        await ask(
            client, prompt('Click "past"', NEWS_PAGE), tool_choice={"type": "tool", "name": "fly"}
        )


async def test_streaming(client: AsyncAnthropic) -> None:
    async with client.messages.stream(
        model=MODEL,
        max_tokens=512,
        tools=ACT_TOOLS,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": prompt("Get the title of the top post", NEWS_PAGE)}],
    ) as stream:
        final = await stream.get_final_message()
    name, args = tool_call(final)
    assert name == "complete" and args["output"].startswith("Show HN")


async def test_disconnect_is_a_connection_error(
    fake: FakeAnthropicServer, client: AsyncAnthropic
) -> None:
    t = token()
    fake.script(t, [{"disconnect": True}])
    with pytest.raises(anthropic.APIConnectionError):
        await ask(client, prompt(f'Click "past" ({t})', NEWS_PAGE))


# ---------------------------------------------------------------------------------------------
# Fixture sites
# ---------------------------------------------------------------------------------------------


async def test_sites_serve_pages(sites: SiteServer) -> None:
    async with httpx.AsyncClient(base_url=sites.url) as http:
        news = (await http.get("/news")).text
        assert news.count('class="athing"') == 30 and "Show HN: A durable browser agent" in news
        assert 'href="/item/1"' in news and "points" in news and "comments" in news
        assert "Weekly thread number 31" in (await http.get("/news", params={"p": 2})).text
        assert "Show HN" in (await http.get("/item/1")).text
        products = (await http.get("/products")).text
        assert products.count('class="card"') == 6
        assert "Widget A" in products and "$29.99" in products and "Rating: 4.5" in products
        assert "Add to cart" in products
        shop = (await http.get("/shop")).text
        assert 'href="/shop/catalogue">Catalogue</a>' in shop
        assert 'href="/shop/category/garden">Garden</a>' in (await http.get("/shop/catalogue")).text
        garden = (await http.get("/shop/category/garden")).text
        assert "<td>Watering Can</td><td>$12.50</td>" in garden
        assert 'src="/frames/inner"' in (await http.get("/frames")).text
        inner = (await http.get("/frames/inner")).text
        assert "Confirm order" in inner and "Order confirmed" in inner
        shadow = (await http.get("/shadow")).text
        assert (
            "attachShadow" in shadow and "Accept cookies" in shadow and "Cookies accepted" in shadow
        )
        page = (await http.get("/pages/41")).text
        assert 'href="/pages/42"' in page and "Next page" in page and "Entry 41.10" in page
        assert (await http.get("/pages")).status_code == 302
        assert 'target="_blank"' in (await http.get("/tabs")).text
        assert (await http.get("/nope")).status_code == 404
        assert (await http.get("/shop/category/nope")).status_code == 404
        started = time.monotonic()
        assert "Finally loaded" in (await http.get("/slow", params={"delay": 0.2})).text
        assert time.monotonic() - started >= 0.2


async def test_contact_form_submission(sites: SiteServer) -> None:
    sites.reset()
    async with httpx.AsyncClient(base_url=sites.url) as http:
        form = (await http.get("/contact")).text
        for needle in (
            'name="name"',
            'name="email"',
            '<select id="topic" name="topic">',
            "<textarea",
            'type="checkbox"',
            "Send message",
            'action="/contact"',
        ):
            assert needle in form
        bad = await http.post("/contact", data={"name": "Ada Lovelace", "email": "nope"})
        assert bad.status_code == 400
        assert "Error" in bad.text and "Email address is invalid." in bad.text
        assert "Message is required." in bad.text and 'value="Ada Lovelace"' in bad.text
        assert sites.submissions == []
        ok = await http.post(
            "/contact",
            data={
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "topic": "support",
                "message": "Hello there",
                "consent": "yes",
            },
        )
        assert ok.status_code == 200
        assert "Thank you, Ada Lovelace! We received your message." in ok.text
    assert sites.submissions == [
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "topic": "support",
            "topic_label": "Technical support",
            "message": "Hello there",
            "consent": True,
        }
    ]
    sites.reset()
    assert sites.submissions == []


async def test_sites_add_page(sites: SiteServer) -> None:
    sites.add_page("/hello/{who}", lambda req: f"<h1>Hello {req.params['who']}</h1>")
    sites.add_page("/static-page", "<p>static</p>")
    async with httpx.AsyncClient(base_url=sites.url) as http:
        assert (await http.get("/hello/ada")).text == "<h1>Hello ada</h1>"
        assert (await http.get("/static-page")).text == "<p>static</p>"


# ---------------------------------------------------------------------------------------------
# The fake reads the project's own prompts: renaming a section or rewording a line it relies
# on fails here, not silently in a run.
# ---------------------------------------------------------------------------------------------


def test_the_fake_reads_every_prompt_the_project_builds() -> None:
    task = 'Fill "Ada" in "Name" [case x1]'
    page = contact_page(name="Ada")
    lines = history(
        [
            step({"type": "input_text", "element_id": "3", "text": "Ada"}, "input 'Name'"),
            step({"type": "click", "element_id": "8"}, "button 'Send message'", error="covered"),
        ],
        earlier=4,
    )
    codes = {"no_stock": "the product is sold out"}
    act = Request.from_body(
        {
            "messages": [
                {
                    "role": "user",
                    "content": prompts.act_prompt(
                        task=task, page=page, history=lines, error_codes=codes,
                    ),
                }
            ],
            "tools": action_tools(codes),
        }
    )  # fmt: skip
    assert act.kind == "act" and act.task == task
    assert "3" in parse_page(act.page_text).ids
    assert act.error_codes() == codes
    entries = parse_history(act.sections[prompts.HISTORY])
    assert [(e.action, e.element_id, e.text, e.failed) for e in entries] == [
        ("input_text", "3", "Ada", False),
        ("click", "8", "", True),
    ]
    assert entries[1].result == "covered" and entries[1].label == "Send message"

    claim = {"output": "Ada", "summary": "Typed it."}
    verify = prompts.verify_prompt(task=task, page=page, history=lines, **claim)
    request = Request.from_body(
        {"messages": [{"role": "user", "content": verify}], "tools": [verify_tool()]}
    )
    assert request.kind == "verify" and json.loads(request.sections[prompts.CLAIM]) == claim
    extract = prompts.extract_prompt(task=task, page=page)
    request = Request.from_body({"messages": [{"role": "user", "content": extract}]})
    assert request.task == task and request.page_text
    failure = prompts.error_code_prompt(
        task=task, failure="ran out of steps", history=[], error_codes=codes, page=page
    )
    request = Request.from_body({"messages": [{"role": "user", "content": failure}]})
    assert request.sections[prompts.FAILURE] == "ran out of steps"
    assert request.error_codes() == codes and request.task == task
