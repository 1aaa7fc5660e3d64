"""Orchestration overhead per step, and page-description size, with the fake model.

Runs real tasks (real Temporal dev server, worker, Chromium, fixture sites) against the fake
Messages API, which answers in milliseconds, so the time per step is Wayfinder's own cost:
snapshot, screenshot, the model call's round trip, action, settling and the checkpoint. Then
times those parts one by one on the fixture pages: for each page the size of its description in
estimated tokens, and the time of its description, screenshot and checkpoint; for each kind of
action, the time of recording its element (for publishing), of `execute_action` (settling
included) and of recording what the page showed after it. The machine's load average is
printed with the figures: on a shared machine it moves them more than any change does.

    .venv/bin/python -m bench.step_overhead [--repeat 3] [--model-latency 1.5]

With `--model-latency S` the fake answers each step's call after S seconds, as a real model
does (seconds), and the figures are of take_step less that wait: what Wayfinder adds to a step
when the work that runs while the model decides (the screenshot, the page's text, Playwright's
set-up) is hidden behind it, as it is with a real model.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright

from bench.stack import bench_stack
from wayfinder import Client
from wayfinder.actions import ClickAction, InputTextAction, SelectOptionAction
from wayfinder.browser.actions import execute_action
from wayfinder.browser.checkpoint import capture
from wayfinder.browser.host import CHROMIUM_ARGS, find_chromium
from wayfinder.browser.locators import ActionRecorder, text_lines
from wayfinder.browser.settle import prime
from wayfinder.browser.snapshot import take_snapshot
from wayfinder.llm import prompts

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
    snapshot_ms: float
    screenshot_ms: float
    """The step's JPEG screenshot of the viewport."""
    checkpoint_ms: float
    """Time to capture the checkpoint a step returns."""
    checkpoint_bytes: int


def _tree_cpu_s() -> float:
    """CPU seconds used so far by this process and its descendants (the worker, Node's
    Playwright driver, Chromium, the Temporal dev server), exited ones included through their
    parents: unlike wall time, barely moved by what else runs on the machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        # After the command: state, ppid, ... utime (12th), stime, cutime, cstime.
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = sum(int(f) for f in fields[11:15])

    def ours(pid: int) -> bool:
        while pid > 1:
            if pid == os.getpid():
                return True
            pid = parents.get(pid, 0)
        return False

    return sum(t for pid, t in used.items() if ours(pid)) / ticks


async def _median_ms(fn: Callable[[], Awaitable[Any]], times: int = 5) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        await fn()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


@dataclass
class ActionFigures:
    """Median ms of the parts of one element action, as a step runs them."""

    record_ms: float
    """Recording its element for publishing (`ActionRecorder.start`), before it acts."""
    execute_ms: float
    """`execute_action`, settling included."""
    after_ms: float
    """Recording what the page showed after it (`ActionRecorder.finish`)."""
    cpu_ms: float
    """CPU time of all processes (Python, Node's driver, Chromium) for the three."""


async def _action_ms(page: Page, url: str, name: str, make: Callable[[str], Any]) -> ActionFigures:
    """The parts of an action on the element called `name`, on a fresh load each time, as a
    step runs them after the model's answer."""
    spent: dict[str, list[float]] = {"record": [], "execute": [], "after": [], "cpu": []}
    for _ in range(5):
        await page.goto(url)
        snapshot = await take_snapshot(page)
        (element_id,) = [e.id for e in snapshot.elements.values() if e.name == name]
        action = make(element_id)
        # What a step does while the model decides, off the critical path timed here.
        seen = await text_lines(page)
        await prime(page)
        cpu = _tree_cpu_s()
        started = time.perf_counter()
        recorder = await ActionRecorder.start(page, snapshot, action, seen)
        recorded = time.perf_counter()
        page = await execute_action(page, snapshot, action)
        executed = time.perf_counter()
        await recorder.finish(page)
        spent["cpu"].append((_tree_cpu_s() - cpu) * 1000)
        spent["record"].append((recorded - started) * 1000)
        spent["execute"].append((executed - recorded) * 1000)
        spent["after"].append((time.perf_counter() - executed) * 1000)
    median = {part: statistics.median(ms) for part, ms in spent.items()}
    return ActionFigures(median["record"], median["execute"], median["after"], median["cpu"])


async def page_figures(base: str) -> tuple[dict[str, PageFigures], dict[str, ActionFigures]]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=find_chromium(None), args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        figures = {}
        for path in PAGES:
            await page.goto(base + path)
            figures[path] = PageFigures(
                tokens=(await take_snapshot(page)).token_estimate,
                snapshot_ms=await _median_ms(lambda: take_snapshot(page)),
                screenshot_ms=await _median_ms(
                    lambda: page.screenshot(type="jpeg", quality=60, caret="initial")
                ),
                checkpoint_ms=await _median_ms(lambda: capture(context, page)),
                checkpoint_bytes=len((await capture(context, page)).model_dump_json()),
            )
        contact, shop = base + "/contact", base + "/shop"
        actions = {
            "input_text": await _action_ms(
                page, contact, "Name", lambda e: InputTextAction(element_id=e, text="Ada")
            ),
            "select_option": await _action_ms(
                page, contact, "Topic", lambda e: SelectOptionAction(element_id=e, option="Billing")
            ),
            "click (checkbox)": await _action_ms(
                page, contact, "I agree to the privacy policy", lambda e: ClickAction(element_id=e)
            ),
            "click (navigates)": await _action_ms(
                page, shop, "Catalogue", lambda e: ClickAction(element_id=e)
            ),
        }
        await browser.close()
    return figures, actions


async def main(repeat: int, model_latency: float) -> None:
    load_before = os.getloadavg()[0]
    async with bench_stack() as stack:
        sites = stack.sites
        if model_latency:
            # Only the step's own call (its system prompt): verification is not in take_step.
            stack.fake.delay(prompts.ACT_SYSTEM[:60], model_latency)
        async with await Client.connect(settings=stack.settings, run_worker=True) as client:
            # Warm up: Chromium launch and first workflow are not per-step costs.
            await client.run_task(
                "Get the title of the top post",
                url=sites.url + "/news",
                wait_for_completion=True,
            )
            cpu_before = _tree_cpu_s()
            step_ms: list[int] = []
            records = 0
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
                    # One take_step per answer: an answer's several actions are several records,
                    # and its time is on the last of them (the others carry 0).
                    step_ms += [s.duration_ms for s in steps if s.duration_ms]
                    records += len(steps)
                    per_step_wall.append(wall / len(steps))
                    print(
                        f"{name:<10}{len(steps):>6}{wall:>9.2f}{wall / len(steps):>9.2f}"
                        f"{run.usage.model_calls:>13}"
                    )
            cpu_per_step = (_tree_cpu_s() - cpu_before) / len(step_ms)
        figures, actions = await page_figures(sites.url)
    print()
    print(
        f"take_step activity, mean {statistics.mean(step_ms):.0f} ms, "
        f"median {statistics.median(step_ms):.0f} ms over {len(step_ms)} take_step calls "
        f"(load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)"
    )
    if model_latency:
        own = [ms - model_latency * 1000 for ms in step_ms]
        print(
            f"take_step less the model's {model_latency:.1f} s: "
            f"mean {statistics.mean(own):.0f} ms, median {statistics.median(own):.0f} ms; "
            f"per recorded action {sum(own) / records:.0f} ms"
        )
    print(
        f"take_step time per recorded action (an answer may hold several): "
        f"{sum(step_ms) / records:.0f} ms over {records} actions"
    )
    print(
        f"CPU time of all processes per take_step call (incl. launch, verify, close): "
        f"{cpu_per_step * 1000:.0f} ms"
    )
    print(
        f"run wall time per step (incl. launch, verify, close): "
        f"mean {statistics.mean(per_step_wall):.2f} s"
    )
    print()
    print("per page: description (estimated tokens, budget 6000) and the time of its parts")
    for path, page in figures.items():
        print(
            f"  {path:<24}{page.tokens:>6} tokens   snapshot {page.snapshot_ms:5.1f} ms   "
            f"screenshot {page.screenshot_ms:5.1f} ms   checkpoint {page.checkpoint_ms:5.1f} ms, "
            f"{page.checkpoint_bytes:>5} bytes"
        )
    print("per action (median of 5): recording its element, execute_action (settling included),")
    print("recording the page after it; and the CPU time all processes spent on them")
    for name, parts in actions.items():
        print(
            f"  {name:<24}record {parts.record_ms:5.0f} ms   execute {parts.execute_ms:5.0f} ms   "
            f"after {parts.after_ms:4.0f} ms   total "
            f"{parts.record_ms + parts.execute_ms + parts.after_ms:5.0f} ms   "
            f"CPU {parts.cpu_ms:4.0f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--model-latency", type=float, default=0.0, help="seconds each step's model call takes"
    )
    args = parser.parse_args()
    asyncio.run(main(args.repeat, args.model_latency))
