"""The search attributes Wayfinder sets on every run, so runs can be listed and filtered.

They must be registered on the namespace before a run can carry them: the embedded dev server
registers them at start (`DEV_SERVER_FLAGS`); a team's own server needs them created once with
`temporal operator search-attribute create` (see the user guide).
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("WayfinderStatus")
TITLE = SearchAttributeKey.for_text("WayfinderTitle")
ENGINE = SearchAttributeKey.for_keyword("WayfinderEngine")

DEV_SERVER_FLAGS: list[str] = [
    "--search-attribute",
    "WayfinderStatus=Keyword",
    "--search-attribute",
    "WayfinderTitle=Text",
    "--search-attribute",
    "WayfinderEngine=Keyword",
]
