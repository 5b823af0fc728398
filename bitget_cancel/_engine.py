"""CancelEngine: configuration and shared resources; each ``cancel()`` is a CancelRun."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import sys
import time
from collections.abc import Callable, Iterable
from types import TracebackType

from ._auth import Credentials, Signer
from ._errors import InvalidArgument, InvalidTarget, RequestTimeout, TransportError
from ._limit import RateBudget, capacity_and_period, shared_budget
from ._models import CancelReport, CancelTarget
from ._panic import Panic, PanicReport, check_symbols
from ._plan import Batch, Mode, check_mode
from ._run import CancelRun, Progress
from ._transport import AiohttpTransport, HttpRequest, HttpResponse, Transport
from ._wire import BATCH_CANCEL_PATH, SERVER_TIME_PATH, decode_server_time_ms, encode_batch

log = logging.getLogger("bitget_cancel")

DEFAULT_BASE_URL = "https://api.bitget.com"
SERVER_TIME_RATE = 20.0  # req/s of /api/v2/public/time, a budget of its own
# Added to request_timeout for the engine's own guard around a transport that ignores timeouts.
_TIMEOUT_GRACE = 0.25


class InvalidDeadline(InvalidArgument):
    """``deadline`` is not None nor a positive finite number of seconds."""


class EngineClosed(InvalidArgument):
    """The engine was closed; make a new one."""


def _positive(name: str, value: object, *, integer: bool = False) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InvalidArgument(f"{name} must be a positive number; got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgument(f"{name} must be positive and finite; got {value!r}")


def check_deadline(deadline: object) -> float | None:
    if deadline is None:
        return None
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        raise InvalidDeadline(f"deadline must be None or seconds > 0; got {deadline!r}")
    if not math.isfinite(deadline) or deadline <= 0:
        raise InvalidDeadline(f"deadline must be None or seconds > 0; got {deadline!r}")
    return float(deadline)


def check_targets(targets: object) -> list[CancelTarget]:
    if isinstance(targets, (str, bytes, CancelTarget)) or not isinstance(targets, Iterable):
        raise InvalidTarget(f"targets must be an iterable of CancelTarget; got {targets!r}")
    checked = list(targets)
    for index, target in enumerate(checked):
        if not isinstance(target, CancelTarget):
            raise InvalidTarget(
                f"targets[{index}] must be a CancelTarget, got {type(target).__name__}"
            )
    return checked


class CancelEngine:
    """Cancels Bitget spot orders in bulk, as fast as the account's rate budget allows.

    ``cancel()`` never raises for network, server or exchange errors: they become outcomes.
    Engines of one ``api_key`` in one event loop share the account's budget.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        rate_limit: float = 10.0,
        request_timeout: float = 5.0,
        max_attempts: int = 5,
        backoff_base: float = 0.1,
        backoff_cap: float = 2.0,
        transport: Transport | None = None,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise InvalidArgument("credentials must be a Credentials instance")
        capacity, _ = capacity_and_period(rate_limit)
        _positive("request_timeout", request_timeout)
        _positive("max_attempts", max_attempts, integer=True)
        _positive("backoff_base", backoff_base)
        _positive("backoff_cap", backoff_cap)
        self.base_url = base_url
        self.rate_limit = float(rate_limit)
        self.request_timeout = float(request_timeout)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.burst = capacity
        self._api_key = credentials.api_key
        self._signer = Signer(credentials)
        self._transport: Transport = transport or AiohttpTransport(
            base_url, pool_size=max(32, 4 * capacity)
        )
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._clock_offset = 0.0  # seconds to add to the local clock to get the exchange's
        self._clock_lock: asyncio.Lock | None = None
        self._clock_synced_at = -math.inf
        self._closed = False
        self._panic: Panic | None = None
        self._panic_task: asyncio.Task[PanicReport] | None = None

    def __repr__(self) -> str:
        return (
            f"CancelEngine(base_url={self.base_url!r}, rate_limit={self.rate_limit:g}, "
            f"request_timeout={self.request_timeout:g}, max_attempts={self.max_attempts})"
        )

    async def __aenter__(self) -> CancelEngine:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Wait for a running panic to finish (within its deadline), then close the
        connections. Idempotent."""
        self._closed = True
        task = self._panic_task
        if task is not None and not task.done():
            log.info("close(): waiting for the running panic cancel to finish")
            with contextlib.suppress(Exception):
                await asyncio.shield(task)
        await self._transport.close()

    async def panic_cancel(
        self,
        symbols: Iterable[str] | None = None,
        *,
        targets: Iterable[CancelTarget] = (),
        deadline: float | None = None,
        use_symbol_cancel: bool = True,
        progress: Progress | None = None,
    ) -> PanicReport:
        """Close every open spot order (of ``symbols``, or the whole account) plus ``targets``.

        Lists, cancels and lists again until nothing that should close is open, or the
        deadline. Shielded: cancelling the caller does not stop the panic; a second call while
        one runs joins it.
        """
        task = self.start_panic(
            symbols,
            targets=targets,
            deadline=deadline,
            use_symbol_cancel=use_symbol_cancel,
            progress=progress,
        )
        return await asyncio.shield(task)

    def start_panic(
        self,
        symbols: Iterable[str] | None = None,
        *,
        targets: Iterable[CancelTarget] = (),
        deadline: float | None = None,
        use_symbol_cancel: bool = True,
        progress: Progress | None = None,
    ) -> asyncio.Task[PanicReport]:
        """Start (or join) a panic cancel and return its task; for signal handlers."""
        scope = check_symbols(symbols)
        checked = check_targets(targets)
        checked_deadline = check_deadline(deadline)
        running = self._panic_task
        if running is not None and not running.done() and self._panic is not None:
            self._panic.extend(scope, checked)
            return running
        if self._closed:
            raise EngineClosed("this CancelEngine is closed")
        panic = Panic(self, scope, checked, checked_deadline, bool(use_symbol_cancel), progress)
        task = asyncio.get_running_loop().create_task(panic.run(), name="bitget-cancel-panic")
        self._panic, self._panic_task = panic, task
        return task

    @property
    def clock_offset(self) -> float:
        """Seconds added to the local clock to match the exchange's (0 until measured)."""
        return self._clock_offset

    async def cancel(
        self,
        targets: Iterable[CancelTarget],
        *,
        mode: Mode = "auto",
        deadline: float | None = None,
        progress: Progress | None = None,
    ) -> CancelReport:
        """Cancel every target; one outcome per distinct target, in first-seen order.

        Raises only for invalid arguments (a ValueError subclass), before any request.
        ``progress(done, total)`` is called as orders reach their final outcome.
        """
        checked_mode = check_mode(mode)
        checked_deadline = check_deadline(deadline)
        checked = check_targets(targets)
        if self._closed:
            raise EngineClosed("this CancelEngine is closed")
        run = CancelRun(self, checked, checked_mode, checked_deadline, progress)
        return await run.execute()

    async def warm_up(self, connections: int | None = None) -> None:
        """Open ``connections`` (default: the burst size) kept-alive connections ahead of a panic,
        and measure the exchange's clock on the way. Never raises for network trouble."""
        count = self.burst if connections is None else connections
        _positive("connections", count, integer=True)
        results = await asyncio.gather(*(self._read_server_time() for _ in range(count)))
        samples = [r for r in results if r is not None]
        if samples:
            # The fastest round trip bounds the error of the estimate best.
            _, offset = min(samples)
            self._set_clock_offset(offset)
        else:
            log.warning("warm-up: no answer from %s", self.base_url)

    # -- used by CancelRun -------------------------------------------------------------------

    def _cancel_budget(self) -> RateBudget:
        return shared_budget(self._api_key, BATCH_CANCEL_PATH, self.rate_limit)

    def _encode(self, batch: Batch) -> bytes:
        return encode_batch(batch)

    def _timestamp_ms(self) -> str:
        return str(int((self._wall_clock() + self._clock_offset) * 1000))

    async def _post_signed(self, path: str, body: bytes, timeout: float) -> HttpResponse:
        return await self._request_signed("POST", path, "", body, timeout)

    async def _request_signed(
        self, method: str, path: str, query: str, body: bytes, timeout: float
    ) -> HttpResponse:
        headers = self._signer.headers(self._timestamp_ms(), method, path, query, body)
        return await self._send(HttpRequest(method, path, query, body, headers, timeout))

    async def _send(self, request: HttpRequest) -> HttpResponse:
        limit = request.timeout + _TIMEOUT_GRACE
        try:
            if sys.version_info >= (3, 11):
                # asyncio.timeout guards in place; wait_for would cost a task per request.
                async with asyncio.timeout(limit):
                    return await self._transport.send(request)
            return await asyncio.wait_for(self._transport.send(request), limit)
        except asyncio.TimeoutError as exc:
            raise RequestTimeout(f"no answer within {request.timeout:g}s") from exc

    async def resync_clock(self) -> None:
        """Read the exchange's clock and correct the signing timestamps (after a 40008)."""
        if self._clock_lock is None:
            self._clock_lock = asyncio.Lock()
        loop = asyncio.get_running_loop()
        requested_at = loop.time()
        async with self._clock_lock:
            if self._clock_synced_at >= requested_at:
                return  # another batch resynced while this one waited
            sample = await self._read_server_time()
            self._clock_synced_at = loop.time()
            if sample is None:
                log.warning(
                    "could not read the exchange's clock; keeping offset %.3fs", self._clock_offset
                )
                return
            self._set_clock_offset(sample[1])

    def _set_clock_offset(self, offset: float) -> None:
        if abs(offset - self._clock_offset) > 0.5:
            log.debug("clock offset to the exchange: %.3fs (was %.3fs)", offset, self._clock_offset)
        self._clock_offset = offset

    async def _read_server_time(self) -> tuple[float, float] | None:
        """(round trip, offset) from one read of the exchange's clock, or None."""
        budget = shared_budget(self._api_key, SERVER_TIME_PATH, SERVER_TIME_RATE)
        await budget.acquire()
        throttled = False
        try:
            before = self._wall_clock()
            response = await self._send(
                HttpRequest(
                    "GET", SERVER_TIME_PATH, "", b"", {"locale": "en-US"}, self.request_timeout
                )
            )
            after = self._wall_clock()
            throttled = response.status == 429
        except TransportError as exc:
            log.debug("server time: %s", exc)
            return None
        finally:
            budget.release_now(throttled=throttled)
        server_ms = decode_server_time_ms(response.body) if response.status == 200 else None
        if server_ms is None:
            log.debug("server time: unusable answer (HTTP %d)", response.status)
            return None
        return after - before, server_ms / 1000 - (before + after) / 2
