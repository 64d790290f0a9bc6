"""The simulator's deterministic network: seeded OCPI Locations (EVSEs, Connectors) and Tariffs.

Everything is drawn from one ``random.Random(seed)``, so the same seed, size, centre and country
give the same JSON. China (``country_code`` "CN") gets GB/T plugs, CNY prices with 13% VAT and the
usual peak/flat/valley bands; elsewhere Type 2 / CCS2 / CHAdeMO, EUR and 19% VAT.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from operators.ocpi.codec import format_datetime

JSON = dict[str, Any]

_DISTRICTS_CN = (
    "Huangpu",
    "Xuhui",
    "Jing'an",
    "Pudong",
    "Changning",
    "Putuo",
    "Hongkou",
    "Yangpu",
    "Minhang",
)
_STREETS_CN = ("Nanjing Rd", "Huaihai Rd", "Century Ave", "Zhaojiabang Rd", "Yan'an Rd", "Siping Rd")
_DISTRICTS = ("Centrum", "Noord", "Oost", "Zuid", "West", "Haven", "Park", "Station")
_STREETS = ("Hauptstrasse", "Bahnhofstrasse", "Marktplatz", "Lindenallee", "Ringstrasse", "Parkweg")


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    stations: int
    seed: int
    center: tuple[float, float]
    country_code: str
    party_id: str
    time_zone: str
    epoch: datetime


def _china(spec: NetworkSpec) -> bool:
    return spec.country_code.upper() == "CN"


def _connector(
    cid: str,
    standard: str,
    fmt: str,
    power_type: str,
    volts: int,
    amps: int,
    watts: int | None,
    tariff: str,
    stamp: str,
) -> JSON:
    conn: JSON = {
        "id": cid,
        "standard": standard,
        "format": fmt,
        "power_type": power_type,
        "max_voltage": volts,
        "max_amperage": amps,
    }
    if watts is not None:
        conn["max_electric_power"] = watts
    conn["tariff_ids"] = [tariff]
    conn["last_updated"] = stamp
    return conn


def _evse(rng: random.Random, spec: NetworkSpec, loc_id: str, index: int, number: int, stamp: str) -> JSON:
    china = _china(spec)
    dc = rng.random() < 0.45
    if dc:
        watts = rng.choice((50_000, 60_000, 90_000, 120_000, 150_000))
        amps = watts // 500 + 1
        if china:
            connectors = [_connector("1", "GBT_DC", "CABLE", "DC", 750, amps, watts, "DC-TOU", stamp)]
        else:
            connectors = [
                _connector("1", "IEC_62196_T2_COMBO", "CABLE", "DC", 920, amps, watts, "DC-TOU", stamp)
            ]
            if rng.random() < 0.5:
                connectors.append(
                    _connector("2", "CHADEMO", "CABLE", "DC", 500, 125, 50_000, "DC-TOU", stamp)
                )
    else:
        amps = rng.choice((16, 32))  # 3 × 230 V × 16/32 A ≈ 11/22 kW
        standard = "GBT_AC" if china else "IEC_62196_T2"
        connectors = [_connector("1", standard, "SOCKET", "AC_3_PHASE", 230, amps, None, "AC-TOU", stamp)]
    statuses = ("AVAILABLE", "CHARGING", "BLOCKED", "OUTOFORDER", "INOPERATIVE")
    status = rng.choices(statuses, (70, 18, 5, 4, 3))[0]
    return {
        "uid": f"{loc_id}-{number}",
        "evse_id": f"{spec.country_code}*{spec.party_id}*E{index:05d}{number}",
        "status": status,
        "capabilities": ["REMOTE_START_STOP_CAPABLE", "RFID_READER"],
        "connectors": connectors,
        "physical_reference": str(number),
        "last_updated": stamp,
    }


def locations(spec: NetworkSpec) -> list[JSON]:
    """``spec.stations`` Locations within about 15 km of the centre, in creation order."""
    rng = random.Random(spec.seed)
    china = _china(spec)
    districts, streets = (_DISTRICTS_CN, _STREETS_CN) if china else (_DISTRICTS, _STREETS)
    out = []
    for i in range(spec.stations):
        loc_id = f"LOC{i + 1:05d}"
        stamp = format_datetime(spec.epoch + timedelta(minutes=i))
        lat = spec.center[0] + rng.uniform(-0.13, 0.13)
        lon = spec.center[1] + rng.uniform(-0.15, 0.15)
        district = rng.choice(districts)
        out.append(
            {
                "country_code": spec.country_code,
                "party_id": spec.party_id,
                "id": loc_id,
                "publish": True,
                "name": f"{district} Charging Hub {i + 1}",
                "address": f"{rng.randint(1, 999)} {rng.choice(streets)}",
                "city": "Shanghai" if china else "Simcity",
                "postal_code": f"{rng.randint(200000, 201999)}" if china else f"{rng.randint(10000, 99999)}",
                "country": "CHN" if china else "DEU",
                "coordinates": {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"},
                "parking_type": rng.choice(
                    ("PARKING_LOT", "ON_STREET", "PARKING_GARAGE", "UNDERGROUND_GARAGE")
                ),
                "evses": [_evse(rng, spec, loc_id, i + 1, n + 1, stamp) for n in range(rng.randint(1, 4))],
                "operator": {"name": f"Sim {spec.party_id} Charging"},
                "time_zone": spec.time_zone,
                "last_updated": stamp,
            }
        )
    return out


def _component(kind: str, price: str, vat: Decimal, step: int) -> JSON:
    return {"type": kind, "price": Decimal(price), "vat": vat, "step_size": step}


def _energy(price: str, vat: Decimal, start: str | None = None, end: str | None = None) -> JSON:
    element: JSON = {"price_components": [_component("ENERGY", price, vat, 1)]}
    if start is not None:
        element["restrictions"] = {"start_time": start, "end_time": end}
    return element


def tariffs(spec: NetworkSpec) -> list[JSON]:
    """Two time-of-use tariffs: "AC-TOU" and "DC-TOU" (ENERGY bands, PARKING_TIME, FLAT, TIME)."""
    china = _china(spec)
    currency, vat = ("CNY", Decimal("13.0")) if china else ("EUR", Decimal("19.0"))
    # (valley 23:00–07:00, peak 08:00–11:00 and 18:00–21:00, flat otherwise)
    ac = ("0.55", "1.45", "1.05") if china else ("0.29", "0.49", "0.39")
    dc = ("0.75", "1.80", "1.30") if china else ("0.45", "0.69", "0.59")
    stamp = format_datetime(spec.epoch)

    def tariff(tid: str, prices: tuple[str, str, str], extra: list[JSON]) -> JSON:
        valley, peak, flat = prices
        elements = [
            _energy(valley, vat, "23:00", "07:00"),
            _energy(peak, vat, "08:00", "11:00"),
            _energy(peak, vat, "18:00", "21:00"),
            *extra,
            _energy(flat, vat),
        ]
        return {
            "country_code": spec.country_code,
            "party_id": spec.party_id,
            "id": tid,
            "currency": currency,
            "type": "REGULAR",
            "elements": elements,
            "last_updated": stamp,
        }

    parking = {"price_components": [_component("PARKING_TIME", "6.00" if china else "3.00", vat, 900)]}
    start_fee = {"price_components": [_component("FLAT", "1.00" if china else "0.50", vat, 1)]}
    dc_time = {
        "price_components": [_component("TIME", "3.00" if china else "1.20", vat, 60)],
        "restrictions": {"min_duration": 5400},  # blocking fee after 90 minutes
    }
    return [tariff("AC-TOU", ac, [parking]), tariff("DC-TOU", dc, [start_fee, dc_time, parking])]
