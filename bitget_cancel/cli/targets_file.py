"""Cancel targets from a file: CSV, a JSON array, or JSON lines; errors say where.

Keys (CSV header names or JSON object keys) are matched without regard to case, ``_`` or ``-``:
``symbol``; ``orderId`` (or ``order_id``, or ccxt's ``id``); ``clientOid`` (or Bitget's
``clientOId``, or ccxt's ``clientOrderId``); and an optional ``kind`` (without one, a row's
``tpslType``, ``planType``, ``triggerPrice``/``stopPrice`` or ccxt ``info`` say it, by the rule
of ``CancelTarget.from_ccxt``). Other keys are ignored,
so an export of open orders (prices, sizes...) or a list of ccxt orders is read as it is.
ccxt symbols (``BTC/USDT``) become the exchange's (``BTCUSDT``).

Every format is read in one linear pass: JSON is decoded by msgspec, CSV by the csv module. A
malformed file is refused whole, naming the line (and, in a JSON array, the item), before any
request is sent.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from bitget_cancel import CancelTarget, InvalidArgument, infer_kind

from .bulk import collector_paused
from .symbols import SymbolError, exchange_symbol

Format = Literal["csv", "json", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "json", "jsonl")
STDIN = "-"
# progress(rows read, rows in all); "in all" is known (or bounded) before the first row.
LoadProgress = Callable[[int, int], None]
PROGRESS_EVERY = 8192  # rows between two progress calls

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
# normalised key -> the field (named as in messages)
_FIELDS = {
    "symbol": "symbol",
    "orderid": "orderId",
    "id": "orderId",
    "clientoid": "clientOid",
    "clientorderid": "clientOid",
    "kind": "kind",
    # Without a kind, these say it, by the rule of CancelTarget.from_ccxt (infer_kind).
    "tpsltype": "tpslType",
    "plantype": "planType",
    "triggerprice": "triggerPrice",
    "stopprice": "stopPrice",
    "info": "info",
}
_BOM = b"\xef\xbb\xbf"
_SEPARATORS = re.compile(r"[\s,]*")
# Targets carry a kind once the engine knows order kinds; until then a kind column is refused.


class TargetFileError(InvalidArgument):
    """A targets file that cannot be read or has a malformed entry; names the file and line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {message}")


class _RowError(Exception):
    """A bad row; the reader that knows where it is turns it into a TargetFileError."""


def _normalise(key: str) -> str:
    return key.strip().lower().replace("_", "").replace("-", "")


def read_source(path: str) -> tuple[str, bytes]:
    """(the name used in messages, the bytes) of ``path``; ``"-"`` is standard input."""
    if path == STDIN:
        stream = sys.stdin
        buffer = getattr(stream, "buffer", None)
        data = buffer.read() if buffer is not None else stream.read().encode("utf-8")
        return "<stdin>", data
    try:
        return path, Path(path).read_bytes()
    except OSError as exc:
        raise TargetFileError(path, None, f"cannot read: {exc.strerror or exc}") from None


def format_of(path: str, data: bytes, fmt: Format | None = None) -> Format:
    """``fmt`` if given, else the extension's, else a look at the first character."""
    if fmt is not None:
        return fmt
    if path != STDIN:
        by_extension = _EXTENSIONS.get(Path(path).suffix.lower())
        if by_extension is not None:
            return by_extension
    return sniff(data)


def sniff(data: bytes) -> Format:
    """``[``: a JSON array; ``{``: JSON lines; anything else: CSV."""
    head = data.removeprefix(_BOM).lstrip(b" \t\r\n")[:1]
    return "json" if head == b"[" else "jsonl" if head == b"{" else "csv"


def load_targets(
    path: str, fmt: Format | None = None, progress: LoadProgress | None = None
) -> list[CancelTarget]:
    """Read targets from ``path`` (``"-"``: standard input)."""
    source, data = read_source(path)
    return parse_targets(data, format_of(path, data, fmt), source, progress)


def parse_targets(
    data: bytes | str,
    fmt: Format,
    source: str = "<input>",
    progress: LoadProgress | None = None,
) -> list[CancelTarget]:
    """Parse ``data`` in ``fmt``; raise TargetFileError at the first bad entry."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    raw = raw.removeprefix(_BOM)
    parse = _PARSERS.get(fmt)
    if parse is None:
        raise InvalidArgument(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    with collector_paused():  # benchmarks/workloads/targets_file.py
        targets = parse(raw, source, progress)
    if progress is not None:
        progress(len(targets), len(targets))
    return targets


# -- one row -> one target ---------------------------------------------------------------------


class _Rows:
    """Turns rows (field -> value) into targets; remembers the symbols it has converted."""

    def __init__(self) -> None:
        self._symbols: dict[str, str] = {}
        self._keys: dict[str, str | None] = {}  # JSON key as written -> field

    def field(self, key: str) -> str | None:
        try:
            return self._keys[key]
        except KeyError:
            field = self._keys[key] = _FIELDS.get(_normalise(key))
            return field

    def fields(self, item: Mapping[str, object]) -> dict[str, object]:
        values: dict[str, object] = {}
        for key, value in item.items():
            field = self.field(key)
            if field is None:
                continue
            if field in values:
                raise _RowError(f"{field} given twice (as {key!r} too)")
            values[field] = value
        return values

    def symbol(self, text: str) -> str:
        try:
            return self._symbols[text]
        except KeyError:
            try:
                name = exchange_symbol(text)
            except SymbolError as exc:
                raise _RowError(str(exc)) from None
            self._symbols[text] = name
            return name

    def target(self, values: Mapping[str, object]) -> CancelTarget:
        symbol = _text(values, "symbol")
        order_id = _text(values, "orderId")
        client_oid = _text(values, "clientOid")
        kind = _text(values, "kind")
        if not symbol:
            raise _RowError("symbol is missing")
        try:
            return CancelTarget(
                symbol=self.symbol(symbol),
                order_id=order_id,
                client_oid=client_oid,
                kind=kind or infer_kind(values),  # type: ignore[arg-type]  # checked by CancelTarget
            )
        except InvalidArgument as exc:
            message = str(exc).replace("order_id", "orderId").replace("client_oid", "clientOid")
            raise _RowError(message) from None


def _text(values: Mapping[str, object], field: str) -> str | None:
    value = values.get(field)
    if value is None or isinstance(value, str):
        return value
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    kind = "number" if number else type(value).__name__
    hint = " (quote ids: long numbers lose digits)" if number else ""
    raise _RowError(f"{field} must be a string, got {kind} {value!r}{hint}")


def _start(progress: LoadProgress | None, total: int) -> None:
    if progress is not None:
        progress(0, total)


def _tick(progress: LoadProgress | None, done: int, total: int) -> None:
    if progress is not None and done % PROGRESS_EVERY == 0:
        progress(done, total)


# -- CSV ---------------------------------------------------------------------------------------


def _parse_csv(data: bytes, source: str, progress: LoadProgress | None) -> list[CancelTarget]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TargetFileError(source, line, f"not UTF-8 text: {exc.reason}") from None
    if not text.strip():
        return []
    total = text.count("\n") + 1  # rows at most: a quoted cell may span lines
    _start(progress, total)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = _Rows()
    targets: list[CancelTarget] = []
    try:
        header = next(reader)
        columns = _csv_columns(header, source, reader.line_num)
        width = len(header)
        for row in reader:
            if len(row) > width:
                message = f"{len(row)} fields but the header names {width}"
                raise TargetFileError(source, reader.line_num, message)
            values: dict[str, object] = {}
            for index, field in columns:
                cell = row[index].strip() if index < len(row) else ""
                values[field] = cell or None
            if not any(values.values()) and not any(cell.strip() for cell in row):
                continue  # a blank line
            try:
                targets.append(rows.target(values))
            except _RowError as exc:
                raise TargetFileError(source, reader.line_num, str(exc)) from None
            _tick(progress, len(targets), total)
    except csv.Error as exc:
        raise TargetFileError(source, reader.line_num, f"not valid CSV: {exc}") from None
    return targets


def _csv_columns(header: list[str], source: str, line: int) -> list[tuple[int, str]]:
    columns: list[tuple[int, str]] = []
    for index, name in enumerate(header):
        field = _FIELDS.get(_normalise(name))
        if field is None:
            continue
        if any(field == known for _, known in columns):
            raise TargetFileError(source, line, f"two columns name {field}")
        columns.append((index, field))
    found = {field for _, field in columns}
    if "symbol" not in found or not found & {"orderId", "clientOid"}:
        names = ", ".join(repr(h) for h in header)
        if len(names) > HEADER_SHOWN:  # a whole JSON document read as CSV: not all of it
            names = names[:HEADER_SHOWN] + f"... ({len(names):,} characters)"
        raise TargetFileError(
            source,
            line,
            "the header must name a symbol column and an orderId and/or clientOid column; "
            f"found {names}{_header_hint(header)}",
        )
    return columns


HEADER_SHOWN = 120  # characters of a bad header quoted in its error


def _header_hint(header: list[str]) -> str:
    """What a header that names no column probably is."""
    first = "".join(header).lstrip()
    if first.startswith(("[", "{")):
        return " (this looks like JSON: leave out --format csv, or pass --format json/jsonl)"
    if any(";" in name for name in header):
        return " (separated by ';': save the file with commas, as CSV needs)"
    return ""


# -- JSON --------------------------------------------------------------------------------------


def _malformed(source: str, data: bytes, exc: Exception, first_line: int = 1) -> TargetFileError:
    """Where and why a JSON text is bad, in people's terms (line, column). Found by our own
    decode and by the standard library's parser, whose positions are part of its API; msgspec's
    wording changes between its releases and is quoted only when nothing else names the fault."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as bad:
        offset = bad.start
        line = first_line + data.count(b"\n", 0, offset)
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        return TargetFileError(source, line, f"not UTF-8 text: {bad.reason} (column {column})")
    try:
        json.loads(text)
    except json.JSONDecodeError as located:
        line = first_line + located.lineno - 1
        return TargetFileError(
            source, line, f"not valid JSON: {located.msg} (column {located.colno})"
        )
    except ValueError:  # e.g. a number too long for int(): no position to give
        pass
    return TargetFileError(source, first_line, f"not valid JSON: {exc}")


def _parse_json_array(
    data: bytes, source: str, progress: LoadProgress | None
) -> list[CancelTarget]:
    if not data.strip():
        return []
    try:
        items: Any = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise _malformed(source, data, exc) from None
    if not isinstance(items, list):
        raise TargetFileError(source, 1, "expected a JSON array of objects")
    rows = _Rows()
    targets: list[CancelTarget] = []
    total = len(items)
    _start(progress, total)
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise _RowError(_not_an_object(item))
            targets.append(rows.target(rows.fields(item)))
        except _RowError as exc:
            line = _line_of_item(data.decode("utf-8"), index)
            raise TargetFileError(source, line, f"item {index}: {exc}") from None
        _tick(progress, index + 1, total)
    return targets


def _line_of_item(text: str, wanted: int) -> int:
    """The line where item ``wanted`` of a well-formed JSON array starts; one linear walk,
    done only to word an error."""
    decoder = json.JSONDecoder()
    index = text.index("[") + 1
    line = 1 + text.count("\n", 0, index)
    for item in range(wanted + 1):
        gap = _SEPARATORS.match(text, index)
        assert gap is not None  # the pattern matches the empty string
        line += text.count("\n", index, gap.end())
        index = gap.end()
        if item == wanted:
            break
        _, end = decoder.raw_decode(text, index)
        line += text.count("\n", index, end)
        index = end
    return line


def _parse_json_lines(
    data: bytes, source: str, progress: LoadProgress | None
) -> list[CancelTarget]:
    decode = msgspec.json.Decoder().decode
    rows = _Rows()
    targets: list[CancelTarget] = []
    lines = data.split(b"\n")
    total = len(lines)
    _start(progress, total)
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            item = decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise _malformed(source, raw, exc, first_line=number) from None
        try:
            if not isinstance(item, dict):
                raise _RowError(_not_an_object(item))
            targets.append(rows.target(rows.fields(item)))
        except _RowError as exc:
            raise TargetFileError(source, number, str(exc)) from None
        _tick(progress, number, total)
    return targets


_PARSERS: dict[str, Callable[[bytes, str, LoadProgress | None], list[CancelTarget]]] = {
    "csv": _parse_csv,
    "json": _parse_json_array,
    "jsonl": _parse_json_lines,
}


def _not_an_object(item: object) -> str:
    shown = repr(item)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return f"expected an object with symbol and orderId/clientOid, got {shown}"
