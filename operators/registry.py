"""The operator registry: the one place that names adapter packages.

A protocol name maps to an adapter factory (see :class:`operators.base.OperatorFactory`). Built-in
protocols are listed here; third-party adapters register under the ``chargegate.operators``
entry-point group with the protocol name as the entry point's name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from types import ModuleType

from aiohttp import ClientSession

from operators.base import EventSink, Operator, OperatorConfigError, OperatorFactory, SharedState

ENTRY_POINT_GROUP = "chargegate.operators"
BUILTIN: dict[str, str] = {
    "tcec": "operators.tcec.adapter:build",
    "ocpi": "operators.ocpi.adapter:build",
}
# Standalone simulators for `chargegate simulate PROTOCOL`: modules with add_arguments() and run().
SIMULATORS: dict[str, str] = {
    "tcec": "operators.tcec.simulator_cli",
    "ocpi": "operators.ocpi.simulator_cli",
}


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


def simulator_cli(protocol: str) -> ModuleType:
    return importlib.import_module(SIMULATORS[protocol])


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
