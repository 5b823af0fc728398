"""A TCP relay on 127.0.0.1 that delays every byte by a fixed time each way: a Redis "far
away" for tests and benchmarks (``DelayProxy(redis_port, 0.010)``: 10 ms each way, a round
trip of 20 ms more). Order is kept; each client connection gets its own upstream one."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType


class DelayProxy:
    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def __aenter__(self) -> DelayProxy:
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
        for writer in list(self._writers):
            writer.close()  # its relay sees the end and finishes
        await asyncio.sleep(0)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        ends = (writer, upstream[1])
        self._writers.update(ends)
        try:
            await asyncio.gather(self._pipe(reader, upstream[1]), self._pipe(upstream[0], writer))
        except (OSError, asyncio.CancelledError):
            pass  # a relay ends with either side
        finally:
            for end in ends:
                end.close()
                self._writers.discard(end)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

        async def deliver() -> None:
            while (item := await queue.get()) is not None:
                due, data = item
                await asyncio.sleep(max(0.0, due - loop.time()))
                sink.write(data)
                with contextlib.suppress(ConnectionError):
                    await sink.drain()
            with contextlib.suppress(OSError):
                sink.write_eof()

        delivering = loop.create_task(deliver())
        try:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    queue.put_nowait((loop.time() + self.delay, data))
            queue.put_nowait(None)
            await delivering
        finally:
            delivering.cancel()
