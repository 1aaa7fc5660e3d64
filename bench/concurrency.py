"""Ten runs at once against one at a time, on one worker, and the memory a concurrent run costs.

Everything is real but the model: a Temporal dev server, this process as the worker (with its
Chromium), the fixture sites and the fake Messages API. `--model-delay` makes each model call
take that long, as a real model's would (the fake answers in under a millisecond); with 0 the
runs are bound by this machine's CPU alone.

Memory is sampled every 0.2 s while the runs go on, by summing `/proc/<pid>/smaps_rollup` over
this process and its descendants (the Playwright driver and every Chromium process), leaving out
the Temporal dev server. PSS splits shared pages between the processes that share them, so it is
the fair sum; RSS counts shared pages once per process and overstates.

    .venv/bin/python -m bench.concurrency [--runs 10] [--model-delay 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass

from bench.stack import bench_stack
from wayfinder import Client, RunStatus, WayfinderPlugin

TASKS = [
    ("Get the title of the top post", "/news"),
    ('Click "Catalogue", then click "Garden", then get the price of the Watering Can', "/shop"),
    ("Extract the name, price, and rating of the top 3 products", "/products"),
]
MARK = "[bench]"
"""In every prompt, so that the fake model's delay applies to these runs."""


@dataclass
class Memory:
    rss_mb: float
    pss_mb: float


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command name may hold spaces: the parent pid follows its closing paren.
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_memory(root: int, exclude: set[int], *, descendants: bool = True) -> Memory:
    """RSS and PSS of `root` and its descendants, leaving out the subtrees under `exclude`."""
    tree, todo, rss, pss = _children(), [root], 0, 0
    while todo:
        pid = todo.pop()
        if pid in exclude:
            continue
        if descendants:
            todo += tree.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    name, _, rest = line.partition(":")
                    if name == "Rss":
                        rss += int(rest.split()[0])
                    elif name == "Pss":
                        pss += int(rest.split()[0])
        except OSError:
            continue  # ended meanwhile
    return Memory(rss_mb=rss / 1024, pss_mb=pss / 1024)


class PeakSampler:
    """Samples the worker's memory in the background and keeps the highest PSS seen."""

    def __init__(self, exclude: set[int]) -> None:
        self._exclude = exclude
        self.peak = Memory(0.0, 0.0)
        self.peak_python = Memory(0.0, 0.0)
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            now = await asyncio.to_thread(tree_memory, os.getpid(), self._exclude)
            if now.pss_mb > self.peak.pss_mb:
                self.peak = now
                self.peak_python = tree_memory(os.getpid(), set(), descendants=False)
            await asyncio.sleep(0.2)

    def __enter__(self) -> PeakSampler:
        self._task = asyncio.create_task(self._sample())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def run_batch(client: Client, base: str, count: int, at_once: bool) -> float:
    """Wall time of `count` runs, all started together or one after the other."""
    jobs = [TASKS[i % len(TASKS)] for i in range(count)]
    started = time.perf_counter()
    if at_once:
        runs = await asyncio.gather(
            *(
                client.run_task(f"{MARK} {prompt}", url=base + path, wait_for_completion=True)
                for prompt, path in jobs
            )
        )
    else:
        runs = [
            await client.run_task(f"{MARK} {prompt}", url=base + path, wait_for_completion=True)
            for prompt, path in jobs
        ]
    wall = time.perf_counter() - started
    failed = [run.failure_reason for run in runs if run.status is not RunStatus.completed]
    assert not failed, failed
    return wall


async def main(count: int, model_delay: float) -> None:
    async with bench_stack(max_concurrent_runs=count) as stack:
        stack.fake.delay(MARK, model_delay)
        sites, dev = stack.sites, stack.dev
        exclude = {dev.pid} if dev.pid else set()
        async with await Client.connect(settings=stack.settings, run_worker=True) as client:
            plugin = next(
                p for p in client.temporal.config()["plugins"] if isinstance(p, WayfinderPlugin)
            )
            # Warm up: Chromium's launch and the first workflow are not per-run costs.
            await run_batch(client, sites.url, 1, at_once=False)
            idle = tree_memory(os.getpid(), exclude)
            idle_python = tree_memory(os.getpid(), set(), descendants=False)
            sequential = await run_batch(client, sites.url, count, at_once=False)
            with PeakSampler(exclude) as sampler:
                concurrent = await run_batch(client, sites.url, count, at_once=True)
            peak_contexts = plugin.runtime.host.limit.peak
    peak = sampler.peak
    print(f"{count} runs, model delay {model_delay:.1f} s per call, {os.cpu_count()} CPUs")
    print(f"  one at a time   {sequential:7.1f} s   {count / sequential * 60:6.1f} runs/min")
    print(f"  all at once     {concurrent:7.1f} s   {count / concurrent * 60:6.1f} runs/min")
    print(f"  speed-up        {sequential / concurrent:7.2f}x   peak live contexts {peak_contexts}")
    python = sampler.peak_python
    print(
        f"  worker + Chromium, idle (browser up, no run): PSS {idle.pss_mb:6.0f} MB"
        f"  (this Python process {idle_python.pss_mb:.0f} MB, with the fake servers' threads)"
    )
    print(
        f"  worker + Chromium, peak with {count} runs:    PSS {peak.pss_mb:6.0f} MB"
        f"  (this Python process {python.pss_mb:.0f} MB; RSS sum {peak.rss_mb:.0f} MB)"
    )
    print(
        f"  per concurrent run: {peak.pss_mb / count:.0f} MB PSS all in, "
        f"{(peak.pss_mb - idle.pss_mb) / count:.0f} MB above idle"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--model-delay", type=float, default=1.0)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.model_delay))
