"""The simulator's seeded station network: stations, piles, connectors and time-of-use tariffs.

Same ``(operator_id, count, seed, center)`` → identical network. Generation draws a handful of
random numbers per station and shares a small pool of tariffs, so 100k stations stay feasible.
"""

from __future__ import annotations

import bisect
import gc
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from operators.tcec.codec import SHANGHAI

MAX_STATIONS = 1_000_000  # the ConnectorID layout below has six digits for the station index
RADIUS_KM = 15.0
KM_PER_DEG_LAT = 111.32

# Connector status enum, T/CEC 102.2 §6.
OFFLINE, IDLE, OCCUPIED, CHARGING, RESERVED, FAULT = 0, 1, 2, 3, 4, 255
PARK_FREE, PARK_OCCUPIED = 10, 50


@dataclass(frozen=True, slots=True)
class City:
    name: str
    lat: float
    lon: float
    districts: tuple[tuple[str, str], ...]  # (name, GB/T 2260 area code)
    roads: tuple[str, ...]


CITIES = (
    City(
        "杭州",
        30.274,
        120.155,
        (("上城", "330102"), ("拱墅", "330105"), ("西湖", "330106"), ("滨江", "330108"),
         ("萧山", "330109"), ("余杭", "330110")),
        ("文三路", "天目山路", "延安路", "江南大道", "莫干山路", "解放路", "文一西路", "钱江路"),
    ),
    City(
        "上海",
        31.230,
        121.474,
        (("黄浦", "310101"), ("徐汇", "310104"), ("长宁", "310105"), ("静安", "310106"),
         ("普陀", "310107"), ("闵行", "310112"), ("浦东", "310115")),
        ("南京西路", "淮海中路", "世纪大道", "漕溪北路", "虹桥路", "张杨路", "中山北路", "龙阳路"),
    ),
    City(
        "北京",
        39.904,
        116.407,
        (("东城", "110101"), ("西城", "110102"), ("朝阳", "110105"), ("丰台", "110106"),
         ("海淀", "110108")),
        ("长安街", "中关村大街", "建国路", "西直门外大街", "北四环中路", "望京街"),
    ),
    City(
        "深圳",
        22.543,
        114.058,
        (("罗湖", "440303"), ("福田", "440304"), ("南山", "440305"), ("宝安", "440306"),
         ("龙岗", "440307")),
        ("深南大道", "滨海大道", "北环大道", "南海大道", "科技南路", "宝安大道"),
    ),
)  # fmt: skip

LANDMARKS = (
    "万达广场", "银泰城", "科技园", "体育中心", "火车东站", "人民医院", "图书馆", "会展中心",
    "软件园", "市民中心", "湿地公园", "创意园", "物流园", "汽车城", "大学城", "高铁站",
    "龙湖天街", "印象城", "商务中心", "公交枢纽", "地铁P+R", "工业园", "美术馆", "奥体中心",
)  # fmt: skip
CONSTRUCTIONS = (1, 2, 4, 5, 6, 9, 10, 10, 10, 255)
MANUFACTURERS = (("MA2TELD01", "特来电"), ("MA3STAR02", "星星充电"), ("MA4XJ0003", "许继电气"))
# (status, cumulative weight) for a connector's initial status: mostly idle.
INITIAL_STATUSES = (IDLE, OCCUPIED, CHARGING, FAULT, OFFLINE)
INITIAL_CUMULATIVE = (0.80, 0.86, 0.94, 0.97)
# Background status churn: from a status, the (next status, cumulative probability) choices.
STATUS_CHURN = {
    IDLE: ((OCCUPIED, 0.3), (CHARGING, 0.8), (FAULT, 0.9), (OFFLINE, 1.0)),
    OCCUPIED: ((CHARGING, 0.5), (IDLE, 1.0)),
    CHARGING: ((OCCUPIED, 0.4), (IDLE, 1.0)),
}
DC_POWERS = (60.0, 120.0, 160.0)
# Time-of-use shapes: (StartTime HHmmss, band). Bands price below; first period is always 000000.
TOU_SHAPES = (
    (("000000", "valley"), ("080000", "peak"), ("220000", "valley")),
    (("000000", "valley"), ("080000", "flat"), ("170000", "peak"), ("210000", "flat")),
    (("000000", "valley"), ("070000", "flat"), ("100000", "peak"), ("150000", "flat")),
    (("000000", "valley"), ("060000", "flat"), ("230000", "valley")),
)
BAND_ELEC_CENTS_X100 = {"valley": (3000, 4000), "flat": (6000, 8000), "peak": (10000, 12000)}
TARIFF_POOL = 16


@dataclass(frozen=True, slots=True)
class PolicyPeriod:
    """One §5.6 PolicyInfo: from ``start`` (HHmmss) until the next period's start."""

    start: str
    elec_price: Decimal
    service_price: Decimal

    @property
    def start_seconds(self) -> int:
        return int(self.start[:2]) * 3600 + int(self.start[2:4]) * 60 + int(self.start[4:])


@dataclass(slots=True)
class SimConnector:
    id: str
    station_id: str
    equipment_id: str
    name: str
    type: int
    power: float
    voltage_upper: int
    voltage_lower: int
    current: int
    park_no: str
    status: int = IDLE
    park_status: int = PARK_FREE
    lock_status: int = 0

    @property
    def is_dc(self) -> bool:
        return self.type == 4


@dataclass(slots=True)
class SimEquipment:
    id: str
    name: str
    type: int
    power: float
    lat: float
    lon: float
    manufacturer: tuple[str, str]
    model: str
    production_date: str
    connectors: list[SimConnector]


@dataclass(slots=True)
class SimStation:
    id: str
    name: str
    area_code: str
    address: str
    lat: float
    lon: float
    construction: int
    service_tel: str
    tariff: tuple[PolicyPeriod, ...]
    equipments: list[SimEquipment]
    changed_at: float  # epoch seconds; §5.1 LastQueryTime filters on it
    open_24h: bool = True


@dataclass(slots=True)
class Network:
    """All stations of one simulated operator, with lookup indexes."""

    operator_id: str
    stations: list[SimStation]
    by_station: dict[str, SimStation] = field(default_factory=dict)
    by_connector: dict[str, SimConnector] = field(default_factory=dict)
    version: int = 0  # bumped on every change, so cached filters know they are stale

    def __post_init__(self) -> None:
        for station in self.stations:
            self.by_station[station.id] = station
            for equipment in station.equipments:
                for connector in equipment.connectors:
                    self.by_connector[connector.id] = connector

    def station_of(self, connector: SimConnector) -> SimStation:
        return self.by_station[connector.station_id]

    def touch(self, station: SimStation, now: float) -> None:
        station.changed_at = now
        self.version += 1

    def summary(self) -> dict[str, object]:
        statuses: dict[str, int] = {}
        for connector in self.by_connector.values():
            statuses[str(connector.status)] = statuses.get(str(connector.status), 0) + 1
        return {
            "OperatorID": self.operator_id,
            "stations": len(self.stations),
            "connectors": len(self.by_connector),
            "connectorStatuses": statuses,
            "sampleStationIDs": [s.id for s in self.stations[:5]],
            "sampleConnectorIDs": [c for c in list(self.by_connector)[:5]],
        }


def operator_digits(operator_id: str) -> str:
    """An injective 18-digit code for a 9-char OperatorID: 0-9 → 00-09, A-Z → 10-35, a-z → 36-61.

    ConnectorIDs are 26 digits in practice (§4), so the operator prefix has to be digits too; being
    injective, two simulators with different alphanumeric operator ids never share a ConnectorID.
    """
    out = []
    for ch in operator_id:
        if ch.isdigit():
            out.append(int(ch))
        elif "A" <= ch <= "Z":
            out.append(ord(ch) - ord("A") + 10)
        elif "a" <= ch <= "z":
            out.append(ord(ch) - ord("a") + 36)
        else:
            out.append(62 + ord(ch) % 38)
    return "".join(f"{n:02d}" for n in out)


def churned_status(status: int, roll: float) -> int:
    """The next status of a connector that changes on its own; faults and outages recover to idle."""
    choices = STATUS_CHURN.get(status, ((IDLE, 1.0),))
    return next(s for s, cumulative in choices if roll < cumulative)


def nearest_city(lat: float, lon: float) -> City:
    return min(CITIES, key=lambda c: (c.lat - lat) ** 2 + (c.lon - lon) ** 2)


def _price(rng: random.Random, low: int, high: int) -> Decimal:
    # Unit prices are 4-dp yuan (§5.6); draw in steps of 0.0050 for realistic round figures.
    return Decimal(rng.randrange(low, high + 1, 50)).scaleb(-4)


def tariff_pool(rng: random.Random) -> list[tuple[PolicyPeriod, ...]]:
    pool = []
    for i in range(TARIFF_POOL):
        shape = TOU_SHAPES[i % len(TOU_SHAPES)]
        service = _price(rng, 4000, 9000)
        prices = {band: _price(rng, *BAND_ELEC_CENTS_X100[band]) for band in BAND_ELEC_CENTS_X100}
        pool.append(tuple(PolicyPeriod(start, prices[band], service) for start, band in shape))
    return pool


def generate_network(
    operator_id: str, count: int, seed: int, center: tuple[float, float], now: float
) -> Network:
    """Build ``count`` stations around ``center``; ``now`` anchors the stations' change times."""
    if not 0 <= count <= MAX_STATIONS:
        raise ValueError(f"stations must be between 0 and {MAX_STATIONS}")
    # Hundreds of thousands of small objects that all live on would trigger repeated full
    # collections (about a third of the time at 100k stations); nothing here makes cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(operator_id, count, seed, center, now)
    finally:
        if gc_was_enabled:
            gc.enable()


def _generate(operator_id: str, count: int, seed: int, center: tuple[float, float], now: float) -> Network:
    rng = random.Random(f"tcec-sim-network:{operator_id}:{seed}")
    city = nearest_city(*center)
    tariffs = tariff_pool(rng)
    service_tels = [f"400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}" for _ in range(8)]
    op_digits = operator_digits(operator_id)
    lat0, lon0 = center
    km_per_deg_lon = KM_PER_DEG_LAT * math.cos(math.radians(lat0))
    # Initial change times are spread over the last 30 days (never within the last hour), so a
    # LastQueryTime of "a little while ago" returns only what the simulator changed since.
    base = (datetime.fromtimestamp(now, SHANGHAI) - timedelta(hours=1)).timestamp()
    names: dict[str, int] = {}
    stations = []
    rand = rng.random
    n_districts, n_roads = len(city.districts), len(city.roads)
    for i in range(count):
        district, area_code = city.districts[int(rand() * n_districts)]
        landmark = LANDMARKS[int(rand() * len(LANDMARKS))]
        name = f"{district}{landmark}充电站"
        n = names[name] = names.get(name, 0) + 1
        if n > 1:
            name = f"{district}{landmark}{n}号充电站"
        r = RADIUS_KM * math.sqrt(rand())
        theta = rand() * math.tau
        lat = round(lat0 + r * math.sin(theta) / KM_PER_DEG_LAT, 6)
        lon = round(lon0 + r * math.cos(theta) / km_per_deg_lon, 6)
        station_id = f"{operator_id}S{i:07d}"
        equipments = [
            _equipment(rng, operator_id, op_digits, station_id, i, e, lat, lon)
            for e in range(1, 2 + int(rand() * 6))
        ]
        stations.append(
            SimStation(
                id=station_id,
                name=name,
                area_code=area_code,
                address=f"{city.name}市{district}区{city.roads[int(rand() * n_roads)]}{1 + int(rand() * 999)}"
                "号",
                lat=lat,
                lon=lon,
                construction=CONSTRUCTIONS[int(rand() * len(CONSTRUCTIONS))],
                service_tel=service_tels[int(rand() * len(service_tels))],
                tariff=tariffs[int(rand() * len(tariffs))],
                equipments=equipments,
                changed_at=base - rand() * 30 * 86400,
                open_24h=rand() < 0.85,
            )
        )
    return Network(operator_id, stations)


# Per-pile strings, precomputed once: generation has to stay cheap for 100k-station benchmarks.
GUN_LETTERS = "AB"
PILE_NAMES = {(dc, e): f"{e}号{'直流' if dc else '交流'}桩" for dc in (True, False) for e in range(1, 7)}
GUN_NAMES = {(e, g, n): f"{e}号桩{GUN_LETTERS[g - 1]}枪" if n > 1 else f"{e}号桩"
             for e in range(1, 7) for g in (1, 2) for n in (1, 2)}  # fmt: skip
PARK_NOS = {(e, g): f"{e:02d}{GUN_LETTERS[g - 1]}" for e in range(1, 7) for g in (1, 2)}
PRODUCTION_DATES = tuple(f"20{18 + i % 7}-{1 + i % 12:02d}-{1 + (i * 7) % 28:02d}" for i in range(64))
MODELS = {power: tuple(f"{'DC' if power > 7 else 'AC'}{int(power)}-{k}" for k in range(1, 10))
          for power in (7.0, *DC_POWERS)}  # fmt: skip


def _equipment(
    rng: random.Random, operator_id: str, op_digits: str, station_id: str, index: int, e: int,
    lat: float, lon: float,
) -> SimEquipment:  # fmt: skip
    rand = rng.random
    dc = rand() < 0.5
    equipment_id = f"{operator_id}E{index:07d}{e:02d}"
    guns = 2 if dc and rand() < 0.5 else 1
    power = DC_POWERS[int(rand() * 3)] if dc else 7.0
    connectors = []
    for g in range(1, guns + 1):
        status = INITIAL_STATUSES[bisect.bisect_right(INITIAL_CUMULATIVE, rand())]
        connectors.append(
            SimConnector(
                # 18 operator digits + 6 station + 1 pile + 1 gun = 26 digits (§4).
                id=f"{op_digits}{index:06d}{e}{g}",
                station_id=station_id,
                equipment_id=equipment_id,
                name=GUN_NAMES[e, g, guns],
                type=4 if dc else 2 + int(rand() * 2),
                power=power,
                voltage_upper=750 if dc else 220,
                voltage_lower=200 if dc else 220,
                current=int(power * 2) if dc else 32,  # rated current at 500 V
                park_no=PARK_NOS[e, g],
                status=status,
                park_status=PARK_OCCUPIED if status in (OCCUPIED, CHARGING) else PARK_FREE,
            )
        )
    return SimEquipment(
        id=equipment_id,
        name=PILE_NAMES[dc, e],
        type=1 if dc else 2,
        power=power * guns,
        lat=lat,
        lon=lon,
        manufacturer=MANUFACTURERS[int(rand() * len(MANUFACTURERS))],
        model=MODELS[power][int(rand() * 9)],
        production_date=PRODUCTION_DATES[int(rand() * len(PRODUCTION_DATES))],
        connectors=connectors,
    )


def period_at(tariff: tuple[PolicyPeriod, ...], epoch: float) -> tuple[int, float]:
    """Index of the period in force at ``epoch`` and the epoch at which that period ends.

    §5.6: each period runs until the next period's StartTime; the last wraps to the next day.
    """
    local = datetime.fromtimestamp(epoch, SHANGHAI)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    second = (local - midnight).total_seconds()
    index = len(tariff) - 1
    for i, period in enumerate(tariff):
        if period.start_seconds <= second:
            index = i
        else:
            break
    later = [p.start_seconds for p in tariff if p.start_seconds > second]
    # Asia/Shanghai has no DST, so wall-clock arithmetic on the aware datetime is exact.
    end = (
        midnight + timedelta(seconds=later[0])
        if later
        else midnight + timedelta(days=1, seconds=tariff[0].start_seconds)
    )
    return index, end.timestamp()
