"""The fake operator's network: stations, connectors, statuses and tariffs, generated from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from operators.domain import (
    Connector,
    ConnectorStatus,
    ConnectorType,
    GeoPoint,
    PowerType,
    Station,
    Tariff,
    TariffPeriod,
)

# (type, power type, kW) of the connectors a station may have.
PLUGS = (
    (ConnectorType.GBT_DC, PowerType.DC, 120.0),
    (ConnectorType.GBT_DC, PowerType.DC, 60.0),
    (ConnectorType.GBT_AC, PowerType.AC, 7.0),
)
# Statuses at the start, weighted: most connectors free, some busy, a few broken.
STATUSES = (
    (ConnectorStatus.AVAILABLE, 14),
    (ConnectorStatus.OCCUPIED, 2),
    (ConnectorStatus.CHARGING, 3),
    (ConnectorStatus.FAULTED, 1),
)
# Tariffs (CNY a kWh, energy + service): one flat, two time-of-use with a night rate.
TARIFFS = (
    Tariff("CNY", (TariffPeriod(time(0), Decimal("0.80"), Decimal("0.60")),)),
    Tariff(
        "CNY",
        (
            TariffPeriod(time(0), Decimal("0.3500"), Decimal("0.80")),
            TariffPeriod(time(8), Decimal("1.1250"), Decimal("0.80")),
            TariffPeriod(time(22), Decimal("0.3500"), Decimal("0.80")),
        ),
    ),
    Tariff(
        "CNY",
        (
            TariffPeriod(time(7), Decimal("1.05"), Decimal("0.40")),
            TariffPeriod(time(23), Decimal("0.45"), Decimal("0.40")),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Network:
    stations: tuple[Station, ...]
    statuses: dict[str, ConnectorStatus]  # by connector id
    tariffs: dict[str, Tariff]  # by connector id


def generate(operator_id: str, name: str, count: int, seed: int, center: tuple[float, float]) -> Network:
    """``count`` stations within about 5 km of ``center``; the same arguments, the same network."""
    rng = random.Random(f"fake:{operator_id}:{seed}")
    stations, statuses, tariffs = [], {}, {}
    for i in range(1, count + 1):
        station_id = f"S{i:04d}"
        tariff = TARIFFS[i % len(TARIFFS)]
        connectors = []
        for j in range(1, rng.choice((1, 2, 2, 3, 4)) + 1):
            plug, power_type, kw = rng.choice(PLUGS)
            connector = Connector(f"{station_id}-{j}", station_id, plug, power_type, kw, name=f"#{j}")
            connectors.append(connector)
            statuses[connector.id] = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
            tariffs[connector.id] = tariff
        lat = center[0] + rng.uniform(-0.045, 0.045)
        lon = center[1] + rng.uniform(-0.05, 0.05)
        stations.append(
            Station(
                operator_id,
                station_id,
                f"{name} {i}",
                GeoPoint(round(lat, 6), round(lon, 6)),
                f"{i} Test Road",
                tuple(connectors),
            )
        )
    return Network(tuple(stations), statuses, tariffs)
