"""The operator registry: the one place that names adapter packages.

A protocol name maps to an adapter factory (see :class:`operators.base.OperatorFactory`). Built-in
protocols are listed here; third-party adapters register under the ``chargegate.operators``
entry-point group with the protocol name as the entry point's name.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator, Mapping, Sequence
from importlib.metadata import entry_points
from types import ModuleType

from aiohttp import ClientSession

from operators.base import EventSink, Operator, OperatorConfigError, OperatorFactory, SharedState
from operators.domain import ChargePricer

ENTRY_POINT_GROUP = "chargegate.operators"
BUILTIN: dict[str, str] = {
    "tcec": "operators.tcec.adapter:build",
    "ocpi": "operators.ocpi.adapter:build",
    "fake": "operators.testing:build",  # in memory, for tests and trying the gateway without simulators
}
# Protocols refused in production mode: the fake's push app takes status changes from anyone.
NOT_IN_PRODUCTION = frozenset({"fake"})
# The settings parser of each built-in protocol: a table is checked when the config is loaded,
# before anything starts (adapters from entry points are checked when they are built).
SETTINGS: dict[str, str] = {
    "tcec": "operators.tcec.settings:parse_settings",
    "ocpi": "operators.ocpi.settings:parse_settings",
    "fake": "operators.testing:parse_settings",
}
GATEWAY_KEYS = frozenset({"id", "protocol", "qr_patterns"})  # read by the gateway, not by the adapter
# Operators' own pricing engines, named by TariffRules.engine: how a charge is priced the way the
# operator bills it (estimates, the ESTIMATED_COST ordering, quotes and quoted bills).
PRICERS: dict[str, str] = {
    "ocpi": "operators.ocpi.pricing:price_charge",
}
# Standalone simulators for `chargegate simulate PROTOCOL`: modules with HELP, add_arguments() and run().
# A protocol from another distribution adds its own under the entry-point group SIMULATOR_GROUP.
SIMULATOR_GROUP = "chargegate.simulators"
SIMULATORS: dict[str, str] = {
    "tcec": "operators.tcec.sim.cli",
    "ocpi": "operators.ocpi.sim.cli",
}


def pricer(engine: str) -> ChargePricer | None:
    """The pricing engine named ``engine``; None for one this build does not know."""
    target = PRICERS.get(engine)
    if target is None:
        return None
    module, _, name = target.partition(":")
    found: ChargePricer = getattr(importlib.import_module(module), name)
    return found


def protocols() -> list[str]:
    return sorted(set(BUILTIN) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def factory(protocol: str) -> OperatorFactory:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == protocol:
            loaded: OperatorFactory = ep.load()
            return loaded
    target = BUILTIN.get(protocol)
    if target is None:
        raise OperatorConfigError(
            "protocol", f"unknown protocol {protocol!r}; known: {', '.join(protocols())}"
        )
    module, _, name = target.partition(":")
    built: OperatorFactory = getattr(importlib.import_module(module), name)
    return built


def check(config: Mapping[str, object], public_url: str) -> None:
    """Validate an operator table as its adapter will, without building it. Raises
    :class:`OperatorConfigError` naming the key, also for a key the protocol never reads (a
    misspelling such as ``timout_s`` would otherwise be silently ignored)."""
    protocol = str(config["protocol"])
    target = SETTINGS.get(protocol)
    if target is None:
        factory(protocol)  # an unknown protocol is refused by name
        return
    module, _, name = target.partition(":")
    parse = getattr(importlib.import_module(module), name)
    reading = _Reading(config)
    if "public_url" in inspect.signature(parse).parameters:
        parse(reading, public_url)
    else:
        parse(reading)
    unknown = sorted(set(config) - reading.read - GATEWAY_KEYS)
    if unknown:
        raise OperatorConfigError(unknown[0], f"unknown setting for protocol {protocol!r}")


class _Reading(Mapping[str, object]):
    """A table that remembers which keys were read."""

    def __init__(self, table: Mapping[str, object]) -> None:
        self.table = table
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> object:
        self.read.add(key)
        return self.table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)


def simulators() -> dict[str, str]:
    """The standalone simulators by protocol: module names, the built-in ones and the entry points'."""
    found = dict(SIMULATORS)
    found.update({ep.name: ep.module for ep in entry_points(group=SIMULATOR_GROUP)})
    return found


def simulator_cli(protocol: str) -> ModuleType:
    return importlib.import_module(simulators()[protocol])


def adapter_packages() -> list[str]:
    """The package of every adapter this build can load (built-in and entry points): the gateway never
    imports them, only this registry names them."""
    targets = list(BUILTIN.values()) + [ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)]
    packages = set()
    for target in targets:
        module = target.partition(":")[0]
        parts = module.split(".")
        packages.add(".".join(parts[:2]) if parts[0] == "operators" else parts[0])
    return sorted(packages)


def build_all(
    configs: Sequence[Mapping[str, object]],
    http: ClientSession,
    sink: EventSink,
    public_url: str,
    state: SharedState | None = None,
) -> list[Operator]:
    """Build one adapter per config table; errors name the table's index and key."""
    built = []
    for index, config in enumerate(configs):
        try:
            built.append(factory(str(config["protocol"]))(config, http, sink, public_url, state))
        except OperatorConfigError as exc:
            raise OperatorConfigError(f"operators[{index}].{exc.key}", str(exc).partition(": ")[2]) from exc
    return built
