"""Every error Wayfinder raises to its callers, in one hierarchy.

    WayfinderError
    ├── RunNotFoundError              no run has this id (also a LookupError)
    ├── BrowserSessionNotFoundError   no browser session has this id (also a LookupError)
    ├── BrowserSessionClosedError     the browser session has ended
    ├── SearchAttributesMissingError  the namespace lacks Wayfinder's search attributes
    ├── WorkerCrashedError            the worker this client runs in its process died
    ├── CompanionWorkerError          a host or launch worker stopped under a shared worker
    └── DevServerError                the embedded Temporal dev server could not be used
        └── EmbeddedError             the embedded host could not be reached or replaced

`except WayfinderError` catches all of them. Bad input is a `pydantic.ValidationError` (naming
the field), raised before anything starts; a run that fails is not an exception but a response
with `status` and `failure_reason`. The layers below have their own errors, which never reach
a caller: `wayfinder.llm.client.ModelError` and `wayfinder.browser.host.BrowserGoneError`
become activity failures, and so a run's `failure_reason`.
"""

from __future__ import annotations


class WayfinderError(Exception):
    """Base of every error Wayfinder raises to its callers."""


class RunNotFoundError(WayfinderError, LookupError):
    """No run has this id in the namespace."""


class BrowserSessionNotFoundError(WayfinderError, LookupError):
    """No browser session has this id in the namespace."""


class BrowserSessionClosedError(WayfinderError):
    """The browser session has ended: its browser is closed."""


class SearchAttributesMissingError(WayfinderError):
    """The namespace lacks Wayfinder's search attributes, so no run can start there."""


class WorkerCrashedError(WayfinderError):
    """The worker this client runs in its process has died; runs it would execute wait."""


class CompanionWorkerError(WayfinderError):
    """A worker the plugin runs beside a shared worker (host or launch) stopped under it."""


class DevServerError(WayfinderError):
    """The embedded dev server could not be found or started."""


class EmbeddedError(DevServerError):
    """The embedded server could not be reached, started or replaced."""
