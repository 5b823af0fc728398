"""Every public name says what it does, and ``help()`` shows nothing a reader cannot use."""

from __future__ import annotations

import inspect
import pydoc
import typing

import bitget_cancel


def _public_members() -> list[tuple[str, object]]:
    members: list[tuple[str, object]] = []
    for name in bitget_cancel.__all__:
        obj = getattr(bitget_cancel, name)
        # A type alias such as ``Callable[[int, int], None]`` is a class to Python 3.10's
        # ``inspect.isclass`` and cannot carry a docstring of its own.
        if typing.get_origin(obj) is not None:
            continue
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        members.append((name, obj))
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, property):
                    members.append((f"{name}.{attr}", value.fget))
                elif inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod)):
                    members.append((f"{name}.{attr}", getattr(value, "__func__", value)))
    return members


def test_every_public_class_function_method_and_property_has_a_docstring() -> None:
    missing = [name for name, obj in _public_members() if not (obj.__doc__ or "").strip()]
    assert missing == []


def test_help_shows_no_placeholder_object_as_a_default() -> None:
    for name in ("CancelEngine", "install_panic_handler"):
        text = pydoc.render_doc(getattr(bitget_cancel, name), renderer=pydoc.TextDoc())
        assert "<object object" not in text, name
    signature = inspect.signature(bitget_cancel.CancelEngine.panic_cancel)
    assert signature.parameters["deadline"].default == bitget_cancel.DEFAULT_PANIC_DEADLINE


def test_the_engine_docstring_names_every_constructor_parameter() -> None:
    doc = bitget_cancel.CancelEngine.__doc__ or ""
    parameters = inspect.signature(bitget_cancel.CancelEngine).parameters
    missing = [name for name in parameters if name != "credentials" and f"``{name}``" not in doc]
    assert missing == []
