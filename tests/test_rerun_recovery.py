"""A code rerun survives the death of its worker: killed for real while a step is in flight,
the rerun goes on on another worker from its last checkpoint, without starting over.

Slow by nature (Temporal's heartbeat timeout has to notice the dead host): a module of its own.
"""

from __future__ import annotations

import asyncio
import html
import threading
import time
from collections.abc import Callable

import pytest

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteRequest, SiteResponse, SiteServer
from tests.fixtures.waiting import final_run
from tests.fixtures.worker_process import WorkerProcess
from wayfinder import Client, RunStatus

SLOW_SAVE = 4.0
"""Seconds the second page's form takes to answer on a rerun: the window to kill the host."""


class Orders:
    """Two pages: an order number, then a note saved slowly. Counts each page's posts."""

    def __init__(self, sites: SiteServer) -> None:
        self.posts: dict[str, list[str]] = {"order": [], "note": []}
        self.slow = False
        self.saving = threading.Event()
        sites.add_page("/orders", self.order_page)
        sites.add_page("/orders/note", self.note_page)

    def order_page(self, req: SiteRequest) -> SiteResponse | str:
        if req.method == "POST":
            self.posts["order"].append(req.form.get("order", ""))
            return SiteResponse("", status=303, headers={"location": "/orders/note"})
        return (
            "<!doctype html><title>Orders</title><h1>Find an order</h1>"
            '<form method="post"><label for="o">Order number</label> <input id="o" name="order">'
            "<button>Next</button></form>"
        )

    def note_page(self, req: SiteRequest) -> str:
        if req.method == "POST":
            note = req.form.get("note", "")
            self.saving.set()
            if self.slow:
                time.sleep(SLOW_SAVE)
            self.posts["note"].append(note)
            return (
                f"<!doctype html><title>Saved</title><p role='status'>Saved {html.escape(note)}</p>"
            )
        return (
            "<!doctype html><title>Note</title><h1>Add a note</h1>"
            '<form method="post"><label for="n">Note</label> <input id="n" name="note">'
            "<button>Save note</button></form>"
        )


@pytest.fixture
def orders(sites: SiteServer) -> Orders:
    return Orders(sites)


async def test_worker_killed_mid_rerun_resumes_at_its_page_on_another(
    client: Client,
    sites: SiteServer,
    orders: Orders,
    fake_model: FakeAnthropicServer,
    new_worker: Callable[..., WorkerProcess],
    queue: str,
) -> None:
    published = await client.run_task(
        'Fill "A-17" into "Order number", click "Next", then fill "call back" into "Note", '
        'then click "Save note"',
        url=f"{sites.url}/orders",
        publish_workflow=True,
        wait_for_completion=True,
    )
    assert published.status is RunStatus.completed, published.failure_reason
    assert published.workflow_id
    note = next(
        p.name
        for p in (await client.get_workflow(published.workflow_id)).parameters
        if p.default == "call back"
    )

    orders.slow, orders.saving = True, threading.Event()
    orders.posts = {"order": [], "note": []}
    hosts = list(await asyncio.gather(new_worker("host-a").start(), new_worker("host-b").start()))
    on_queue = Client(client.temporal, task_queue=queue, settings=client.settings)
    rerun = await on_queue.run_workflow(published.workflow_id, {note: "ring twice"})
    assert await asyncio.to_thread(orders.saving.wait, 60)
    # Chromium starts with a host's first browser: the host that has one holds the rerun's.
    holder = next(host for host in hosts if host.chromium_pid() is not None)
    other = next(host for host in hosts if host is not holder)
    holder.kill()  # while "Save note" waits for its page

    calls = len(fake_model.requests())
    final = await final_run(client, rerun.run_id)
    assert final.status is RunStatus.completed, final.failure_reason
    assert final.recoveries == 1
    assert len(fake_model.requests()) == calls
    steps = await client.get_run_steps(rerun.run_id)
    assert [s.action_type for s in steps].count("recover") == 1
    # The first page was not replayed: the rebuilt browser went on from its checkpoint.
    assert orders.posts["order"] == ["A-17"]
    assert "ring twice" in orders.posts["note"]
    assert other.chromium_pid() is not None
