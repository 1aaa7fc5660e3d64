"""The browser options a published workflow keeps from its publishing run, and a rerun's own.

A rerun opens its browser the way the publishing run did: through the same proxy, with the same
user agent, extra HTTP headers and final-screenshot scrolls. A site that needed a proxy (or a
header) to serve the run needs it again for the rerun, so the published workflow records them
and `run_workflow` uses them unless told otherwise; each can be overridden per rerun.

The proxy is kept as the run's history held it: a location name (looked up in the worker's
WAYFINDER_PROXIES when the browser opens), or the URL with its credentials sealed with the
deployment's key (`wayfinder.proxies.prepare_proxy`); never a credential in clear.

Not kept: `browser_address`. It names a browser that lives outside Wayfinder (your own Chrome
on a debugging port) and may be gone, or be another browser, by the time of a rerun; give it
to the rerun that should use it. A run in a browser session has no options of its own.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from wayfinder.models import TaskRunRequest
from wayfinder.proxy_url import ProxyLocation, check_location
from wayfinder.task_run_request import ScreenshotScrolls, UserAgent

KEPT = ("proxy_location", "user_agent", "extra_http_headers", "max_screenshot_scrolls")
"""The options a published workflow records."""
OPTIONS = (*KEPT, "browser_address")
"""Every option a rerun takes (`run_workflow`'s keywords of the same names)."""


class BrowserOptions(BaseModel):
    """How a run's browser is opened: `run_task`'s browser options, validated the same way."""

    # Errors name the field (proxy_location, ...), never its value: it may hold a password.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, title="run_workflow")

    proxy_location: ProxyLocation | None = None
    """A location name, or a `ProxyURL` (sealed once it has been through `prepare_proxy`)."""
    user_agent: UserAgent | None = None
    extra_http_headers: dict[str, str] | None = None
    max_screenshot_scrolls: ScreenshotScrolls | None = None
    browser_address: str | None = None
    """Only ever a rerun's own (see the module docstring)."""

    # The checks are run_task's own (TaskRunRequest's validators), so both say the same.
    @field_validator("proxy_location", mode="before")
    @classmethod
    def _proxy_location(cls, value: Any) -> Any:
        return check_location(value)

    @field_validator("extra_http_headers")
    @classmethod
    def _headers(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return TaskRunRequest._headers_are_valid(value)

    @field_validator("browser_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return TaskRunRequest._browser_address_is_cdp(value)

    @classmethod
    def kept_from(cls, request: TaskRunRequest) -> BrowserOptions:
        """What a published workflow records of its publishing run (`request` as its history
        holds it: the proxy already sealed)."""
        return cls.model_validate({name: getattr(request, name) for name in KEPT})

    def overridden_by(self, given: BrowserOptions) -> BrowserOptions:
        """These options with every option set in `given` in their place (a `None` that was
        given, such as proxy_location="NONE", clears the kept one)."""
        return self.model_copy(
            update={name: getattr(given, name) for name in given.model_fields_set}
        )


def given_options(**options: Any) -> BrowserOptions:
    """A rerun's overrides: the options passed (not None), validated like run_task's."""
    return BrowserOptions.model_validate(
        {name: value for name, value in options.items() if value is not None}
    )
