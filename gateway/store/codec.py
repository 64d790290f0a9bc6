"""The quoted tariff, as the JSON snapshot a session keeps (``SessionRecord.tariff_json``).

The snapshot is what the driver was shown at start, so the bill can be recomputed from it later even
if the operator's tariff has changed since. Prices travel as decimal strings, never JSON numbers.
"""

from __future__ import annotations

import json
from datetime import time
from decimal import Decimal

from operators.domain import Tariff, TariffExtra, TariffPeriod

VERSION = 1


def _period(period: TariffPeriod) -> dict[str, str]:
    return {
        "start": period.start.isoformat(),
        "energy": str(period.energy_per_kwh),
        "service": str(period.service_per_kwh),
    }


def tariff_to_json(tariff: Tariff) -> str:
    return json.dumps(
        {
            "v": VERSION,
            "currency": tariff.currency,
            "timezone": tariff.timezone,
            "periods": [
                {
                    "start": p.start.isoformat(),
                    "energy": str(p.energy_per_kwh),
                    "service": str(p.service_per_kwh),
                }
                for p in tariff.periods
            ],
            "extras": [{"kind": e.kind, "amount": str(e.amount), "unit": e.unit} for e in tariff.extras],
        },
        sort_keys=True,
    )


def tariff_from_json(text: str) -> Tariff:
    data = json.loads(text)
    if data.get("v") != VERSION:
        raise ValueError(f"unknown tariff snapshot version {data.get('v')!r}")
    return Tariff(
        currency=data["currency"],
        timezone=data["timezone"],
        periods=tuple(
            TariffPeriod(time.fromisoformat(p["start"]), Decimal(p["energy"]), Decimal(p["service"]))
            for p in data["periods"]
        ),
        extras=tuple(TariffExtra(e["kind"], Decimal(e["amount"]), e["unit"]) for e in data["extras"]),
    )
