"""Exit codes, and the one that a report earns.

A script reads the code before anything else, so each code means one thing, and the worse news
wins: credentials refused (3) before "could not list" (4) before "not all closed" (1).
"""

from __future__ import annotations

from typing import Literal

from bitget_cancel import CancelReport, OpenOrders, PanicReport

EXIT_OK = 0  # every target closed (cancelled, or was not open)
EXIT_NOT_CLOSED = 1  # some target failed or is unresolved
EXIT_BAD_INPUT = 2  # bad arguments, a malformed file, missing credentials, no confirmation
EXIT_CREDENTIALS_REFUSED = 3  # the exchange refused the API key, signature or passphrase
EXIT_COULD_NOT_LIST = 4  # panic: no listing succeeded; orders: the listing is incomplete
EXIT_INTERRUPTED = 130  # Ctrl-C


EXIT_HELP = """\
exit codes{which}:
  0    {ok}
  1    {not_closed}
  2    bad input: arguments, a malformed file, missing credentials{confirm}
  3    the exchange refused the credentials (key, signature, passphrase, IP or rights), or
       the environment: a demo-trading key without --demo-trading, a live key with it (40099)
{extra}  130  interrupted (Ctrl-C); with --report the report says what was never sent
"""
_COULD_NOT_LIST = (
    "no listing of the open orders could be read to its end: the account was never seen whole"
)


_ORDERS_HELP = """\
exit codes:
  0    the listing is complete: this is everything open (of the kinds and symbols asked)
  2    bad input: arguments, missing credentials
  3    the exchange refused the credentials (key, signature, passphrase, IP, rights, or a
       demo-trading key without --demo-trading / a live key with it)
  4    the listing is incomplete (a kind or symbol could not be listed to its end): what is
       shown is open, but more may be
  130  interrupted (Ctrl-C)
"""
# What to do about trigger orders that no API of a unified trading account lists.
UNLISTABLE_PLAN_HINT = (
    "plan (trigger) orders cannot be listed on a unified trading account through the API, so "
    "none was seen (and a panic cannot close them): check them in Bitget's app or website and "
    "cancel them there; --kinds normal,tpsl leaves them out when the account holds none"
)
# What to check when the exchange refused the credentials while listing.
REFUSED_HINT = (
    "the exchange refused the credentials: check the API key, secret and passphrase, the key's "
    "IP whitelist and rights; a demo-trading key needs --demo-trading (BITGET_DEMO_TRADING=1), "
    "a live key must not have it"
)


def exit_help(command: Literal["cancel", "panic", "orders", "all"]) -> str:
    """The exit-code table of ``--help`` for one command, or for both (the top level)."""
    if command == "orders":
        return _ORDERS_HELP
    if command == "panic":
        return EXIT_HELP.format(
            which="",
            ok="a final listing shows nothing open in scope, every order seen is closed",
            not_closed="something in scope may still be open (failed, unresolved, deadline)",
            confirm=", no confirmation",
            extra=f"  4    {_COULD_NOT_LIST}\n",
        )
    if command == "cancel":
        return EXIT_HELP.format(
            which="",
            ok="every target is closed (cancelled, or was not open)",
            not_closed="some target is not closed (failed, or unresolved at the deadline)",
            confirm="",
            extra="",
        )
    return EXIT_HELP.format(
        which=" of cancel and panic",
        ok="all closed (cancel: every target; panic: nothing left open in scope)",
        not_closed="not all closed: something failed or is unresolved",
        confirm=", no confirmation",
        extra=f"  4    panic: {_COULD_NOT_LIST}\n",
    )


def credentials_refused(report: CancelReport) -> bool:
    """The exchange refused the key (the engine then stopped sending)."""
    return report.refused_code is not None


def problems(report: CancelReport) -> list[str]:
    """Why a report is not an all-clear besides its outcomes, as the engine words it."""
    return list(report.problems)


def cancel_exit_code(report: CancelReport) -> int:
    if report.all_closed:
        return EXIT_OK
    return EXIT_CREDENTIALS_REFUSED if credentials_refused(report) else EXIT_NOT_CLOSED


def listing_refused(listing: OpenOrders) -> bool:
    """The exchange refused the credentials while listing."""
    return listing.refused_code is not None


def orders_exit_code(listing: OpenOrders) -> int:
    if listing.complete:
        return EXIT_OK
    return EXIT_CREDENTIALS_REFUSED if listing_refused(listing) else EXIT_COULD_NOT_LIST


def panic_exit_code(report: PanicReport) -> int:
    if credentials_refused(report):
        return EXIT_CREDENTIALS_REFUSED
    if not report.listed:
        return EXIT_COULD_NOT_LIST  # no listing ran to its end: the account was never seen
    return EXIT_OK if report.all_closed else EXIT_NOT_CLOSED


# -- the one-line verdict each command ends with, on stderr --------------------------------


def _verdict(code: int, text: str) -> str:
    return f"verdict: {text} (exit {code})"


def cancel_verdict(report: CancelReport, code: int, never_sent: int = 0) -> str:
    counts = report.counts()
    total = len(report.outcomes)
    if code == EXIT_OK:
        return _verdict(code, f"all {total:,} targets closed")
    if code == EXIT_INTERRUPTED:
        return _verdict(
            code,
            f"interrupted: {counts['cancelled'] + counts['not_open']:,} of {total:,} closed, "
            f"{never_sent:,} never sent, the rest may still be open",
        )
    if code == EXIT_CREDENTIALS_REFUSED:
        return _verdict(code, f"the exchange refused the credentials: {total:,} targets not closed")
    left = counts["failed"] + counts["unresolved"]
    why = f"{counts['failed']:,} failed, {counts['unresolved']:,} unresolved"
    if not left and report.problems:
        why = report.problems[0]
    return _verdict(code, f"NOT all closed: {why}")


def panic_verdict(report: PanicReport, code: int) -> str:
    if code == EXIT_OK:
        return _verdict(code, "nothing left open in scope")
    if code == EXIT_CREDENTIALS_REFUSED:
        return _verdict(code, "the exchange refused the credentials: orders may still be open")
    if code == EXIT_COULD_NOT_LIST:
        return _verdict(code, "the account was never seen whole: orders may still be open")
    first = report.problems[0] if report.problems else "some orders are not closed"
    return _verdict(code, f"orders in scope may still be open: {first}")


def orders_verdict(listing: OpenOrders, code: int) -> str:
    count = len(listing.orders)
    if code == EXIT_OK:
        return _verdict(code, f"complete listing: {count:,} open")
    if code == EXIT_CREDENTIALS_REFUSED:
        return _verdict(code, "the exchange refused the credentials: nothing listed")
    return _verdict(code, f"INCOMPLETE listing: {count:,} seen open, more may be")
