"""A code rerun against the agent run it came from and a hand-written Playwright script.

One fixture task (the back office: log in, add a product; `tests/fixtures/admin_site.py`), on
a real Temporal dev server, worker and Chromium:

* the agent run, with the fake model answering after `--model-delay` seconds (like a real
  model's latency), published as a workflow;
* the code rerun of that workflow with other values (`run_workflow`, no model);
* the same task written by hand with Playwright, in a new context of an already running
  Chromium (what the rerun gets from the worker), and as `python script.py` would run it,
  launching Chromium itself.

    .venv/bin/python -m bench.rerun [--model-delay 1.5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from playwright.async_api import Browser, async_playwright

from bench.stack import bench_stack
from tests.fixtures.admin_site import PASSWORD, AdminSite
from wayfinder import Client
from wayfinder.browser.host import CHROMIUM_ARGS, find_chromium

MARKER = "[bench rerun]"
"""In the prompt, so the fake model's delay applies to this run's requests."""
TASK = MARKER + (
    ' Fill "admin" into "Username", fill "{password}" into "Password", click "Log in", then fill '
    '"Blue Kettle" into "Name", fill "19.99" into "Price", select "Kitchen" from "Category", then '
    'click "Add product"'
)


async def hand_written(browser: Browser, url: str, name: str, price: str) -> None:
    """The task as a person would write it with Playwright."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url + "/admin")
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Price").fill(price)
    await page.get_by_label("Category").select_option("Tools")
    await page.get_by_role("button", name="Add product").click()
    await page.get_by_text(f"Added {name}").wait_for()
    await context.close()


async def hand_written_standalone(url: str, name: str, price: str) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=find_chromium(None), args=CHROMIUM_ARGS)
        await hand_written(browser, url, name, price)
        await browser.close()


async def main(model_delay: float, repeat: int) -> None:
    async with bench_stack() as stack:
        admin = AdminSite(stack.sites).install()
        async with await Client.connect(settings=stack.settings, run_worker=True) as client:
            stack.fake.delay(MARKER, model_delay)
            calls = len(stack.fake.requests())
            started = time.perf_counter()
            agent = await client.run_task(
                TASK.format(password=PASSWORD),
                url=stack.sites.url + "/admin",
                publish_workflow=True,
                wait_for_completion=True,
            )
            agent_wall = time.perf_counter() - started
            agent_calls = len(stack.fake.requests()) - calls
            assert agent.status == "completed" and agent.workflow_id, agent.failure_reason
            stack.fake.delay(MARKER, 0)
            workflow = await client.get_workflow(agent.workflow_id)
            secret = next(p.name for p in workflow.parameters if p.secret)
            name = next(p.name for p in workflow.parameters if p.default == "Blue Kettle")

            # Interleaved, so that the load of a shared machine falls on all three alike.
            code_walls, warm_walls, cold_walls, code_calls = [], [], [], 0
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=find_chromium(None), args=CHROMIUM_ARGS
                )
                for index in range(repeat):
                    calls = len(stack.fake.requests())
                    started = time.perf_counter()
                    rerun = await client.run_workflow(
                        agent.workflow_id,
                        {secret: PASSWORD, name: f"Red Teapot {index}"},
                        wait_for_completion=True,
                    )
                    code_walls.append(time.perf_counter() - started)
                    code_calls += len(stack.fake.requests()) - calls
                    assert rerun.status == "completed", rerun.failure_reason
                    started = time.perf_counter()
                    await hand_written(browser, stack.sites.url, f"Hand {index}", "1.00")
                    warm_walls.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    await hand_written_standalone(stack.sites.url, f"Cold {index}", "1.00")
                    cold_walls.append(time.perf_counter() - started)
                await browser.close()
            assert len(admin.products) == 3 * repeat + 1

    code, warm, cold = (statistics.median(w) for w in (code_walls, warm_walls, cold_walls))
    print(f"task: {len(workflow.parameters)} parameters, {agent.step_count} agent steps")
    print(f"{'':<40}{'wall s':>8}{'model calls':>13}")
    agent_label = f"agent run (model delay {model_delay:g} s)"
    print(f"{agent_label:<40}{agent_wall:>8.2f}{agent_calls:>13}")
    print(
        f"{'code rerun (median of ' + str(repeat) + ')':<40}{code:>8.2f}{code_calls // repeat:>13}"
    )
    print(f"{'hand-written, running Chromium':<40}{warm:>8.2f}{0:>13}")
    print(f"{'hand-written, launching Chromium':<40}{cold:>8.2f}{0:>13}")
    print()
    print(f"code rerun / hand-written (running Chromium)   {code / warm:6.2f}  (target <= 1.2)")
    print(f"code rerun / hand-written (launching Chromium) {code / cold:6.2f}")
    print(f"agent run / code rerun                         {agent_wall / code:6.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-delay", type=float, default=1.5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.model_delay, args.repeat))
