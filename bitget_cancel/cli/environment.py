"""The environment variables the command line reads, their names for the help, and their checks.

An option on the command line wins over its variable. A variable set to something it cannot
mean is bad input (exit 2) before anything is sent, never silently ignored: a typo in
``BITGET_DEMO_TRADING`` must not send live orders' cancels to the wrong environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, cast

from bitget_cancel import (
    DEFAULT_BASE_URL,
    ENV_API_KEY,
    ENV_PASSPHRASE,
    ENV_SECRET_KEY,
    InvalidArgument,
)

ENV_BASE_URL = "BITGET_BASE_URL"
ENV_ACCOUNT = "BITGET_ACCOUNT"
ENV_BUDGET_URL = "BITGET_BUDGET_URL"  # read by the engine itself when --budget-url is not given
ENV_ACCOUNT_ID = "BITGET_ACCOUNT_ID"
ENV_DEMO_TRADING = "BITGET_DEMO_TRADING"
ENV_RSA_PRIVATE_KEY = "BITGET_RSA_PRIVATE_KEY"
ENV_RSA_PRIVATE_KEY_FILE = "BITGET_RSA_PRIVATE_KEY_FILE"
ACCOUNTS = ("auto", "classic", "uta")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")

ENV_HELP = f"""\
environment:
  {ENV_API_KEY}, {ENV_PASSPHRASE}, and {ENV_SECRET_KEY}
  (or {ENV_RSA_PRIVATE_KEY} / {ENV_RSA_PRIVATE_KEY_FILE} for an RSA key)
                        the API credentials (never printed)
  {ENV_BASE_URL}       the REST base URL (default {DEFAULT_BASE_URL}); --base-url wins
  {ENV_ACCOUNT}        auto, classic or uta; --account wins
  {ENV_DEMO_TRADING}   1: a demo-trading key (the paptrading header); --[no-]demo-trading wins
  {ENV_BUDGET_URL}     redis://host:port/db: one rate budget shared by every process of the
                        account (needs the [redis] extra); --budget-url wins
  REDIS_PASSWORD        the password of that Redis, if the URL has none
  {ENV_ACCOUNT_ID}     whose budget it is (the UID): several keys of one account share it;
                        --account-id wins
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY
                        used with --trust-env only; --proxy names one explicitly
"""


class BadEnvironment(InvalidArgument):
    """An environment variable holds a value it cannot mean; the message names it."""


Account = Literal["auto", "classic", "uta"]


def account(environ: Mapping[str, str] | None = None) -> Account:
    """``BITGET_ACCOUNT`` (default ``auto``)."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_ACCOUNT, "").strip().lower() or "auto"
    if value not in ACCOUNTS:
        raise BadEnvironment(
            f"{ENV_ACCOUNT}={env.get(ENV_ACCOUNT)!r}: expected one of {', '.join(ACCOUNTS)}"
        )
    return cast(Account, value)


def demo_trading(environ: Mapping[str, str] | None = None) -> bool:
    """``BITGET_DEMO_TRADING``: 1/true/yes/on, or 0/false/no/off/unset."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_DEMO_TRADING, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadEnvironment(
        f"{ENV_DEMO_TRADING}={env.get(ENV_DEMO_TRADING)!r}: expected 1 (a demo-trading key) or 0"
    )
