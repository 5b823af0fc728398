"""What each command is asked to do, as plain data: the parser fills it, the commands read it.

Kept apart from both so the parser can show the defaults without importing the commands (and
through them the simulator).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bitget_cancel import Mode


@dataclass(frozen=True, slots=True)
class DemoSettings:
    orders: int = 1000
    symbols: int = 20
    latency_ms: tuple[float, float] = (2.0, 30.0)
    faults: float = 0.0
    seed: int = 1


@dataclass(frozen=True, slots=True)
class SimOptions:
    host: str = "127.0.0.1"
    port: int = 0
    orders: int = 0
    symbols: int = 4
    api_key: str = "sim-key"
    secret_key: str = "sim-secret"
    passphrase: str = "sim-pass"
    latency_ms: tuple[float, float] = (0.0, 0.0)
    faults: float = 0.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class CancelOptions:
    base_url: str
    mode: Mode = "auto"
    deadline: float | None = None
    as_json: bool = False
    report: Path | None = None  # where to write the JSON report, atomically
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class PanicOptions:
    base_url: str
    symbols: tuple[str, ...] | None = None  # None: the whole account
    deadline: float | None = None
    use_symbol_cancel: bool = True
    as_json: bool = False
    report: Path | None = None
