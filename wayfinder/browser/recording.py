"""A run's recording: a video from Chromium's screencast, and a Playwright trace.

Video. Chromium sends a JPEG frame over CDP (`Page.startScreencast`) whenever a tab's picture
changes, so an idle page costs nothing. Frames are written to a work directory as they come,
at most `fps` a second (a burst keeps its last frame), and encoded into an H.264 mp4 only when
the browser closes, by the ffmpeg that the `imageio-ffmpeg` package ships: nothing is encoded
while the run takes its steps. Playwright's own `record_video` needs an ffmpeg of Playwright's
download, which is not there; frames of every tab of the run go into the one video, in time
order.

Trace. `context.tracing` with screenshots and DOM snapshots, saved as a zip that
`playwright show-trace` opens. A browser session's browser serves several runs: each run's
part is a trace chunk (`start_chunk` / `stop_chunk`) and a cut of the frames, so every run gets
its own trace and video, and the idle time between runs is dropped.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import imageio_ffmpeg
from playwright.async_api import BrowserContext, CDPSession, Page
from playwright.async_api import Error as PlaywrightError

log = logging.getLogger(__name__)

FRAME_SIZE = {"maxWidth": 1280, "maxHeight": 800}
JPEG_QUALITY = 70
LAST_FRAME_SECONDS = 1.0
"""How long the video shows the final picture."""
START_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8)
"""Seconds between the tries to start a new tab's screencast (see `Screencast.watch`)."""
ENCODE_TIMEOUT = 40.0
"""Seconds an encoding may take before it is abandoned (the close activity has 60)."""


@dataclass(frozen=True)
class Frame:
    path: Path
    timestamp: float
    """Seconds (Chromium's clock): frames are shown for the time until the next one."""


@dataclass
class Screencast:
    """Collects the screencast frames of a context's tabs into `directory`."""

    directory: Path
    fps: float = 5.0
    frames: list[Frame] = field(default_factory=list)
    _pending: tuple[str, float] | None = None
    """The latest frame not written yet (it came too soon after the last one)."""
    _sessions: list[CDPSession] = field(default_factory=list)
    _count: int = 0
    _latest: WeakKeyDictionary[Page, str] = field(default_factory=WeakKeyDictionary)
    """Each tab's latest frame (base64 JPEG), written or not: its picture now (see `latest`)."""

    async def watch(self, context: BrowserContext, page: Page) -> None:
        """Start receiving the tab's frames."""
        session = await context.new_cdp_session(page)
        session.on("Page.screencastFrame", lambda event: self._on_frame(session, page, event))
        self._sessions.append(session)
        params = {"format": "jpeg", "quality": JPEG_QUALITY, **FRAME_SIZE}
        # A tab just opened is often between documents, its first navigation under way, and
        # Chromium refuses it then ("Not attached to an active page"): a run would have no
        # video at all. Again a moment later, until the tab has a document or is closed.
        for delay in START_RETRY_DELAYS:
            try:
                await session.send("Page.startScreencast", params)
                return
            except PlaywrightError:
                if page.is_closed():
                    raise
            await asyncio.sleep(delay)
        await session.send("Page.startScreencast", params)

    def latest(self, page: Page) -> bytes | None:
        """The tab's picture as a JPEG: its last frame, sent when its picture last changed;
        None before the first one."""
        data = self._latest.get(page)
        return base64.b64decode(data) if data is not None else None

    def _on_frame(self, session: CDPSession, page: Page, event: dict[str, Any]) -> None:
        # Chromium sends the next frame only once this one is acknowledged.
        ack = asyncio.ensure_future(
            session.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})
        )
        ack.add_done_callback(_ignore_closed)
        self._latest[page] = event["data"]
        timestamp = float(event["metadata"]["timestamp"])
        if self.frames and timestamp - self.frames[-1].timestamp < 1 / self.fps:
            self._pending = (event["data"], timestamp)
            return
        self._pending = None
        self._write(event["data"], timestamp)

    def _write(self, data: str, timestamp: float) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._count += 1
        path = self.directory / f"{self._count:06d}.jpg"
        path.write_bytes(base64.b64decode(data))
        self.frames.append(Frame(path, timestamp))

    def cut(self) -> list[Frame]:
        """The frames so far (with the last one held back); later ones start a new list."""
        if self._pending is not None:
            self._write(*self._pending)
            self._pending = None
        frames, self.frames = self.frames, []
        return frames

    async def stop(self) -> list[Frame]:
        """Stop every tab's screencast; the frames not cut yet."""
        for session in self._sessions:
            with contextlib.suppress(PlaywrightError):
                await session.detach()
        self._sessions = []
        return self.cut()


def _ignore_closed(ack: asyncio.Future[Any]) -> None:
    # A tab that closed (or a browser that died) cannot take the acknowledgement.
    if not ack.cancelled():
        ack.exception()


async def encode(frames: list[Frame], target: Path) -> bool:
    """Encode the frames into an mp4 at `target`; False when there is nothing to encode or
    ffmpeg failed (logged). The frame files are deleted either way."""
    if not frames:
        return False
    listing = target.with_suffix(".frames.txt")
    try:
        lines: list[str] = []
        for frame, following in zip(frames, [*frames[1:], None], strict=True):
            shown = following.timestamp - frame.timestamp if following else LAST_FRAME_SECONDS
            lines += [f"file '{frame.path}'", f"duration {max(shown, 0.001):.3f}"]
        # The concat demuxer ignores the last duration unless the last file is listed again.
        lines.append(f"file '{frames[-1].path}'")
        target.parent.mkdir(parents=True, exist_ok=True)
        listing.write_text("\n".join(lines) + "\n")
        partial = target.with_suffix(".part.mp4")
        process = await asyncio.create_subprocess_exec(
            imageio_ffmpeg.get_ffmpeg_exe(),
            *("-y", "-loglevel", "error", "-f", "concat", "-safe", "0", "-i", str(listing)),
            *("-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-fps_mode", "vfr"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
            *("-movflags", "+faststart", str(partial)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, errors = await asyncio.wait_for(process.communicate(), ENCODE_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            log.warning("encoding %s took over %.0f s; no video", target.name, ENCODE_TIMEOUT)
            return False
        if process.returncode != 0:
            log.warning("ffmpeg could not encode %s: %s", target.name, errors.decode()[-500:])
            return False
        partial.replace(target)
        return True
    finally:
        listing.unlink(missing_ok=True)
        for frame in frames:
            frame.path.unlink(missing_ok=True)


def discard(directory: Path) -> None:
    """Remove a browser's frame directory (what a closed browser left unencoded)."""
    shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Recorder:
    """One browser's recording: its trace and its screencast, either of which may be off."""

    context: BrowserContext
    screencast: Screencast | None
    trace: bool
    saved: bool = False
    """Whether the last part was saved (its frames are then the encoder's to delete)."""
    _watching: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        if self.trace:
            await self.context.tracing.start(screenshots=True, snapshots=True)

    def picture(self, page: Page) -> bytes | None:
        """The tab's current picture from the screencast (a JPEG), None when there is none."""
        return self.screencast.latest(page) if self.screencast is not None else None

    def watch(self, page: Page) -> None:
        """Record the new tab too (called from the tab's event handler, so in the background)."""
        if self.screencast is None:
            return
        task = asyncio.create_task(self.screencast.watch(self.context, page))
        self._watching.add(task)
        task.add_done_callback(self._watched)

    def _watched(self, task: asyncio.Task[None]) -> None:
        self._watching.discard(task)
        if not task.cancelled() and isinstance(task.exception(), PlaywrightError):
            log.info("no screencast of a tab: %s", task.exception())

    async def restart(self) -> None:
        """Drop what was recorded so far: the next run of a browser session starts here."""
        if self.trace:
            with contextlib.suppress(PlaywrightError):
                await self.context.tracing.stop_chunk()
                await self.context.tracing.start_chunk()
        if self.screencast is not None:
            for frame in self.screencast.cut():
                frame.path.unlink(missing_ok=True)

    async def save(self, trace_path: Path, *, last: bool) -> tuple[Path | None, list[Frame]]:
        """The trace, saved at `trace_path` (None if off or the browser is gone), and the
        frames to encode. `last`: the browser closes; else (a session's run ending) the
        recording goes on for the session's next run."""
        saved: Path | None = None
        self.saved = self.saved or last
        if self.trace:
            trace_path.parent.mkdir(parents=True, exist_ok=True)
            try:
                if last:
                    await self.context.tracing.stop(path=trace_path)
                else:
                    await self.context.tracing.stop_chunk(path=trace_path)
                    await self.context.tracing.start_chunk()
                saved = trace_path
            except PlaywrightError as exc:
                log.warning("no trace saved: %s", exc.message.splitlines()[0])
        frames: list[Frame] = []
        if self.screencast is not None:
            frames = await self.screencast.stop() if last else self.screencast.cut()
        return (saved if saved is not None and saved.exists() else None), frames
