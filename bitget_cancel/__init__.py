"""Cancel Bitget spot orders in bulk: as fast as the exchange allows, nothing lost."""

from ._auth import ENV_API_KEY, ENV_PASSPHRASE, ENV_SECRET_KEY, Credentials
from ._engine import DEFAULT_BASE_URL, CancelEngine, EngineClosed, InvalidDeadline
from ._errors import (
    BitgetCancelError,
    InvalidArgument,
    InvalidCredentials,
    InvalidTarget,
    RequestTimeout,
    TransportError,
)
from ._limit import InvalidRate
from ._models import CancelOutcome, CancelReport, CancelStatus, CancelTarget
from ._panic import PanicReport, install_panic_handler
from ._plan import MODES, Batch, InvalidMode, Mode, plan_batches
from ._run import Progress

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_API_KEY",
    "ENV_PASSPHRASE",
    "ENV_SECRET_KEY",
    "MODES",
    "Batch",
    "BitgetCancelError",
    "CancelEngine",
    "CancelOutcome",
    "CancelReport",
    "CancelStatus",
    "CancelTarget",
    "Credentials",
    "EngineClosed",
    "InvalidArgument",
    "InvalidCredentials",
    "InvalidDeadline",
    "InvalidMode",
    "InvalidRate",
    "InvalidTarget",
    "Mode",
    "PanicReport",
    "Progress",
    "RequestTimeout",
    "TransportError",
    "install_panic_handler",
    "plan_batches",
]

__version__ = "0.1.0"
