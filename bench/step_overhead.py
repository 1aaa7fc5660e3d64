"""Orchestration overhead per step, and page-description size, with the fake model.

Runs real tasks (real Temporal dev server, worker, Chromium, fixture sites) against the fake
Messages API, which answers in well under a millisecond, so the time per step is Wayfinder's own
cost: snapshot, screenshot, activity scheduling, action, settling and the checkpoint. Also prints,
for each fixture page, the size of its description in estimated tokens and the time and size of
the checkpoint a step takes of it.

    .venv/bin/python -m bench.step_overhead [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

from playwright.async_api import async_playwright

from bench.stack import bench_stack
from wayfinder import Client
from wayfinder.browser.checkpoint import capture
from wayfinder.browser.host import CHROMIUM_ARGS, find_chromium
from wayfinder.browser.snapshot import take_snapshot

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


@dataclass
class PageFigures:
    tokens: int
    """Estimated tokens of the page description."""
    checkpoint_ms: float
    """Time to capture the checkpoint a step returns (median of 5)."""
    checkpoint_bytes: int


async def page_figures(base: str) -> dict[str, PageFigures]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=find_chromium(None), args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        figures = {}
        for path in PAGES:
            await page.goto(base + path)
            times = []
            for _ in range(5):
                started = time.perf_counter()
                checkpoint = await capture(context, page)
                times.append((time.perf_counter() - started) * 1000)
            figures[path] = PageFigures(
                tokens=(await take_snapshot(page)).token_estimate,
                checkpoint_ms=statistics.median(times),
                checkpoint_bytes=len(checkpoint.model_dump_json()),
            )
        await browser.close()
    return figures


async def main(repeat: int) -> None:
    async with bench_stack() as stack:
        sites = stack.sites
        async with await Client.connect(settings=stack.settings, run_worker=True) as client:
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
        figures = await page_figures(sites.url)
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
    print("per page: description (estimated tokens, budget 6000); checkpoint capture")
    for path, page in figures.items():
        print(
            f"  {path:<24}{page.tokens:>6} tokens   checkpoint {page.checkpoint_ms:5.1f} ms, "
            f"{page.checkpoint_bytes:>5} bytes"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    asyncio.run(main(parser.parse_args().repeat))
