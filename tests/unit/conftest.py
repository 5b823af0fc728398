"""Unit tests run on virtual time: no test here sleeps for real."""

from __future__ import annotations

import asyncio

import pytest

from .virtual_time import VirtualClockPolicy


@pytest.fixture(scope="session")
def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    return VirtualClockPolicy()
