"""Model calls and page tokens per task, on the fixture tasks, with the fake model.

Runs each task through the real stack (Temporal dev server, worker, Chromium, fixture sites) and
reads back what the model was sent: every Messages API request of the run (steps, verification,
extraction), the page descriptions in them, and the step log. Per task it prints the steps
(actions in the step log), the model calls, the page tokens the model read (characters / 4 of
every <page> section sent) and the prompt tokens the endpoint counted (input, cached or not).

    .venv/bin/python -m bench.model_calls [--repeat 1]

It only uses what every version of Wayfinder has (run_task, get_run_steps, usage), so the same
file measures an older checkout: copy it and its fixtures there and run it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
from dataclasses import dataclass

from bench.stack import bench_stack
from tests.fixtures.carousel import add_carousel
from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.portal import add_portal, claim_task, claim_values
from tests.fixtures.sites import SiteServer
from tests.fixtures.stockroom import PRODUCT, add_stockroom, product_task
from wayfinder import Client

PAGE_SECTION = re.compile(r"<page>(.*?)</page>", re.S)


@dataclass
class Task:
    name: str
    prompt: str
    path: str
    max_steps: int | None = None


def token() -> str:
    """A marker for one task's requests to the fake model (the fake ignores it as a label)."""
    return f"[bench {secrets.token_hex(4)}]"


def tasks() -> list[Task]:
    """The fixture tasks, each with a token of its own."""
    return [
        Task("news", f"{token()} Get the title of the top post", "/news"),
        Task(
            "shop",
            f'{token()} Click "Catalogue", then click "Garden", then get the price of the '
            "Watering Can",
            "/shop",
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
    model_calls: int
    page_tokens: int
    input_tokens: int


def _page_tokens(fake: FakeAnthropicServer, token: str) -> int:
    total = 0
    for body in fake.requests(match=token):
        for message in body.get("messages") or []:
            content = message.get("content")
            text = content if isinstance(content, str) else str(content)
            total += sum(len(page) // 4 for page in PAGE_SECTION.findall(text))
    return total


async def measure(client: Client, fake: FakeAnthropicServer, url: str, task: Task) -> Figures:
    token = re.search(r"\[bench \w+\]", task.prompt).group(0)  # type: ignore[union-attr]
    run = await client.run_task(
        task.prompt, url=url + task.path, max_steps=task.max_steps, wait_for_completion=True
    )
    steps = await client.get_run_steps(run.run_id)
    return Figures(
        status=str(run.status.value),
        steps=len(steps),
        model_calls=run.usage.model_calls,
        page_tokens=_page_tokens(fake, token),
        input_tokens=run.usage.input_tokens
        + run.usage.cache_read_input_tokens
        + run.usage.cache_creation_input_tokens,
    )


def _mount(sites: SiteServer) -> None:
    add_stockroom(sites)
    add_portal(sites)
    add_carousel(sites, "/bench-carousel")


async def main(repeat: int) -> None:
    async with bench_stack() as stack:
        _mount(stack.sites)
        async with await Client.connect(settings=stack.settings, run_worker=True) as client:
            print(
                f"{'task':<11}{'status':<12}{'steps':>6}{'model calls':>13}"
                f"{'page tokens':>13}{'prompt tokens':>14}"
            )
            for _ in range(repeat):
                for task in tasks():
                    figures = await measure(client, stack.fake, stack.sites.url, task)
                    print(
                        f"{task.name:<11}{figures.status:<12}{figures.steps:>6}"
                        f"{figures.model_calls:>13}{figures.page_tokens:>13}"
                        f"{figures.input_tokens:>14}"
                    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    asyncio.run(main(parser.parse_args().repeat))
