"""No private type in a public signature: every class a public class's methods, properties
and constructor name in their annotations is importable from the package (or is not ours)."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator

import pytest

import bitget_cancel
import bitget_cancel.sim

EXPORTED = {
    id(getattr(module, name))
    for module in (bitget_cancel, bitget_cancel.sim)
    for name in module.__all__
}


# Made by the engine (``engine.dead_man_switch()``), never by a user: its constructor is not
# part of the API.
MADE_BY_THE_ENGINE = {(bitget_cancel.DeadManSwitch, "__init__")}


def _classes(hint: object) -> Iterator[type]:
    """Every class a type hint names, its arguments' included."""
    if isinstance(hint, type):
        yield hint
    for arg in typing.get_args(hint):
        yield from _classes(arg)


def _members(cls: type) -> Iterator[tuple[str, object]]:
    init = next(vars(klass)["__init__"] for klass in cls.__mro__ if "__init__" in vars(klass))
    yield "__init__", init
    for name, member in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            yield name, member.fget
        elif inspect.isfunction(member) or inspect.ismethod(member):
            yield name, member


PUBLIC = [
    getattr(module, name)
    for module in (bitget_cancel, bitget_cancel.sim)
    for name in module.__all__
    if isinstance(getattr(module, name), type)
]


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda cls: cls.__name__)
def test_public_signatures_name_only_exported_types(cls: type) -> None:
    private = set()
    for name, member in _members(cls):
        if (cls, name) in MADE_BY_THE_ENGINE:
            continue
        if member is object.__init__ or getattr(member, "__module__", "") is None:
            continue
        if not str(getattr(member, "__module__", "")).startswith("bitget_cancel"):
            continue
        hints = typing.get_type_hints(member)
        for hint in hints.values():
            for found in _classes(hint):
                if found.__module__.startswith("bitget_cancel") and id(found) not in EXPORTED:
                    private.add(f"{cls.__name__}.{name}: {found.__module__}.{found.__qualname__}")
    assert not private, sorted(private)
