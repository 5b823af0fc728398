"""The workloads of ``benchmarks/run.py``, one module each, in the order they are reported."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from . import burst, cpu, empty_account, planning, throughput, vs_ccxt, warm_up
from ._common import Section

Workload = Callable[[bool], Awaitable[Section]]

WORKLOADS: dict[str, Workload] = {
    "throughput": throughput.run,
    "burst": burst.run,
    "ccxt": vs_ccxt.run,
    "cpu": cpu.run,
    "planning": planning.run,
    "warm-up": warm_up.run,
    "panic": empty_account.run,
}

__all__ = ["WORKLOADS", "Section", "Workload"]
