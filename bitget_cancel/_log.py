"""The library's logger. A NullHandler, as the logging HOWTO asks of libraries: a program that
never configured logging must not get our warnings on its stderr (logging's last resort)."""

from __future__ import annotations

import logging

log = logging.getLogger("bitget_cancel")
if not any(isinstance(handler, logging.NullHandler) for handler in log.handlers):
    log.addHandler(logging.NullHandler())
