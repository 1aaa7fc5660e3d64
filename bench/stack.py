"""The real parts every benchmark runs on: fake model, fixture sites, a Temporal dev server."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fixtures.fake_anthropic import FakeAnthropicServer
from tests.fixtures.sites import SiteServer
from wayfinder.devserver import DevServer
from wayfinder.settings import Settings


@dataclass
class BenchStack:
    fake: FakeAnthropicServer
    sites: SiteServer
    dev: DevServer
    settings: Settings
    """Settings of a worker on this stack's server, model and a fresh WAYFINDER_HOME."""

    @property
    def home(self) -> Path:
        return self.settings.home


@contextlib.asynccontextmanager
async def bench_stack(**settings: Any) -> AsyncIterator[BenchStack]:
    """Start the parts on 127.0.0.1; `settings` override the worker's defaults."""
    home = Path(tempfile.mkdtemp(prefix="wayfinder-bench-"))
    with FakeAnthropicServer() as fake, SiteServer() as sites:
        async with DevServer() as dev:
            yield BenchStack(
                fake=fake,
                sites=sites,
                dev=dev,
                settings=Settings(
                    temporal_address=dev.address,
                    anthropic_api_key="bench",
                    anthropic_base_url=fake.url,
                    home=home,
                    **settings,
                ),
            )
