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
)
from ._metrics import LATENCY_BUCKETS, LatencyHistogram, MetricsSnapshot
from ._models import (
    CancelOutcome,
    CancelReport,
    CancelStatus,
    CancelTarget,
    KindSummary,
    OpenOrders,
    OrderKind,
    PanicReport,
    normalize_symbol,
)
from ._plan import MODES, Batch, Mode, plan_batches
from ._run import OnOutcome, Progress
from ._transport import AiohttpTransport, HttpRequest, HttpResponse, MockTransport, Transport
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PANIC_DEADLINE",
    "ENV_API_KEY",
    "ENV_PASSPHRASE",
    "ENV_SECRET_KEY",
    "LATENCY_BUCKETS",
    "MODES",
    "AiohttpTransport",
    "Batch",
    "BitgetCancelError",
    "CancelEngine",
    "CancelOutcome",
    "CancelReport",
    "CancelStatus",
    "CancelTarget",
    "Credentials",
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
    "LatencyHistogram",
    "MetricsSnapshot",
    "MockTransport",
    "Mode",
    "OnOutcome",
    "OpenOrders",
    "OrderKind",
    "PanicReport",
    "Progress",
    "RequestTimeout",
    "Transport",
    "TransportError",
    "__version__",
    "install_panic_handler",
    "normalize_symbol",
    "plan_batches",
]
