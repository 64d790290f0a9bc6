"""Why a session ended, from an operator's stop reason or a failure report."""

from __future__ import annotations

import pytest

from gateway.charging.ending import from_operator
from gateway.store import SessionEndReason as R


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [
        ("USER", R.DRIVER_STOP),
        ("BMS", R.VEHICLE),
        ("DISCONNECTED", R.VEHICLE),
        ("CHARGER_FAULT", R.FAULT),
        ("AGGREGATOR", R.OPERATOR),
        ("CUSTOM_42", R.OPERATOR),
        ("Stopped by the site manager", R.OPERATOR),
        (None, R.OPERATOR),
    ],
)
def test_operator_stop_reasons(stop_reason, expected):
    assert from_operator(stop_reason) is expected
