"""A long run: 500 steps through an endless archive, across continue-as-new.

The fake model clicks "Next page" on `/pages/N` until `max_steps` ends the run (`timed_out`):
every step acts, none completes. Prints the wall time, time per step, how many workflow
executions the run took (Temporal's default history limits decide when it continues as new)
and the largest history of any of them.

    .venv/bin/python -m bench.long_run [--steps 500]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.stack import bench_stack
from wayfinder import Client, RunStatus


async def main(steps: int) -> None:
    async with bench_stack() as stack:
        async with await Client.connect(settings=stack.settings, run_worker=True) as client:
            started = time.perf_counter()
            run = await client.run_task(
                'Keep clicking "Next page"',
                url=f"{stack.sites.url}/pages/1",
                max_steps=steps,
                wait_for_completion=True,
                timeout=3600,
            )
            wall = time.perf_counter() - started
            log = await client.get_run_steps(run.run_id)
            executions = [
                execution
                async for execution in client.temporal.list_workflows(
                    f"WorkflowId = '{run.run_id}'"
                )
            ]
            events = [execution.history_length for execution in executions]
    assert run.status is RunStatus.timed_out, (run.status, run.failure_reason)
    print(f"{steps}-step run: {run.status.value}, step_count {run.step_count}, log {len(log)}")
    print(f"  wall {wall:.0f} s, {wall / max(len(log), 1):.2f} s per step")
    print(f"  {len(executions)} workflow executions (continue-as-new {len(executions) - 1} times)")
    print(f"  history events per execution: max {max(events)}, total {sum(events)}")
    print(f"  last page: {log[-1].url if log else '-'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    asyncio.run(main(parser.parse_args().steps))
