"""Extraction without the model: a plan found from a run's output on the fixture pages, and
the same plan extracting the rows of a page whose rows changed."""

from __future__ import annotations

from typing import Any

import jsonschema
from playwright.async_api import Page

from tests.fixtures.sites import SiteServer
from tests.fixtures.sites_data import PRODUCT_SCHEMA, PRODUCTS
from wayfinder.browser.extraction_plan import extract, plan_extraction

TOP_THREE = [{"name": p["name"], "price": p["price"], "rating": p["rating"]} for p in PRODUCTS[:3]]

TABLE = """<h1>Price list</h1>
<table><thead><tr><th>Product</th><th>Price</th><th>Stock</th></tr></thead><tbody>
{rows}
</tbody></table><p>Prices include VAT.</p>"""

TABLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "product": {"type": "string"},
                    "price": {"type": "number"},
                    "stock": {"type": "integer"},
                },
            },
        }
    },
}


def _table(rows: list[tuple[str, str, str]]) -> str:
    body = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c} in stock</td></tr>" for a, b, c in rows)
    return TABLE.format(rows=body)


async def test_the_top_products_plan_gives_the_same_records_back(
    page: Page, sites: SiteServer
) -> None:
    await page.goto(f"{sites.url}/products")
    plan = await plan_extraction(page, TOP_THREE, PRODUCT_SCHEMA)
    assert plan is not None
    assert plan.rows == "html > body > main > section > article.card"
    assert plan.limit == 3  # the run took the first three of six cards
    assert [(f.field, f.selector) for f in plan.fields] == [
        ("name", "a"),
        ("price", "p.price"),
        ("rating", "p.rating"),
    ]
    assert await extract(page, plan) == TOP_THREE
    # The page is as it was: the planning mark is gone.
    assert await page.locator("[data-wf-rows]").count() == 0


async def test_a_table_plan_extracts_the_rows_of_a_changed_page(page: Page) -> None:
    await page.set_content(_table([("Watering can", "12.50", "4"), ("Trowel", "6.00", "11")]))
    output = {
        "items": [
            {"product": "Watering can", "price": 12.5, "stock": 4},
            {"product": "Trowel", "price": 6.0, "stock": 11},
        ]
    }
    plan = await plan_extraction(page, output, TABLE_SCHEMA)
    assert plan is not None and plan.limit is None and plan.shape == "object_with_array"
    # Rows added, removed and changed: the plan reads what is there now.
    await page.set_content(
        _table([("Hose 20 m", "1,299.00", "2"), ("Rake", "15", "0"), ("Seeds", "2.25", "130")])
    )
    data = await extract(page, plan)
    assert data == {
        "items": [
            {"product": "Hose 20 m", "price": 1299.0, "stock": 2},
            {"product": "Rake", "price": 15.0, "stock": 0},
            {"product": "Seeds", "price": 2.25, "stock": 130},
        ]
    }
    jsonschema.validate(data, TABLE_SCHEMA)


async def test_a_single_record_is_planned_as_an_object(page: Page, sites: SiteServer) -> None:
    await page.goto(f"{sites.url}/products/widget-b")
    detail = PRODUCTS[1]
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "string"}},
    }
    output = {"name": detail["name"], "price": detail["price"]}
    plan = await plan_extraction(page, output, schema)
    assert plan is not None and plan.shape == "object"
    assert await extract(page, plan) == output


async def test_values_the_page_does_not_show_give_no_plan(page: Page, sites: SiteServer) -> None:
    await page.goto(f"{sites.url}/products")
    # The model summarised rather than copied: nothing on the page says "Gadget".
    reworded = [{**r, "name": r["name"].replace("Widget", "Gadget")} for r in TOP_THREE]
    assert await plan_extraction(page, reworded, PRODUCT_SCHEMA) is None
    # Records that do not sit in rows of their own (one paragraph) give none either.
    await page.set_content("<p>Red costs 3 and Blue costs 4.</p>")
    schema = {"type": "array", "items": {"type": "object"}}
    output = [{"colour": "Red", "cost": 3}, {"colour": "Blue", "cost": 4}]
    assert await plan_extraction(page, output, schema) is None
