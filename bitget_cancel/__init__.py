"""Cancel Bitget spot orders in bulk: as fast as the exchange allows, nothing lost."""

from ._auth import ENV_API_KEY, ENV_PASSPHRASE, ENV_SECRET_KEY, Credentials
from ._engine import (
    DEFAULT_BASE_URL,
    DEFAULT_PANIC_DEADLINE,
    CancelEngine,
    install_panic_handler,
)
from ._exceptions import (
    BitgetCancelError,
    EngineClosed,
    InvalidArgument,
    InvalidBudgetStore,
    InvalidCredentials,
    InvalidDeadline,
    InvalidMode,
    InvalidRate,
    InvalidSymbol,
    InvalidTarget,
    RequestTimeout,
    TransportError,
    UnsupportedPlatform,
    WatchdogFailed,
)
from ._models import (
    CancelOutcome,
    CancelReport,
    CancelStatus,
    CancelTarget,
    KindSummary,
    OpenOrders,
    OrderInfo,
    OrderKind,
    PanicReport,
    normalize_symbol,
)
from ._plan import MODES, Batch, Mode, plan_batches
from ._run import Progress
from ._switch import DeadManSwitch, SwitchStatus
from ._transport import HttpRequest, HttpResponse, MockTransport, Transport
from ._version import __version__
from ._watchdog_pipe import WatchdogOrders, WatchdogPipe
from ._watchdog_redis import BoardReading, SwitchBoard, SwitchEntry

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PANIC_DEADLINE",
    "ENV_API_KEY",
    "ENV_PASSPHRASE",
    "ENV_SECRET_KEY",
    "MODES",
    "Batch",
    "BitgetCancelError",
    "BoardReading",
    "CancelEngine",
    "CancelOutcome",
    "CancelReport",
    "CancelStatus",
    "CancelTarget",
    "Credentials",
    "DeadManSwitch",
    "EngineClosed",
    "HttpRequest",
    "HttpResponse",
    "InvalidArgument",
    "InvalidBudgetStore",
    "InvalidCredentials",
    "InvalidDeadline",
    "InvalidMode",
    "InvalidRate",
    "InvalidSymbol",
    "InvalidTarget",
    "KindSummary",
    "MockTransport",
    "Mode",
    "OpenOrders",
    "OrderInfo",
    "OrderKind",
    "PanicReport",
    "Progress",
    "RequestTimeout",
    "SwitchBoard",
    "SwitchEntry",
    "SwitchStatus",
    "Transport",
    "TransportError",
    "UnsupportedPlatform",
    "WatchdogFailed",
    "WatchdogOrders",
    "WatchdogPipe",
    "__version__",
    "install_panic_handler",
    "normalize_symbol",
    "plan_batches",
]
