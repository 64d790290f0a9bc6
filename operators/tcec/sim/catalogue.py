"""The simulator's T/CEC 102.2 public-information interfaces: catalogue, status, stats, tariff.

Each ``query_*`` function takes the network and the decrypted request ``Data`` and returns the
response ``Data``; bad parameters raise :class:`BusinessParamError` (Ret 4004).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from operators.tcec.sim.network import Network, SimConnector, SimEquipment, SimStation
from operators.tcec.sim.wire import BusinessParamError, parse_date, parse_time, required_str

MAX_STATUS_STATIONS = 50  # T/CEC 102.2 §5.3: at most 50 StationIDs per call
DEFAULT_PAGE_SIZE = 10  # §5.1


class StationFilter:
    """Caches the last LastQueryTime filter, so paging through 100k stations stays linear."""

    def __init__(self) -> None:
        self._key: tuple[float, int] | None = None
        self._stations: list[SimStation] = []

    def since(self, network: Network, since: float | None) -> list[SimStation]:
        if since is None:
            return network.stations
        key = (since, network.version)
        if key != self._key:
            # >= rather than >: LastQueryTime has one-second resolution, and a duplicate is
            # harmless where a missed change is not.
            self._stations = [s for s in network.stations if s.changed_at >= since]
            self._key = key
        return self._stations


def _int_param(data: dict[str, Any], name: str, default: int) -> int:
    value = data.get(name, default)
    if value in (None, ""):
        return default
    if isinstance(value, str) and value.isdigit():
        value = int(value)  # §4: partners send numbers as strings
    if not isinstance(value, int) or isinstance(value, bool):
        raise BusinessParamError(f"{name} 必须为整数")
    return value


def query_stations_info(
    network: Network, cache: StationFilter, data: dict[str, Any], page_size_max: int
) -> dict[str, Any]:
    last = data.get("LastQueryTime")
    if last is not None and not isinstance(last, str):
        raise BusinessParamError("LastQueryTime 格式错误")
    since = parse_time(last) if last else None
    page_no = _int_param(data, "PageNo", 1)
    page_size = _int_param(data, "PageSize", DEFAULT_PAGE_SIZE)
    if page_no < 1:
        raise BusinessParamError("PageNo 必须 >= 1")
    if not 1 <= page_size <= page_size_max:
        raise BusinessParamError(f"PageSize 必须在 1 到 {page_size_max} 之间")
    stations = cache.since(network, since)
    start = (page_no - 1) * page_size
    return {
        "PageNo": page_no,
        "PageCount": math.ceil(len(stations) / page_size),
        "ItemSize": len(stations),
        "StationInfos": [station_info(network.operator_id, s) for s in stations[start : start + page_size]],
    }


def station_info(operator_id: str, s: SimStation) -> dict[str, Any]:
    """A full §5.1 StationInfo, with the 2016 spellings (``BusineHours``)."""
    low = min(p.elec_price for p in s.tariff)
    high = max(p.elec_price for p in s.tariff)
    return {
        "StationID": s.id,
        "OperatorID": operator_id,
        "EquipmentOwnerID": operator_id,
        "StationName": s.name,
        "CountryCode": "CN",
        "AreaCode": s.area_code,
        "Address": s.address,
        "StationTel": s.service_tel,
        "ServiceTel": s.service_tel,
        "StationType": 1,
        "StationStatus": 50,
        "ParkNums": sum(len(e.connectors) for e in s.equipments),
        "StationLng": s.lon,
        "StationLat": s.lat,
        "SiteGuide": f"导航至{s.name}，入口处有充电指示牌",
        "Construction": s.construction,
        "Pictures": [f"https://img.example.cn/evcs/{s.id}/1.jpg"],
        "MatchCars": "小型乘用车",
        "ParkInfo": "地面停车场",
        "BusineHours": "00:00-24:00" if s.open_24h else "07:00-22:00",
        "ElectricityFee": f"{low}-{high}元/度（分时计价）",
        "ServiceFee": f"{s.tariff[0].service_price}元/度",
        "ParkFee": "充电期间免费停车2小时",
        "Payment": "线上",
        "SupportOrder": 0,
        "Remark": "",
        "EquipmentInfos": [_equipment_info(e) for e in s.equipments],
    }


def _equipment_info(e: SimEquipment) -> dict[str, Any]:
    return {
        "EquipmentID": e.id,
        "ManufacturerID": e.manufacturer[0],
        "ManufacturerName": e.manufacturer[1],
        "EquipmentModel": e.model,
        "EquipmentName": e.name,
        "ProductionDate": e.production_date,
        "EquipmentType": e.type,
        "EquipmentLng": e.lon,
        "EquipmentLat": e.lat,
        "Power": e.power,
        "ConnectorInfos": [_connector_info(c) for c in e.connectors],
    }


def _connector_info(c: SimConnector) -> dict[str, Any]:
    return {
        "ConnectorID": c.id,
        "ConnectorName": c.name,
        "ConnectorType": c.type,
        "VoltageUpperLimits": c.voltage_upper,
        "VoltageLowerLimits": c.voltage_lower,
        "Current": c.current,
        "Power": c.power,
        "ParkNo": c.park_no,
        "NationalStandard": 2,
    }


def connector_status_info(c: SimConnector) -> dict[str, Any]:
    """§5.2 ConnectorStatusInfo, as pushed and as returned by query_station_status."""
    return {"ConnectorID": c.id, "Status": c.status, "ParkStatus": c.park_status, "LockStatus": c.lock_status}


def query_station_status(network: Network, data: dict[str, Any]) -> dict[str, Any]:
    ids = data.get("StationIDs")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BusinessParamError("StationIDs 必须为字符串数组")
    if len(ids) > MAX_STATUS_STATIONS:
        raise BusinessParamError(f"StationIDs 最多 {MAX_STATUS_STATIONS} 个")
    infos = []
    for station_id in dict.fromkeys(ids):  # unknown ids are left out, duplicates answered once
        station = network.by_station.get(station_id)
        if station is not None:
            infos.append(
                {
                    "StationID": station.id,
                    "ConnectorStatusInfos": [
                        connector_status_info(c) for e in station.equipments for c in e.connectors
                    ],
                }
            )
    return {"Total": len(infos), "StationStatusInfos": infos}


def query_station_stats(
    network: Network, data: dict[str, Any], session_kwh: Callable[[date, date], dict[str, Decimal]]
) -> dict[str, Any]:
    """§5.4 energy statistics: seeded daily history plus the energy of simulated sessions."""
    station = network.by_station.get(required_str(data, "StationID"))
    if station is None:
        raise BusinessParamError("StationID 不存在")
    start_text = data.get("StartTime") or data.get("StarTime")  # §5.4: one implementation misspells it
    end_text = data.get("EndTime")
    if not isinstance(start_text, str) or not isinstance(end_text, str):
        raise BusinessParamError("缺少 StartTime/EndTime")
    start, end = parse_date(start_text), parse_date(end_text)
    if end < start or end - start > timedelta(days=366):
        raise BusinessParamError("统计时间范围非法")
    days = (end - start).days + 1
    extra_kwh = session_kwh(start, end)
    equipment_stats: list[dict[str, Any]] = []
    for e in station.equipments:
        connector_stats: list[dict[str, Any]] = []
        for c in e.connectors:
            # Deterministic per connector and range: a day's energy is 20–60% of a 24 h duty cycle
            # divided by ten, i.e. a plausibly busy pile.
            rng = random.Random(f"{c.id}:{start}:{end}")
            kwh = Decimal(str(round(days * c.power * 24 * (0.02 + 0.04 * rng.random()), 1)))
            connector_stats.append(
                {"ConnectorID": c.id, "ConnectorElectricity": kwh + extra_kwh.get(c.id, Decimal(0))}
            )
        equipment_stats.append(
            {
                "EquipmentID": e.id,
                "EquipmentElectricity": sum((s["ConnectorElectricity"] for s in connector_stats), Decimal(0)),
                "ConnectorStatsInfos": connector_stats,
            }
        )
    return {
        "StationStats": {
            "StationID": station.id,
            "StartTime": start_text,
            "EndTime": end_text,
            "StationElectricity": sum((s["EquipmentElectricity"] for s in equipment_stats), Decimal(0)),
            "EquipmentStatsInfos": equipment_stats,
        }
    }


def query_equip_business_policy(network: Network, data: dict[str, Any]) -> dict[str, Any]:
    seq = required_str(data, "EquipBizSeq")
    connector_id = required_str(data, "ConnectorID")
    connector = network.by_connector.get(connector_id)
    out: dict[str, Any] = {"EquipBizSeq": seq, "ConnectorID": connector_id}
    if connector is None:
        # §5.6 FailReason 1: no tariff for this pile.
        return out | {"SuccStat": 1, "FailReason": 1, "SumPeriod": 0, "PolicyInfos": []}
    tariff = network.station_of(connector).tariff
    return out | {
        "SuccStat": 0,
        "FailReason": 0,
        "SumPeriod": len(tariff),
        "PolicyInfos": [
            {"StartTime": p.start, "ElecPrice": p.elec_price, "SevicePrice": p.service_price} for p in tariff
        ],
    }
