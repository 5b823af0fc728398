"""The switch's unit tests run on virtual time too: no test here sleeps for real."""

from __future__ import annotations

from tests.unit.conftest import pytest_asyncio_loop_factories

__all__ = ["pytest_asyncio_loop_factories"]
