"""Reading a budget URL: which Redis deployment, where, and with what credentials.

The spellings (``[user:]password@`` is optional everywhere; ``rediss`` is TLS)::

    redis://[[user]:password@]host[:port][/db]                       one server
    redis+cluster://[[user]:password@]host:port[,host:port...]       a Redis Cluster
    redis+sentinel://[[user]:password@]host:port[,host:port...]/master[/db]
                                                                    a master found by Sentinel
    ...?ssl_ca_certs=/path/ca.pem                                    TLS options (rediss only)

A userinfo without a colon (``redis://secret@host``) is a password, as Lettuce reads it: Redis
has no user without a password. The userinfo ends at the *last* ``@``, so a password may hold
``/ # ? @ :`` unencoded; percent-encoded characters are decoded (write a literal ``%`` as
``%25``). Nothing here ever puts a piece of the URL in an error: a malformed URL names the part
at fault only, since a mistyped URL can put a password anywhere.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Literal

from ._exceptions import InvalidBudgetStore

Kind = Literal["single", "cluster", "sentinel"]

_SCHEMES: dict[str, tuple[Kind, bool]] = {
    "redis": ("single", False),
    "rediss": ("single", True),
    "redis+cluster": ("cluster", False),
    "rediss+cluster": ("cluster", True),
    "redis+sentinel": ("sentinel", False),
    "rediss+sentinel": ("sentinel", True),
}
_DEFAULT_PORT: dict[Kind, int] = {"single": 6379, "cluster": 6379, "sentinel": 26379}
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
_NAME = re.compile(r"[A-Za-z0-9._-]+")
# TLS options passed to redis-py as they are; their values are never shown.
TLS_OPTIONS = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs")
_CERT_REQS = ("required", "optional", "none")
FORMS = (
    "redis://[[user]:password@]host[:port][/db], "
    "redis+cluster://[[user]:password@]host:port[,host:port...], "
    "redis+sentinel://[[user]:password@]host:port[,host:port...]/master[/db] "
    "(rediss... for TLS)"
)


@dataclass(frozen=True)
class StoreAddress:
    """A parsed budget URL. Its repr and ``shown`` never hold the password."""

    kind: Kind
    tls: bool
    hosts: tuple[tuple[str, int], ...]
    db: int = 0
    master: str | None = None  # the Sentinel service name
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls_options: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def shown(self) -> str:
        """The URL to print: credentials as ``***``, no options."""
        scheme = next(name for name, form in _SCHEMES.items() if form == (self.kind, self.tls))
        auth = "***@" if self.username is not None or self.password is not None else ""
        hosts = ",".join(f"{host}:{port}" for host, port in self.hosts)
        path = f"/{self.master}/{self.db}" if self.kind == "sentinel" else f"/{self.db}"
        return f"{scheme}://{auth}{hosts}{path}"

    def __repr__(self) -> str:
        return f"StoreAddress({self.shown!r})"


def _bad(part: str) -> InvalidBudgetStore:
    return InvalidBudgetStore(f"bad budget URL: {part}; the forms are {FORMS}")


def parse_budget_url(url: object) -> StoreAddress:
    """The deployment a budget URL names; ``InvalidBudgetStore`` names the part at fault."""
    if not isinstance(url, str):
        raise InvalidBudgetStore(f"the budget URL must be a string; got {type(url).__name__}")
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise _bad("no scheme (it starts with redis://, rediss:// or a +cluster/+sentinel form)")
    form = _SCHEMES.get(scheme.lower())
    if form is None:
        shown = f" {scheme!r}" if re.fullmatch(r"[A-Za-z+]{1,20}", scheme) else ""
        raise _bad(f"unknown scheme{shown}")
    kind, tls = form
    userinfo, at, located = rest.rpartition("@")
    username, password = _credentials(userinfo) if at else (None, None)
    located, _, query = located.partition("?")
    if "#" in located or "#" in query:
        raise _bad("a '#' after the host (a '#' in a password is fine before the last '@')")
    authority, _, path = located.partition("/")
    hosts = _hosts(authority, kind)
    master, db = _path(path, kind)
    options = _tls_options(query, tls)
    return StoreAddress(kind, tls, hosts, db, master, username, password, options)


def _credentials(userinfo: str) -> tuple[str | None, str | None]:
    if ":" in userinfo:
        user, _, password = userinfo.partition(":")
    else:
        user, password = "", userinfo  # Redis has no user without a password
    username = urllib.parse.unquote(user) or None
    return username, urllib.parse.unquote(password) or None


def _hosts(authority: str, kind: Kind) -> tuple[tuple[str, int], ...]:
    if not authority:
        raise _bad("no host")
    found = []
    for number, item in enumerate(authority.split(","), 1):
        match = re.fullmatch(rf"({_HOST.pattern})(?::(\d{{1,5}}))?", item)
        where = f"host #{number}" if "," in authority else "the host"
        if match is None:
            if item.startswith(":") or not item:
                raise _bad(f"no name for {where} (a password goes before an '@')")
            if re.fullmatch(rf"(?:{_HOST.pattern}):.*", item):
                raise _bad(f"the port of {where} must be a number from 1 to 65535")
            raise _bad(f"{where} is not a host name or an address")
        port = int(match.group(2)) if match.group(2) else _DEFAULT_PORT[kind]
        if not 1 <= port <= 65535:
            raise _bad(f"the port of {where} must be a number from 1 to 65535")
        found.append((match.group(1).strip("[]"), port))
    if kind == "single" and len(found) > 1:
        raise _bad("several hosts: use redis+cluster:// or redis+sentinel:// for those")
    return tuple(found)


def _path(path: str, kind: Kind) -> tuple[str | None, int]:
    parts = path.split("/") if path else []
    master = None
    if kind == "sentinel":
        if not parts or not _NAME.fullmatch(parts[0]):
            raise _bad("the Sentinel form needs the master's name after the hosts (/mymaster)")
        master, parts = parts[0], parts[1:]
    if parts and parts[-1] == "":
        parts = parts[:-1]  # a trailing slash
    if len(parts) > 1:
        raise _bad("the path must be the database number alone")
    db = 0
    if parts:
        if not (parts[0].isascii() and parts[0].isdigit()) or len(parts[0]) > 5:
            raise _bad("the database must be a number")
        db = int(parts[0])
    if kind == "cluster" and db != 0:
        raise _bad("a Redis Cluster has database 0 only")
    return master, db


def _tls_options(query: str, tls: bool) -> tuple[tuple[str, str], ...]:
    if not query:
        return ()
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise _bad("the options after '?' must be name=value pairs joined by '&'") from None
    for name, value in pairs:
        if name not in TLS_OPTIONS:
            shown = f" {name!r}" if _NAME.fullmatch(name) and len(name) <= 40 else ""
            raise _bad(f"unknown option{shown} (known: {', '.join(TLS_OPTIONS)})")
        if not tls:
            raise _bad(f"the option {name!r} needs TLS (rediss://)")
        if name == "ssl_cert_reqs" and value not in _CERT_REQS:
            raise _bad(f"ssl_cert_reqs must be one of {', '.join(_CERT_REQS)}")
    return tuple(pairs)
