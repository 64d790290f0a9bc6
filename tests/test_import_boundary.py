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
