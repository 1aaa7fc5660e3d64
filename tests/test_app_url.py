"""app_url: a link to the run in the Temporal UI, when a UI is known."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from wayfinder import Client
from wayfinder.devserver import DevServer
from wayfinder.settings import Settings


async def test_app_url_opens_the_run_in_the_temporal_ui(tmp_path: Path, settings: Settings) -> None:
    async with DevServer(db_file=tmp_path / "ui.db", headless=False) as server:
        assert server.ui_url
        own = settings.model_copy(
            update={"ui_url": server.ui_url, "task_queue": f"nobody-polls-{uuid.uuid4().hex[:8]}"}
        )
        async with await Client.connect(server.address, settings=own) as client:
            started = await client.run_task("Get the title of the top post")
            run_id = started.run_id
            expected = f"{server.ui_url}/namespaces/default/workflows/{run_id}"
            assert started.app_url == expected
            assert (await client.get_run(run_id)).app_url == expected
            (listed,) = [run for run in await client.list_runs() if run.run_id == run_id]
            assert listed.app_url == expected
            async with httpx.AsyncClient() as http:
                page = await http.get(expected)
                # The UI's own API, behind the page: it knows the run by that id.
                api = await http.get(
                    f"{server.ui_url}/api/v1/namespaces/default/workflows/{run_id}"
                )
            assert page.status_code == 200 and "<html" in page.text.lower()
            assert api.status_code == 200, api.text
            assert run_id in api.text
            await client.temporal.get_workflow_handle(run_id).terminate("test over")


async def test_no_app_url_without_a_ui(client: Client) -> None:
    unserved = Client(client.temporal, task_queue=f"nobody-polls-{uuid.uuid4().hex[:8]}")
    started = await unserved.run_task("Get the title of the top post")
    assert started.app_url is None  # the test server has no UI: no link rather than a dead one
    await client.temporal.get_workflow_handle(started.run_id).terminate("test over")
