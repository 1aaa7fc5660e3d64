"""Publishing a run as code: the locators recorded while it acted, the script built from its
step log, and the generated Playwright program, run on its own with other values."""

from __future__ import annotations

from tests.fixtures.admin_site import PASSWORD, AdminSite
from tests.fixtures.sites import SiteServer
from wayfinder import Client, RunStatus
from wayfinder.models import TaskRunRequest
from wayfinder.scripts.build import build_script
from wayfinder.scripts.codegen import generate_code

ADMIN_TASK = (
    'Fill "admin" into "Username", fill "{password}" into "Password", click "Log in", then '
    'fill "Blue Kettle" into "Name", fill "19.99" into "Price", select "Kitchen" from '
    '"Category", then click "Add product".'
)


async def test_explore(client: Client, sites: SiteServer, token: str) -> None:
    AdminSite(sites).install()
    request = TaskRunRequest(prompt=f"{token} " + ADMIN_TASK.format(password=PASSWORD), url=f"{sites.url}/admin")
    result = await client.run_task(request.prompt, url=request.url, wait_for_completion=True)
    steps = await client.get_run_steps(result.run_id)
    for s in steps:
        print(s.summary(), s.target, s.after)
    assert result.status is RunStatus.completed, result.failure_reason
    script = build_script(request, steps)
    print(script.model_dump_json(indent=1))
    print(generate_code(script))
