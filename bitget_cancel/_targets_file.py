"""Cancel targets from a file: CSV, a JSON array, or JSON lines; errors name the line.

Keys (CSV header names or JSON object keys) are matched without regard to case or underscores,
so ``orderId``, ``order_id`` and Bitget's own ``clientOId`` spelling all work. Other keys are
ignored, which lets an export of open orders (with prices, sizes...) be fed in as it is.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from ._exceptions import InvalidArgument
from ._models import CancelTarget

Format = Literal["csv", "json", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "json", "jsonl")
STDIN = "-"

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
# normalised key -> the name used in messages
_FIELDS = {"symbol": "symbol", "orderid": "orderId", "clientoid": "clientOid"}


class TargetFileError(InvalidArgument):
    """A targets file that cannot be read or has a malformed entry; names the file and line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {message}")


def _normalise(key: str) -> str:
    return key.strip().lower().replace("_", "").replace("-", "")


def load_targets(path: str, fmt: Format | None = None) -> list[CancelTarget]:
    """Read targets from ``path`` (``"-"``: standard input). The format comes from ``fmt``,
    else the extension, else a look at the first character."""
    if path == STDIN:
        source, text = "<stdin>", sys.stdin.read()
    else:
        source = path
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise TargetFileError(source, None, f"cannot read: {exc}") from None
        if fmt is None:
            fmt = _EXTENSIONS.get(Path(path).suffix.lower())
    return parse_targets(text, fmt or sniff(text), source)


def sniff(text: str) -> Format:
    """``[``: a JSON array; ``{``: JSON lines; anything else: CSV."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    return "json" if head == "[" else "jsonl" if head == "{" else "csv"


def parse_targets(text: str, fmt: Format, source: str = "<input>") -> list[CancelTarget]:
    """Parse ``text`` in ``fmt``; raise TargetFileError at the first bad entry."""
    text = text.removeprefix("\ufeff")
    if fmt == "csv":
        return _parse_csv(text, source)
    if fmt == "json":
        return list(_targets(_json_array(text, source), source))
    if fmt == "jsonl":
        return list(_targets(_json_lines(text, source), source))
    raise InvalidArgument(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


# -- CSV ---------------------------------------------------------------------------------------


def _parse_csv(text: str, source: str) -> list[CancelTarget]:
    if not text.strip():
        return []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        columns = _csv_columns(header, source, reader.line_num)
        targets = []
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise TargetFileError(
                    source, line, f"{len(row)} fields but the header names {len(header)}"
                )
            values: dict[str, object] = {}
            for index, field in columns.items():
                cell = row[index].strip() if index < len(row) else ""
                values[field] = cell or None
            targets.append(_target(values, source, line))
        return targets
    except csv.Error as exc:
        raise TargetFileError(source, reader.line_num, f"not valid CSV: {exc}") from None


def _csv_columns(header: list[str], source: str, line: int) -> dict[int, str]:
    columns: dict[int, str] = {}
    for index, name in enumerate(header):
        field = _FIELDS.get(_normalise(name))
        if field is None:
            continue
        if field in columns.values():
            raise TargetFileError(source, line, f"two columns name {field}")
        columns[index] = field
    found = set(columns.values())
    if "symbol" not in found or not found & {"orderId", "clientOid"}:
        names = ", ".join(repr(h) for h in header)
        raise TargetFileError(
            source,
            line,
            "the header must name a symbol column and an orderId and/or clientOid column; "
            f"found {names}",
        )
    return columns


# -- JSON --------------------------------------------------------------------------------------


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _json_error(source: str, exc: json.JSONDecodeError) -> TargetFileError:
    return TargetFileError(source, exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})")


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _json_array(text: str, source: str) -> Iterable[tuple[int, object]]:
    """(line, item) for each item of a top-level JSON array, read item by item so that each
    keeps the line it starts on."""
    decoder = json.JSONDecoder()
    index = _skip_space(text, 0)
    if index == len(text):
        return
    if text[index] != "[":
        raise TargetFileError(source, _line_of(text, index), "expected a JSON array of objects")
    index = _skip_space(text, index + 1)
    if index < len(text) and text[index] == "]":
        index = _skip_space(text, index + 1)
    else:
        while True:
            try:
                item, end = decoder.raw_decode(text, index)
            except json.JSONDecodeError as exc:
                raise _json_error(source, exc) from None
            yield _line_of(text, index), item
            index = _skip_space(text, end)
            if index < len(text) and text[index] == ",":
                index = _skip_space(text, index + 1)
                continue
            if index < len(text) and text[index] == "]":
                index = _skip_space(text, index + 1)
                break
            raise TargetFileError(
                source, _line_of(text, index), "not valid JSON: expected ',' or ']'"
            )
    if index != len(text):
        raise TargetFileError(
            source, _line_of(text, index), "not valid JSON: extra data after the array"
        )


def _json_lines(text: str, source: str) -> Iterable[tuple[int, object]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TargetFileError(
                source, number, f"not valid JSON: {exc.msg} (column {exc.colno})"
            ) from None


def _targets(items: Iterable[tuple[int, object]], source: str) -> Iterable[CancelTarget]:
    for line, item in items:
        if not isinstance(item, dict):
            raise TargetFileError(
                source, line, f"expected an object with symbol and orderId/clientOid, got {item!r}"
            )
        yield _target(_fields(item, source, line), source, line)


def _fields(item: Mapping[str, object], source: str, line: int) -> dict[str, object]:
    values: dict[str, object] = {}
    for key, value in item.items():
        field = _FIELDS.get(_normalise(key))
        if field is None:
            continue
        if field in values:
            raise TargetFileError(source, line, f"{field} given twice (as {key!r} too)")
        values[field] = value
    return values


def _text(values: Mapping[str, object], field: str, source: str, line: int) -> str | None:
    value = values.get(field)
    if value is None or isinstance(value, str):
        return value
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    kind = "number" if number else type(value).__name__
    hint = " (quote ids: long numbers lose digits)" if number else ""
    raise TargetFileError(source, line, f"{field} must be a string, got {kind} {value!r}{hint}")


def _target(values: Mapping[str, object], source: str, line: int) -> CancelTarget:
    symbol = _text(values, "symbol", source, line)
    order_id = _text(values, "orderId", source, line)
    client_oid = _text(values, "clientOid", source, line)
    if symbol is None:
        raise TargetFileError(source, line, "symbol is missing")
    try:
        return CancelTarget(symbol=symbol, order_id=order_id, client_oid=client_oid)
    except InvalidArgument as exc:
        message = str(exc).replace("order_id", "orderId").replace("client_oid", "clientOid")
        raise TargetFileError(source, line, message) from None
