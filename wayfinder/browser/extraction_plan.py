"""Extraction without the model: finding where a run's extracted data sat on the page
(`plan_extraction`), and extracting it again from a page by that plan (`extract`)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page

from wayfinder.scripts.model import ExtractionPlan


async def plan_extraction(page: Page, output: Any, schema: dict[str, Any]) -> ExtractionPlan | None:
    """Match the run's (validated) `output` to the page's elements and generalise it to rows
    and fields; None when the values cannot all be found on the page."""
    raise NotImplementedError


async def extract(page: Page, plan: ExtractionPlan) -> Any:
    """The data `plan` describes, read from `page` now (validate it against the schema: a
    page whose layout changed may give data that does not fit)."""
    raise NotImplementedError
