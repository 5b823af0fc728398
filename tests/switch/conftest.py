"""Every test of the switch ends what it started, pass or fail."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .helpers import end_leftovers


@pytest.fixture(autouse=True)
async def _no_leftover_processes() -> AsyncIterator[None]:
    yield
    await end_leftovers()
