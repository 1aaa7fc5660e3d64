"""Orchestration overhead per step, and page-description size, with the fake model.

Runs real tasks (real Temporal dev server, worker, Chromium, fixture sites) against the fake
Messages API, which answers in well under a millisecond, so the time per step is Wayfinder's own
cost: snapshot, screenshot, activity scheduling, action and settling. Also prints the size of the
page description of each fixture page, in estimated tokens.

    .venv/bin/python -m bench.step_overhead [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from wayfinder import Client
from wayfinder.browser.host import CHROMIUM_ARGS, find_chromium
from wayfinder.browser.snapshot import take_snapshot
from wayfinder.devserver import DevServer
from wayfinder.settings import Settings

TASKS = [
    ("news", "Get the title of the top post", "/news"),
    (
        "shop",
        'Click "Catalogue", then click "Garden", then get the price of the Watering Can',
        "/shop",
    ),
    (
        "contact",
        'Fill "Ada Lovelace" into "Name", fill "ada@example.com" into "Email", select "Billing" '
        'from "Topic", fill "Hello." into "Message", check "I agree", then click "Send".',
        "/contact",
    ),
]
PAGES = ["/news", "/products", "/contact", "/shop/category/garden", "/frames", "/pages/1"]


async def page_tokens(base: str) -> dict[str, int]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=find_chromium(None), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        sizes = {}
        for path in PAGES:
            await page.goto(base + path)
            sizes[path] = (await take_snapshot(page)).token_estimate
        await browser.close()
    return sizes


async def main(repeat: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="wayfinder-bench-"))
    with FakeAnthropicServer() as fake, SiteServer() as sites:
        async with DevServer() as dev:
            settings = Settings(
                temporal_address=dev.address,
                anthropic_api_key="bench",
                anthropic_base_url=fake.url,
                home=home,
            )
            async with await Client.connect(settings=settings, run_worker=True) as client:
                # Warm up: Chromium launch and first workflow are not per-step costs.
                await client.run_task(
                    "Get the title of the top post",
                    url=sites.url + "/news",
                    wait_for_completion=True,
                )
                step_ms: list[int] = []
                per_step_wall: list[float] = []
                print(f"{'task':<10}{'steps':>6}{'wall s':>9}{'s/step':>9}{'model calls':>13}")
                for _ in range(repeat):
                    for name, prompt, path in TASKS:
                        started = time.perf_counter()
                        run = await client.run_task(
                            prompt, url=sites.url + path, wait_for_completion=True
                        )
                        wall = time.perf_counter() - started
                        assert run.status == "completed", run.failure_reason
                        steps = await client.get_run_steps(run.run_id)
                        step_ms += [s.duration_ms for s in steps]
                        per_step_wall.append(wall / len(steps))
                        print(
                            f"{name:<10}{len(steps):>6}{wall:>9.2f}{wall / len(steps):>9.2f}"
                            f"{run.usage.model_calls:>13}"
                        )
        sizes = await page_tokens(sites.url)
    print()
    print(
        f"take_step activity, mean {statistics.mean(step_ms):.0f} ms, "
        f"median {statistics.median(step_ms):.0f} ms over {len(step_ms)} steps"
    )
    print(
        f"run wall time per step (incl. launch, verify, close): "
        f"mean {statistics.mean(per_step_wall):.2f} s"
    )
    print()
    print("page description size (estimated tokens, budget 6000):")
    for path, tokens in sizes.items():
        print(f"  {path:<24}{tokens:>6}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    asyncio.run(main(parser.parse_args().repeat))
