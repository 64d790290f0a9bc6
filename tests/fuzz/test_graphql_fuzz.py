"""Schemathesis against ``/graphql`` on a live gateway: no generated request may get a 5xx.

The gateway runs in dev mode (introspection on, which schemathesis loads the schema with) in front
of both T/CEC simulators, on loopback. Every Query and Mutation field is fuzzed in positive mode
(valid documents with arbitrary arguments) and negative mode (documents that break the schema's
input types), a bounded, derandomized number of examples each, within a time budget. Each field
is fuzzed as two callers: an admin API key plus a driver's bearer token, so every resolver runs
rather than stopping at the scope check, and an anonymous client asking for
``application/graphql-response+json``, so refusals take their 4xx paths. Schemathesis is
synchronous (``requests``): it runs in a worker thread while the gateway serves from the test's
event loop.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.graphql import nodes
from schemathesis.graphql.checks import GraphQLServerError

from gateway.identity.bearer import issue_token
from gateway.security.apikeys import create_key
from gateway.settings.load import AuthSettings, BreakerSettings, GatewaySettings, SecuritySettings, Settings
from tests.app.conftest import DEADLINE_S, running_stack

# Per operation and mode; the budget stops sending after that long, so the test stays under a minute.
# Raise both for a deeper local hunt: CHARGEGATE_FUZZ_EXAMPLES=500 CHARGEGATE_FUZZ_BUDGET_S=600.
MAX_EXAMPLES = int(os.environ.get("CHARGEGATE_FUZZ_EXAMPLES", "30"))
BUDGET_S = float(os.environ.get("CHARGEGATE_FUZZ_BUDGET_S", "40"))
# Errors on one field next to partial data that are expected, documented outcomes: Operator.health
# for a caller without the admin scope, and an operator failing during the request.
EXPECTED_FIELD_ERRORS = {"FORBIDDEN", "OPERATOR_UNAVAILABLE"}
PEPPER = "fuzz-pepper-0123456789abcdef0123"
JWT_KEY = "fuzz-jwt-key-0123456789-0123456789-abcdef"
ADMIN = create_key(["admin"], PEPPER, key_id="fuzzer")

schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
        st.text(max_size=12),
    ).map(nodes.String),
)


@dataclass
class Findings:
    cases: int = 0
    server_errors: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)  # extensions.code of GraphQL errors
    masked: list[str] = field(default_factory=list)  # INTERNAL_SERVER_ERROR: an exception escaped


def fuzz(url: str, callers: list[dict[str, str]]) -> Findings:
    schema = schemathesis.graphql.from_url(f"{url}/graphql")
    findings = Findings()
    stop_at = time.monotonic() + BUDGET_S
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for headers in callers:
                fuzz_one(operation, mode, url, headers, findings, stop_at)
    return findings


def fuzz_one(
    operation: Any,
    mode: GenerationMode,
    url: str,
    headers: dict[str, str],
    findings: Findings,
    stop_at: float,
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,  # the same examples every run
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if time.monotonic() > stop_at:
            return
        response = case.call(base_url=url, headers=headers, timeout=10)
        findings.cases += 1
        findings.statuses[response.status_code] += 1
        try:
            body = response.json()
        except ValueError:
            body = {}
        for error in (body.get("errors") or []) if isinstance(body, dict) else []:
            code = (error.get("extensions") or {}).get("code", "?")
            findings.codes[code] += 1
            if code == "INTERNAL_SERVER_ERROR":
                findings.masked.append(f"{operation.label} ({mode.value}): {case.body!r}\n{error}")
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except (Failure, FailureGroup) as exc:
            for failure in exc.exceptions if isinstance(exc, FailureGroup) else (exc,):
                if not expected(failure):
                    findings.server_errors.append(
                        f"{operation.label} ({mode.value}): {case.body!r}\n{failure}"
                    )

    run()


def expected(failure: Failure) -> bool:
    """Schemathesis counts every error raised while resolving as the server's fault; ours name
    their cause, and a few are expected outcomes rather than failures."""
    if not isinstance(failure, GraphQLServerError):
        return False  # a 5xx status, or a schema violation
    return {(e.get("extensions") or {}).get("code") for e in failure.errors} <= EXPECTED_FIELD_ERRORS


def fuzz_settings() -> Settings:
    r = ADMIN.record
    key = {"id": r.id, "name": r.name, "scopes": ["admin"], "hash": r.digest}
    return Settings(
        gateway=GatewaySettings(mode="dev", request_deadline_s=DEADLINE_S),
        breaker=BreakerSettings(failure_threshold=3, reset_after_s=60),
        auth=AuthSettings(jwt_key=JWT_KEY),
        security=SecuritySettings(
            key_hash_secret=PEPPER,
            api_keys=(key,),
            key_rate_per_s=10_000,
            key_burst=10_000,
            anonymous_rate_per_s=0,
        ),
    )


async def test_schemathesis_finds_no_server_error():
    callers = [
        # Every resolver runs: an admin key (all scopes) and a driver's token; JSON responses.
        {"x-api-key": ADMIN.key, "authorization": f"Bearer {issue_token('alice', JWT_KEY)}"},
        # Scope refusals, and the GraphQL-over-HTTP media type (4xx for documents that cannot run).
        {"accept": "application/graphql-response+json"},
    ]
    started = time.monotonic()
    async with running_stack(fuzz_settings()) as stack:
        findings = await asyncio.to_thread(fuzz, stack.url, callers)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {findings.cases} requests in {elapsed:.1f}s")
    print(f"statuses {dict(findings.statuses)}, error codes {dict(findings.codes)}")
    assert not findings.server_errors, "\n\n".join(findings.server_errors[:5])
    assert not findings.masked, "\n\n".join(findings.masked[:5])  # a 500 in all but status
    assert findings.cases >= 100  # the fuzzer really ran
    assert elapsed < BUDGET_S + 20  # under a minute with the defaults
