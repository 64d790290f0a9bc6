"""Resolver tests run the GraphQL app in-process over fake operators (see tests/inprocess.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.inprocess import InProcess, in_process


@pytest.fixture
async def gateway() -> AsyncIterator[InProcess]:
    async with in_process() as running:
        yield running
