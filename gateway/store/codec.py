"""The quoted tariff, as the JSON snapshot a session keeps (``SessionRecord.tariff_json``), with the
operator's own tariff (``rules``) when it has one.

The snapshot is what the driver was shown at start, so the bill can be recomputed from it later even
if the operator's tariff has changed since. Prices are exact JSON numbers (:mod:`operators.jsoncodec`,
``"energy":0.8500``); snapshots written before that hold them as decimal strings (``"0.8500"``), and
are read the same.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from operators import jsoncodec
from operators.domain import Tariff, TariffExtra, TariffPeriod, TariffRules

VERSION = 1


def tariff_to_json(tariff: Tariff) -> str:
    snapshot = {
        "v": VERSION,
        "currency": tariff.currency,
        "timezone": tariff.timezone,
        "periods": [
            {"start": p.start.isoformat(), "energy": p.energy_per_kwh, "service": p.service_per_kwh}
            for p in tariff.periods
        ],
        "extras": [{"kind": e.kind, "amount": e.amount, "unit": e.unit} for e in tariff.extras],
    }
    if tariff.rules is not None:  # the operator's own tariff: a quoted bill prices like the quote
        snapshot["rules"] = {"engine": tariff.rules.engine, "document": tariff.rules.document}
    return jsoncodec.dumps(snapshot, sort_keys=True).decode("utf-8")


def tariff_from_json(text: str) -> Tariff:
    data = jsoncodec.loads(text)
    if data.get("v") != VERSION:
        raise ValueError(f"unknown tariff snapshot version {data.get('v')!r}")
    return Tariff(
        currency=data["currency"],
        timezone=data["timezone"],
        periods=tuple(
            TariffPeriod(time.fromisoformat(p["start"]), _exact(p["energy"]), _exact(p["service"]))
            for p in data["periods"]
        ),
        extras=tuple(TariffExtra(e["kind"], _exact(e["amount"]), e["unit"]) for e in data["extras"]),
        rules=TariffRules(data["rules"]["engine"], data["rules"]["document"]) if "rules" in data else None,
    )


def _exact(value: Decimal | int | str) -> Decimal:
    """A price as the snapshot holds it: a JSON number (int or Decimal), or a string in older ones."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValueError(f"not a price: {value!r}")
    return Decimal(value)
