"""Publishing a run as code: the script built from a real run's step log, and the generated
Playwright program, checked by ruff and run on its own with other values."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import Page

from tests.fixtures.admin_site import PASSWORD, AdminSite
from tests.fixtures.sites import SHOP_CATEGORIES, SiteServer
from wayfinder import Client, RunStatus
from wayfinder.activities.script import opened
from wayfinder.browser.extraction_plan import plan_extraction
from wayfinder.browser.locators import TargetNotFoundError, resolve_target
from wayfinder.models import StepRecord, TaskRunRequest
from wayfinder.scripts.build import build_script
from wayfinder.scripts.codegen import generate_code
from wayfinder.scripts.model import Script

ADMIN_TASK = (
    'Fill "admin" into "Username", fill "{password}" into "Password", click "Log in", then '
    'fill "Blue Kettle" into "Name", fill "19.99" into "Price", select "Kitchen" from '
    '"Category", then click "Add product".'
)


def _ruff_check(path: Path) -> subprocess.CompletedProcess[str]:
    """The project's rule set, without its pyproject (the script lives outside the project)."""
    ruff = Path(sys.executable).with_name("ruff")
    return subprocess.run(
        [str(ruff), "check", "--isolated", "--line-length", "100", "--select",
         "E,F,I,UP,B,ASYNC,RUF", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def admin(sites: SiteServer) -> AdminSite:
    return AdminSite(sites).install()


@pytest.fixture(scope="module")
async def admin_run(
    client: Client, admin: AdminSite
) -> tuple[TaskRunRequest, list[StepRecord], Script]:
    """One real run on the back office (log in, add a product), and its script."""
    request = TaskRunRequest(
        prompt=ADMIN_TASK.format(password=PASSWORD), url=f"{admin.sites.url}/admin"
    )
    result = await client.run_task(request.prompt, url=request.url, wait_for_completion=True)
    assert result.status is RunStatus.completed, result.failure_reason
    steps = await client.get_run_steps(result.run_id)
    # As publishing does: the sealed password opened (with the workers' key) for build_script.
    return request, steps, build_script(request, opened(steps, client.settings))


def test_typed_and_chosen_values_become_parameters(
    admin_run: tuple[TaskRunRequest, list[StepRecord], Script], admin: AdminSite
) -> None:
    _, _, script = admin_run
    assert [(p.name, p.default, p.secret) for p in script.parameters] == [
        ("url", f"{admin.sites.url}/admin", False),
        ("username", "admin", False),
        ("password", None, True),
        ("name", "Blue Kettle", False),
        ("price", "19.99", False),
        ("category", "Kitchen", False),
    ]
    assert [s.intent for s in script.steps] == [
        "Type the username into input 'Username'",
        "Type the password into input 'Password'",
        "Click button 'Log in'",
        "Type the name into input 'Name'",
        "Type the price into input 'Price'",
        "Choose the category in select 'Category'",
        "Click button 'Add product'",
    ]
    # What the page showed after adding, with the values as placeholders for a rerun.
    after = script.steps[-1].actions[-1].after
    assert after is not None
    assert after.text == "Added {name} ({price}) to {category}."
    values = {"name": "Red Teapot", "price": "7.50", "category": "Garden"}
    assert after.expected_text(values) == "Added Red Teapot (7.50) to Garden."


def test_the_password_is_nowhere_in_the_script_or_code(
    admin_run: tuple[TaskRunRequest, list[StepRecord], Script],
) -> None:
    _, steps, script = admin_run
    password_step = next(s for s in steps if s.target and s.target.secret)
    assert password_step.element == "input 'Password'"
    assert PASSWORD not in password_step.model_dump_json()  # typed, but kept only sealed
    assert PASSWORD not in script.model_dump_json()
    assert PASSWORD not in generate_code(script)
    assert "[secret]" in script.prompt


def test_generated_code_passes_ruff(
    admin_run: tuple[TaskRunRequest, list[StepRecord], Script], tmp_path: Path
) -> None:
    code = generate_code(admin_run[2])
    path = tmp_path / "add_product.py"
    path.write_text(code)
    checked = _ruff_check(path)
    assert checked.returncode == 0, checked.stdout + code


def test_generated_script_runs_standalone_with_other_values(
    admin_run: tuple[TaskRunRequest, list[StepRecord], Script],
    admin: AdminSite,
    tmp_path: Path,
) -> None:
    path = tmp_path / "add_product.py"
    path.write_text(generate_code(admin_run[2]))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PASSWORD")}
    args = [sys.executable, "-I", str(path), "--name", "Red Teapot", "--price", "7.50"]
    args += ["--category", "Garden"]
    # A secret has no default: the script refuses to start without it.
    refused = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "--password is required" in refused.stderr
    ran = subprocess.run(
        args,
        capture_output=True,
        text=True,
        env={**env, "PASSWORD": PASSWORD},
        cwd=tmp_path,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert {"kind": "product", "name": "Red Teapot", "price": "7.50", "category": "Garden"} in (
        admin.products
    )


PRICE_LIST_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"item": {"type": "string"}, "price": {"type": "number"}},
    },
}


def _price_list(slug: str) -> list[dict[str, object]]:
    return [
        {"item": name, "price": float(price.strip("$"))}
        for name, price, _ in SHOP_CATEGORIES[slug]["items"]
    ]


async def test_generated_script_prints_the_rows_of_another_page(
    page: Page, sites: SiteServer, tmp_path: Path
) -> None:
    """An extraction-only script, planned on one category page, reads another's rows."""
    url = f"{sites.url}/shop/category/garden"
    await page.goto(url)
    plan = await plan_extraction(page, _price_list("garden"), PRICE_LIST_SCHEMA)
    assert plan is not None
    request = TaskRunRequest(
        prompt="List every item and its price", url=url, data_extraction_schema=PRICE_LIST_SCHEMA
    )
    code = generate_code(build_script(request, [], extraction=plan))
    path = tmp_path / "price_list.py"
    path.write_text(code)
    checked = await asyncio.to_thread(_ruff_check, path)
    assert checked.returncode == 0, checked.stdout + code
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    args = [sys.executable, "-I", str(path), "--url", f"{sites.url}/shop/category/kitchen"]
    # In a thread: the session's worker shares this event loop.
    ran = await asyncio.to_thread(
        subprocess.run, args, capture_output=True, text=True, env=env, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == _price_list("kitchen")


def test_the_docs_show_the_code_generated_for_this_task(
    admin_run: tuple[TaskRunRequest, list[StepRecord], Script], admin: AdminSite
) -> None:
    """docs/publishing.md shows the back-office script in full, recorded on port 8010."""
    recorded = admin_run[2].model_dump_json().replace(admin.sites.url, "http://127.0.0.1:8010")
    code = generate_code(Script.model_validate_json(recorded))
    docs = Path(__file__).parents[1] / "docs" / "publishing.md"
    assert code in docs.read_text(encoding="utf-8")


async def test_recorded_targets_resolve_on_a_fresh_page_until_the_redesign(
    admin_run: tuple[TaskRunRequest, list[StepRecord], Script], admin: AdminSite, page: Page
) -> None:
    """The script's chains find the back office's fields on a new page (no snapshot ids);
    after the redesign the moved fields are still found, the renamed button is not."""
    script = admin_run[2]
    targets = [a.target for s in script.steps for a in s.actions]
    assert all(t is not None for t in targets)
    await page.goto(f"{admin.sites.url}/admin")
    values = {"username": "admin", "password": PASSWORD}
    for step in script.steps[:3]:
        [scripted] = step.actions
        assert scripted.target is not None
        element = await resolve_target(page, scripted.target)
        if scripted.parameter:
            await element.fill(values[scripted.parameter])
        else:
            await element.click()
    await page.wait_for_url("**/admin/products/new")
    admin.redesigned = True
    try:
        await page.reload()
        for step in script.steps[3:6]:  # Name, Price (now first), Category
            assert step.actions[0].target is not None
            await resolve_target(page, step.actions[0].target, timeout_ms=0)
        button = script.steps[6].actions[0].target
        assert button is not None
        with pytest.raises(TargetNotFoundError, match="get_by_role\\('button', name='Add"):
            await resolve_target(page, button, timeout_ms=200)
    finally:
        admin.redesigned = False
