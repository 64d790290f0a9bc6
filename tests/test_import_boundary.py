"""Resolvers and the gateway never import an adapter package; only the registry names them."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADAPTER_PACKAGES = {"tcec", "ocpi"}


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "resolvers").rglob("*.py")) + sorted((ROOT / "gateway").rglob("*.py"))
)
def test_no_adapter_imports(path):
    for module in imported_modules(path):
        parts = module.split(".")
        assert not (parts[0] == "operators" and len(parts) > 1 and parts[1] in ADAPTER_PACKAGES), (
            f"{path.relative_to(ROOT)} imports {module}"
        )


@pytest.mark.parametrize("path", sorted((ROOT / "resolvers").rglob("*.py")))
def test_resolvers_reach_money_only_through_the_billing_service(path):
    for module in imported_modules(path):
        assert not module.startswith(("gateway.store", "gateway.rails")), (
            f"{path.relative_to(ROOT)} imports {module}: go through gateway.billing"
        )
    text = path.read_text(encoding="utf-8")
    assert ".store." not in text and ".provider." not in text and "runtime.payments" not in text, path


WEB_FRAMEWORKS = ("starlette", "fastapi", "strawberry", "aiohttp.web", "uvicorn")


PORT_AND_FAKE = ["base.py", "domain.py", "asgi.py"] + [
    f"testing/{p.name}" for p in sorted((ROOT / "operators" / "testing").glob("*.py"))
]


@pytest.mark.parametrize("name", PORT_AND_FAKE)
def test_the_operator_port_and_the_fake_know_no_web_framework(name):
    """Pushes cross the port as a plain ASGI app (operators.asgi), whatever an adapter builds it with."""
    path = ROOT / "operators" / name
    for module in imported_modules(path):
        assert not module.startswith(WEB_FRAMEWORKS), f"operators/{name} imports {module}"
