"""Model calls and page tokens per task on the fixture tasks (fake model): before and after.

Runs each task through the real stack (Temporal dev server, worker, Chromium, fixture sites,
the fake Messages API) and reads back every request the model was sent for the run: steps,
completion checks (`report_verification`), extractions (`submit_extraction`). Per task:

* calls: model calls, as `act+check+extract` (requests that offered the action tools, the
  verification tool, the extraction tool); the run's own `usage.model_calls` must agree, else
  the row says so;
* after: calls after the last page action (the `complete` step and what checks it: issue 9
  asks for at most two for an extraction task);
* page tokens: characters / 4 of every `<page>` section sent, in all calls, and per call
  (mean and largest);
* prompt tokens: input tokens the endpoint counted (cached or not).

Two live modes, each on the code as it is now:

* `several` (as built): the model may answer with several actions (parallel tool use);
* `one` (the before of several actions per answer): a forwarder between the worker and the
  fake sets `tool_choice.disable_parallel_tool_use`, so the model answers one action per
  call, as it had to before issue 9; the rest of the code (page format, one-look completion)
  is unchanged, so the difference is that of several actions per answer alone.

`BEFORE` holds the figures of the same file run on the commit before issue 9's work, 48f264a
("Merge hooks ..."): one action per call, a step + verification + extraction for an extraction
task, the page description of then. Measured in a worktree of 48f264a with this file, bench/
stack.py and the fixtures it imports (stockroom, carousel, portal, sites.py) copied in, the
fake model of that commit answering; the carousel there ran to max_steps (no cycle detection).

    PYTHONPATH=. .venv/bin/python -m bench.model_calls [--mode several|one|both] [--repeat 1]

It uses only what every version of Wayfinder has (run_task, get_run_steps, usage), so the
same file measures an older checkout: copy it and its fixtures there and run `--mode several`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from bench.stack import bench_stack
from tests.fixtures.background_server import BackgroundHTTPServer, QuietHandler
from tests.fixtures.carousel import add_carousel
from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.portal import add_portal, claim_task, claim_values
from tests.fixtures.sites import SiteServer
from tests.fixtures.sites_data import GARDEN_SCHEMA, PRODUCT_SCHEMA
from tests.fixtures.stockroom import PRODUCT, add_stockroom, product_task
from wayfinder import Client
from wayfinder.llm import prompts
from wayfinder.llm.tools import EXTRACT_TOOL, VERIFY_TOOL

PAGE_SECTION = re.compile(rf"<{prompts.PAGE}>(.*?)</{prompts.PAGE}>", re.S)


@dataclass
class Task:
    name: str
    prompt: str
    path: str
    max_steps: int | None = None
    schema: dict[str, Any] | None = None


def token() -> str:
    """A marker for one task's requests to the fake model (the fake ignores it as a label)."""
    return f"[bench {secrets.token_hex(4)}]"


def tasks() -> list[Task]:
    """The fixture tasks, each with a token of its own."""
    return [
        Task("news", f"{token()} Get the title of the top post", "/news"),
        Task(
            "products",
            f"{token()} Extract the name, price, and rating of the top 3 products",
            "/products",
            schema=PRODUCT_SCHEMA,
        ),
        Task(
            "shop",
            f'{token()} Click "Catalogue", then click "Garden", then get the price of the '
            "Watering Can",
            "/shop",
        ),
        Task(
            "garden",
            f'{token()} Click "Catalogue", then click "Garden", then extract the name and price '
            "of every product",
            "/shop",
            schema=GARDEN_SCHEMA,
        ),
        Task(
            "contact",
            f'{token()} Fill "Ada Lovelace" into "Name", fill "ada@example.com" into "Email", '
            'select "Billing" from "Topic", fill "Hello." into "Message", check "I agree", '
            'then click "Send".',
            "/contact",
        ),
        Task("stockroom", f"{token()} {product_task(PRODUCT)}", "/stockroom/login"),
        Task("portal", claim_task(claim_values(token())), "/portal/login"),
        Task("carousel", f'{token()} Keep clicking "Next slide"', "/bench-carousel/a", 30),
    ]


@dataclass
class Figures:
    status: str
    steps: int
    act: int
    check: int
    extract: int
    usage_calls: int
    after_last_action: int
    page_tokens: int
    """Of every <page> sent for the run."""
    largest_page: int
    """The most page tokens one call was sent."""
    input_tokens: int

    @property
    def calls(self) -> int:
        return self.act + self.check + self.extract


BEFORE: dict[str, Figures] = {
    # Printed at 48f264a (see the module docstring).
    name: Figures(
        status,
        steps,
        act,
        check,
        extract,
        act + check + extract,
        after,
        total,
        largest,
        prompt,
    )
    for name, status, steps, act, check, extract, after, total, largest, prompt in (
        ("news", "completed", 1, 1, 1, 0, 2, 5358, 2679, 7486),
        ("products", "completed", 1, 1, 1, 1, 3, 1206, 402, 3444),
        ("shop", "completed", 3, 3, 1, 0, 2, 712, 225, 5449),
        ("garden", "completed", 3, 3, 1, 1, 3, 886, 225, 6047),
        ("contact", "completed", 7, 7, 1, 0, 2, 1552, 218, 12816),
        ("stockroom", "completed", 10, 10, 1, 0, 2, 1217, 152, 18020),
        ("portal", "completed", 13, 13, 1, 0, 2, 2188, 218, 25026),
        ("carousel", "timed_out", 30, 30, 0, 0, 0, 1320, 44, 52175),
    )
}


def _offers(body: dict[str, Any], tool: str) -> bool:
    return any(t.get("name") == tool for t in body.get("tools") or [])


def _page_tokens(body: dict[str, Any]) -> int:
    total = 0
    for message in body.get("messages") or []:
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content)
        total += sum(len(page) // 4 for page in PAGE_SECTION.findall(text))
    return total


def _calls_to_last_action(steps: list[Any]) -> int:
    """Model calls up to and including the answer of the run's last page action.

    Each answer's model call (with its re-asks) is counted in the usage of its first record.
    """
    page = [s.number for s in steps if s.action.type not in ("complete", "terminate", "recover")]
    if not page:
        return 0
    return sum(s.usage.model_calls for s in steps if s.number <= page[-1])


async def measure(client: Client, fake: FakeAnthropicServer, url: str, task: Task) -> Figures:
    mark = re.search(r"\[bench \w+\]", task.prompt).group(0)  # type: ignore[union-attr]
    run = await client.run_task(
        task.prompt,
        url=url + task.path,
        max_steps=task.max_steps,
        data_extraction_schema=task.schema,
        wait_for_completion=True,
    )
    steps = await client.get_run_steps(run.run_id)
    sent = fake.requests(match=mark)
    pages = [_page_tokens(body) for body in sent]
    act = sum(1 for body in sent if _offers(body, "complete"))
    check = sum(1 for body in sent if _offers(body, VERIFY_TOOL))
    extract = sum(1 for body in sent if _offers(body, EXTRACT_TOOL))
    return Figures(
        status=str(run.status.value),
        steps=len(steps),
        act=act,
        check=check,
        extract=extract,
        usage_calls=run.usage.model_calls,
        after_last_action=run.usage.model_calls - _calls_to_last_action(steps),
        page_tokens=sum(pages),
        largest_page=max(pages, default=0),
        input_tokens=run.usage.input_tokens
        + run.usage.cache_read_input_tokens
        + run.usage.cache_creation_input_tokens,
    )


class OneActionForwarder(BackgroundHTTPServer):
    """Forwards Messages API requests to `target`, asking for one tool call per answer.

    The knob of the `one` mode: it sets `tool_choice.disable_parallel_tool_use` as the
    worker did before several actions per answer, and changes nothing else.
    """

    thread_name = "bench-one-action"

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_ForwardHandler,), {"forwarder": self})


class _ForwardHandler(QuietHandler):
    forwarder: OneActionForwarder

    def do_POST(self) -> None:
        body = json.loads(self._read_body() or b"{}")
        if isinstance(body.get("tool_choice"), dict):
            body["tool_choice"]["disable_parallel_tool_use"] = True
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
        }
        request = urllib.request.Request(
            self.forwarder.target + self.path,
            data=json.dumps(body).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, payload, kind = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, payload, kind = error.code, error.read(), error.headers
        self.send_response(status)
        self.send_header("content-type", kind.get("content-type", "application/json"))
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextlib.contextmanager
def _model_url(fake: FakeAnthropicServer, mode: str) -> Iterator[str]:
    if mode == "several":
        yield fake.url
        return
    with OneActionForwarder(fake.url) as forwarder:
        yield forwarder.url


def _mount(sites: SiteServer) -> None:
    add_stockroom(sites)
    add_portal(sites)
    add_carousel(sites, "/bench-carousel")


HEADER = (
    f"{'task':<11}{'status':<12}{'steps':>6}{'calls':>7}{'a+c+e':>9}{'after':>6}"
    f"{'page tok':>10}{'per call':>9}{'max':>6}{'prompt tok':>11}"
)


def row(name: str, figures: Figures) -> str:
    warning = (
        ""
        if figures.usage_calls == figures.calls
        else f"  (usage counted {figures.usage_calls} calls, the model was sent {figures.calls})"
    )
    split = f"{figures.act}+{figures.check}+{figures.extract}"
    return (
        f"{name:<11}{figures.status:<12}{figures.steps:>6}{figures.calls:>7}{split:>9}"
        f"{figures.after_last_action:>6}{figures.page_tokens:>10}"
        f"{figures.page_tokens // max(1, figures.calls):>9}{figures.largest_page:>6}"
        f"{figures.input_tokens:>11}{warning}"
    )


async def run_mode(mode: str, repeat: int) -> dict[str, Figures]:
    measured: dict[str, Figures] = {}
    async with bench_stack() as stack:
        _mount(stack.sites)
        with _model_url(stack.fake, mode) as model_url:
            settings = stack.settings.model_copy(update={"anthropic_base_url": model_url})
            async with await Client.connect(settings=settings, run_worker=True) as client:
                print(
                    f"\n{mode}: "
                    + (
                        "several actions per answer"
                        if mode == "several"
                        else "one action per answer (forced)"
                    )
                )
                print(HEADER)
                for _ in range(repeat):
                    for task in tasks():
                        figures = await measure(client, stack.fake, stack.sites.url, task)
                        measured[task.name] = figures
                        print(row(task.name, figures))
    return measured


def summary(columns: dict[str, dict[str, Figures]]) -> None:
    """One table, each figure as `a / b / c` in the order of `columns`."""
    print("\n" + " / ".join(columns) + ":")
    fields = (
        ("calls", lambda f: f.calls),
        ("after last action", lambda f: f.after_last_action),
        ("page tokens", lambda f: f.page_tokens),
        ("largest page", lambda f: f.largest_page),
        ("prompt tokens", lambda f: f.input_tokens),
    )
    print(f"{'task':<11}" + "".join(f"{title:>24}" for title, _ in fields))
    names = next(iter(columns.values()))
    for name in names:
        cells = []
        for _, value in fields:
            figures = [
                value(column[name]) if name in column else "-" for column in columns.values()
            ]
            cells.append(" / ".join(map(str, figures)))
        print(f"{name:<11}" + "".join(f"{cell:>24}" for cell in cells))


async def main(mode: str, repeat: int) -> None:
    modes = ("one", "several") if mode == "both" else (mode,)
    results = {m: await run_mode(m, repeat) for m in modes}
    if "several" in results:
        summary({"48f264a": BEFORE, **results})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mode", choices=("several", "one", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=1)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.mode, arguments.repeat))
