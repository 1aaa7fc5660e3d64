"""The search attributes Wayfinder sets on its runs, in one place.

Safe to import from workflow code: it only builds `temporalio.common` keys. A Temporal server
must have them registered before a workflow may set them: every dev server Wayfinder starts
passes `dev_server_flags()`; an existing cluster needs `temporal operator search-attribute
create` for each of `REGISTERED`.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("WayfinderStatus")
"""The run's `RunStatus` value, for listing runs by status."""
TITLE = SearchAttributeKey.for_text("WayfinderTitle")
"""The run's title, searchable by words."""
ENGINE = SearchAttributeKey.for_keyword("WayfinderEngine")
"""The engine the run was started with."""

REGISTERED: tuple[tuple[str, str], ...] = (
    (STATUS.name, "Keyword"),
    (TITLE.name, "Text"),
    (ENGINE.name, "Keyword"),
)
"""(name, type) of each attribute, as `temporal server start-dev --search-attribute` takes them."""


def dev_server_flags() -> list[str]:
    """`--search-attribute NAME=Type` for each attribute."""
    flags: list[str] = []
    for name, kind in REGISTERED:
        flags += ["--search-attribute", f"{name}={kind}"]
    return flags
