"""The graphql-http server audit (GraphQL over HTTP spec) against a live gateway: zero errors.

The gateway runs with production settings (CSRF prevention on, GraphiQL off) except that
introspection is on, because the audit's variables check queries ``__type``. CSRF prevention
refuses GETs that carry no preflight-forcing header, which the audit reports as three MAY notices.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.app.asgi import create_app
from gateway.app.server import bind, serving
from gateway.settings.load import GatewaySettings, SecuritySettings, Settings

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the audit is an npm package")


@pytest.fixture(scope="module")
def audit_suite() -> Path:
    if not (HERE / "node_modules" / "graphql-http" / "package.json").exists():
        subprocess.run([str(HERE / "install.sh")], check=True, timeout=300)
    return HERE / "audit.mjs"


async def test_the_graphql_http_audit_reports_no_errors(audit_suite: Path):
    settings = Settings(
        gateway=GatewaySettings(mode="production"),
        security=SecuritySettings(introspection="on", anonymous_burst=1_000),
    )
    sock = bind()
    async with serving(create_app(settings), sock) as url:
        node = await asyncio.create_subprocess_exec(
            str(NODE), str(audit_suite), f"{url}/graphql", stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(node.communicate(), timeout=120)
    report = out.decode()
    print(report)  # shown with -s, and by pytest on failure
    summary = json.loads(report.strip().splitlines()[-1])
    assert summary["error"] == 0 and summary["warn"] == 0, report
    assert node.returncode == 0, report
    assert summary["ok"] >= 55, report  # all but the CSRF notices (and no regressions hiding there)
