"""Cancel Bitget spot orders in bulk: as fast as the exchange allows, nothing lost."""

from ._auth import Credentials
from ._engine import CancelEngine, EngineClosed, InvalidDeadline
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
from ._plan import InvalidMode

__all__ = [
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
    "PanicReport",
    "RequestTimeout",
    "TransportError",
    "install_panic_handler",
]

__version__ = "0.1.0"
