"""A TCP relay on 127.0.0.1 that closes connections left idle, as servers do.

Real servers close a kept-alive connection nobody uses for a while (nginx `keepalive_timeout`,
a load balancer's idle timeout). The simulator does not expose its aiohttp server's
`keepalive_timeout` (yet), so this relay, put in front of it, does the closing: every client
connection gets its own connection to the simulator, and both close once no byte has moved
either way for ``idle_timeout`` seconds. The simulator then sees a new connection for the
client's next one and charges it the handshake again.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Any


class IdleClosingProxy:
    def __init__(self, upstream_port: int, idle_timeout: float) -> None:
        self._upstream_port = upstream_port
        self._idle_timeout = idle_timeout
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Future[Any]] = set()
        self._stopping = asyncio.Event()
        self.closed_idle = 0  # connections this relay closed for idleness
        self.opened = 0  # client connections accepted

    async def __aenter__(self) -> IdleClosingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
        # Every relay sees the event and closes its two connections; none is cancelled.
        self._stopping.set()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.opened += 1
        self._handlers.add(task)
        try:
            await self._relay(reader, writer)
        finally:
            self._handlers.discard(task)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._upstream_port)
        moved = asyncio.Event()  # set whenever a byte moves either way

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                moved.set()
                dst.write(data)
                await dst.drain()

        async def idle() -> None:
            while True:
                moved.clear()
                try:
                    await asyncio.wait_for(moved.wait(), self._idle_timeout)
                except asyncio.TimeoutError:
                    self.closed_idle += 1
                    return

        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(pipe(reader, up_writer)),
            asyncio.create_task(pipe(up_reader, writer)),
            asyncio.create_task(idle()),
            asyncio.create_task(self._stopping.wait()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for stream in (writer, up_writer):
                stream.close()
                with contextlib.suppress(OSError):
                    await stream.wait_closed()
