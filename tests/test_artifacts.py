"""Artifact links: downloads with size and checksum, http links, limits, the artifacts server."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.fixtures.media_sites import add_downloads, generated
from tests.fixtures.media_worker import ServedWorker, served_worker
from tests.fixtures.sites import SiteServer
from wayfinder import RunStatus
from wayfinder.artifact_server import ArtifactServer
from wayfinder.settings import Settings

SMALL = 40_000
LIMIT_BYTES = 64 * 1024


@pytest.fixture(scope="module")
async def served(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServedWorker]:
    root = tmp_path_factory.mktemp("served-artifacts")
    async with served_worker(
        settings,
        root,
        max_downloads=2,
        max_download_bytes=LIMIT_BYTES,
        record_video=False,
        record_trace=True,
    ) as worker:
        yield worker


def _slug(token: str) -> str:
    return token.strip("[]").replace(" ", "-")


async def test_a_download_is_listed_with_size_checksum_and_a_link_that_serves_it(
    served: ServedWorker, sites: SiteServer, token: str
) -> None:
    page = add_downloads(sites, _slug(token), {"Quarterly report": ("report.csv", SMALL)})
    result = await served.client.run_task(
        f'{token} Click "Quarterly report"', url=sites.url + page, wait_for_completion=True
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert result.downloaded_files and len(result.downloaded_files) == 1
    (saved,) = result.downloaded_files
    expected = generated("report.csv", SMALL)
    assert saved.filename == "report.csv"
    assert saved.size == SMALL
    assert saved.checksum == hashlib.sha256(expected).hexdigest()
    assert saved.source_url == f"{sites.url}{page}/report.csv"
    assert saved.url.startswith(served.server.url + "/")
    async with httpx.AsyncClient() as http:
        fetched = await http.get(saved.url)
        assert fetched.status_code == 200 and fetched.content == expected
        # Every other link of the response is served too.
        assert result.screenshot_urls and result.trace_url
        for url in [*result.screenshot_urls, result.trace_url]:
            assert url.startswith(served.server.url + "/")
            assert (await http.get(url)).status_code == 200
    assert result.skipped_downloads is None


async def test_downloads_past_the_limits_are_skipped_with_the_reason(
    served: ServedWorker, sites: SiteServer, token: str
) -> None:
    page = add_downloads(
        sites,
        _slug(token),
        {
            "Full archive": ("archive.bin", LIMIT_BYTES + 1),
            "First notes": ("notes-1.txt", 100),
            "Second notes": ("notes-2.txt", 100),
        },
    )
    result = await served.client.run_task(
        f'{token} Click "Full archive", then click "First notes", then click "Second notes"',
        url=sites.url + page,
        wait_for_completion=True,
    )
    assert result.status is RunStatus.completed, result.failure_reason
    assert [f.filename for f in result.downloaded_files or []] == ["notes-1.txt"]
    skipped = {s.filename: s.reason for s in result.skipped_downloads or []}
    assert set(skipped) == {"archive.bin", "notes-2.txt"}
    assert "WAYFINDER_MAX_DOWNLOAD_BYTES" in skipped["archive.bin"]
    assert "WAYFINDER_MAX_DOWNLOADS is 2" in skipped["notes-2.txt"]
    kept = {p.name for p in (served.root / "downloads").rglob("*") if p.is_file()}
    assert "archive.bin" not in kept


def _raw_get(server: ArtifactServer, path: str, headers: dict[str, str] | None = None) -> int:
    """A request with the path sent exactly as written (no client-side normalisation)."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


async def test_the_server_serves_files_under_its_root_and_nothing_else(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    (root / "tsk_1" / ".part").mkdir(parents=True)
    (root / "tsk_1" / "final-0.png").write_bytes(b"\x89PNG" + bytes(2000))
    (root / "tsk_1" / ".part" / "000001.jpg").write_bytes(b"frame")
    (tmp_path / "secret.txt").write_text("not an artifact")
    (root / "tsk_1" / "escape.txt").symlink_to(tmp_path / "secret.txt")
    async with ArtifactServer(root) as server:
        status = await asyncio.to_thread(_raw_get, server, "/tsk_1/final-0.png")
        assert status == 200
        ranged = await asyncio.to_thread(
            _raw_get, server, "/tsk_1/final-0.png", {"Range": "bytes=0-9"}
        )
        assert ranged == 206
        for path in (
            "/../secret.txt",
            "/tsk_1/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/tsk_1/%2e%2e/%2e%2e/secret.txt",
            "/tsk_1/escape.txt",
            "/tsk_1",
            "/tsk_1/.part/000001.jpg",
            "/" + str(tmp_path / "secret.txt"),
        ):
            assert await asyncio.to_thread(_raw_get, server, path) == 404, path


async def test_wayfinder_artifacts_serves_the_directory(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    (root / "tsk_2").mkdir(parents=True)
    (root / "tsk_2" / "trace-1.zip").write_bytes(b"PK\x03\x04 zip")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYFINDER_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "wayfinder.cli", "artifacts", "--port", "0", "--dir", str(root)),
        stdout=asyncio.subprocess.PIPE,
        env={**env, "WAYFINDER_HOME": str(tmp_path / "home")},
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert "serving" in line, line
        base = line.split(" at ", 1)[1].split(";", 1)[0]
        assert urlsplit(base).scheme == "http"
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"{base}/tsk_2/trace-1.zip")
        assert answer.content == b"PK\x03\x04 zip"
        assert answer.headers["content-type"] == "application/zip"
        assert answer.headers["access-control-allow-origin"] == "*"
    finally:
        process.terminate()
        await process.wait()
