"""The tariff snapshot a session keeps round-trips exactly, and stores as it is."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from gateway.store import PaymentMode, Store
from gateway.store.codec import tariff_from_json, tariff_to_json
from operators.domain import Tariff, TariffExtra, TariffPeriod

TARIFF = Tariff(
    "CNY",
    (
        TariffPeriod(time(0, 0), Decimal("0.3000"), Decimal("0.4")),
        TariffPeriod(time(8, 30), Decimal("1.0512"), Decimal("0.8")),
    ),
    timezone="Asia/Shanghai",
    extras=(TariffExtra("PARKING", Decimal("5.00"), "hour"),),
)


def test_round_trip_is_exact() -> None:
    again = tariff_from_json(tariff_to_json(TARIFF))
    assert again == TARIFF
    assert str(again.periods[0].energy_per_kwh) == "0.3000"


def test_prices_are_exact_json_numbers_at_any_scale() -> None:
    tariff = Tariff(
        "CNY",
        (TariffPeriod(time(0, 0), Decimal("123456789012345678.123456"), Decimal("0.000001")),),
        extras=(TariffExtra("PARKING", Decimal("0E-6"), "hour"),),
    )
    text = tariff_to_json(tariff)
    assert '"energy":123456789012345678.123456' in text and '"service":0.000001' in text
    assert '"amount":0.000000' in text  # positional, never 0E-6
    again = tariff_from_json(text)
    assert again == tariff
    assert [str(p.energy_per_kwh) for p in again.periods] == ["123456789012345678.123456"]


def test_a_snapshot_written_with_string_prices_still_reads() -> None:
    # As sessions and quotes stored them before the shared codec: prices as decimal strings.
    old = (
        '{"currency": "CNY", "extras": [{"amount": "5.00", "kind": "PARKING", "unit": "hour"}], "periods": '
        '[{"energy": "0.3000", "service": "0.4", "start": "00:00:00"}, {"energy": "1.0512", "service": '
        '"0.8", "start": "08:30:00"}], "timezone": "Asia/Shanghai", "v": 1}'
    )
    again = tariff_from_json(old)
    assert again == TARIFF and str(again.extras[0].amount) == "5.00"


def test_a_price_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="not a price"):
        tariff_from_json(tariff_to_json(TARIFF).replace('"service":0.4', '"service":true'))


def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        tariff_from_json('{"v": 99}')


async def test_the_session_keeps_the_snapshot(store: Store) -> None:
    session, _ = await store.create_session(
        driver_id="alice", idempotency_key="k", operator_id="op", connector_id="c", currency="CNY",
        payment_mode=PaymentMode.POSTPAID, tariff_json=tariff_to_json(TARIFF),
    )  # fmt: skip
    stored = await store.get_session(session.id)
    assert stored is not None and stored.tariff_json is not None
    assert tariff_from_json(stored.tariff_json) == TARIFF
