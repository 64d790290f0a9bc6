"""Boundaries import-linter cannot state (the contracts in pyproject.toml state the rest).

Adapters come from the registry, built in or from entry points: the gateway and the resolvers import
none of them. Resolvers reach money only through the billing service, not by walking the runtime to
a store or a provider. The operator port knows no web framework, aiohttp's server included.
"""

import ast
import sys
import types
from importlib.metadata import EntryPoint
from pathlib import Path

import grimp
import pytest

from gateway.app import cli
from operators import registry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        "gateway", "resolvers", "operators", include_external_packages=True, cache_dir=None
    )


def test_no_adapter_is_imported_by_the_gateway_or_the_resolvers(graph: grimp.ImportGraph) -> None:
    adapters = registry.adapter_packages()
    assert {"operators.tcec", "operators.ocpi", "operators.testing"} <= set(adapters)
    found = []
    for module in sorted(graph.modules):
        if module.startswith(("gateway.", "resolvers.")):
            for imported in graph.find_modules_directly_imported_by(module):
                if any(imported == a or imported.startswith(a + ".") for a in adapters):
                    found.append(f"{module} imports {imported}")
    assert found == []


ADAPTER = EntryPoint("kwh", "chargegate_kwh.adapter:build", registry.ENTRY_POINT_GROUP)
SIMULATOR = EntryPoint("kwh", "chargegate_kwh.sim", registry.SIMULATOR_GROUP)


@pytest.fixture
def another_protocol(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A protocol from another distribution: an adapter and a simulator under the entry-point groups."""
    sim = types.ModuleType("chargegate_kwh.sim")
    sim.HELP = "a kWh-protocol operator"  # type: ignore[attr-defined]
    sim.add_arguments = lambda parser: parser.add_argument("--port", type=int, default=0)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "chargegate_kwh", types.ModuleType("chargegate_kwh"))
    monkeypatch.setitem(sys.modules, "chargegate_kwh.sim", sim)

    def entry_points(group: str) -> list[EntryPoint]:
        return [ep for ep in (ADAPTER, SIMULATOR) if ep.group == group]

    monkeypatch.setattr(registry, "entry_points", entry_points)
    return sim


def test_entry_point_adapters_are_boundaries_too(another_protocol: types.ModuleType) -> None:
    assert "chargegate_kwh" in registry.adapter_packages()
    assert "kwh" in registry.protocols()


def test_entry_point_simulators_are_listed_by_the_cli(
    another_protocol: types.ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert registry.simulators()["kwh"] == "chargegate_kwh.sim"
    assert registry.simulator_cli("kwh") is another_protocol
    with pytest.raises(SystemExit):
        cli.main(["simulate", "--help"])
    listed = capsys.readouterr().out
    assert "kwh" in listed and "a kWh-protocol operator" in listed
    assert "a T/CEC 102 operator" in listed and "an OCPI 2.2.1 CPO" in listed


@pytest.mark.parametrize("path", sorted((ROOT / "resolvers").rglob("*.py")))
def test_resolvers_reach_money_only_through_the_billing_service(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert ".store." not in text and ".provider." not in text and "runtime.payments" not in text, path


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


PORT_AND_FAKE = ["base.py", "domain.py", "asgi.py"] + [
    f"testing/{p.name}" for p in sorted((ROOT / "operators" / "testing").glob("*.py"))
]


@pytest.mark.parametrize("name", PORT_AND_FAKE)
def test_the_operator_port_and_the_fake_know_no_web_server(name: str) -> None:
    """import-linter forbids the web frameworks by package; aiohttp's server is a submodule of the
    client library the adapters use, so it is checked here."""
    path = ROOT / "operators" / name
    for module in imported_modules(path):
        assert not module.startswith("aiohttp.web"), f"operators/{name} imports {module}"
