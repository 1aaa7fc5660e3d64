"""`wayfinder artifacts`: serve the artifact directory over http for a deployment.

Workers write runs' screenshots, recordings, traces and downloads to their artifact directory
(`WAYFINDER_ARTIFACT_DIR`); run this next to them and give the workers
`WAYFINDER_ARTIFACT_BASE_URL` = the URL users reach this server at, so that every link in a
response opens.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from wayfinder.artifact_server import ArtifactServer
from wayfinder.settings import get_settings


def add_artifacts_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("artifacts", help="serve the artifact directory over http")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument(
        "--port", type=int, default=None, help="port (default WAYFINDER_ARTIFACT_PORT, 8234)"
    )
    serve.add_argument(
        "--dir", type=Path, default=None, help="directory (default WAYFINDER_ARTIFACT_DIR)"
    )


async def artifacts_command(args: argparse.Namespace) -> int:
    settings = get_settings()
    root = args.dir or settings.artifacts
    port = settings.artifact_port if args.port is None else args.port
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with ArtifactServer(root, host=args.host, port=port) as server:
        print(f"serving {server.store.root} at {server.url}; Ctrl-C to stop", flush=True)
        if settings.artifact_base_url is None:
            print(
                f"give the workers WAYFINDER_ARTIFACT_BASE_URL={server.url} "
                "(or the URL users reach this server at)",
                flush=True,
            )
        await stop.wait()
    return 0
