"""Versions discovery and the credentials registration, from the eMSP side (OCPI 2.2.1 §6, §7).

We are party S: with token A we read the CPO's versions and version details, then POST our
Credentials (token B, our versions URL, our role) to its credentials endpoint. While handling that
POST the CPO calls our versions endpoint back with token B (served by :mod:`receiver`), then
answers with its own Credentials carrying token C, which we use from then on.
"""

from __future__ import annotations

import asyncio
import random

from operators.base import OperatorProtocolError, OperatorTimeout, OperatorUnavailable
from operators.ocpi.client import OcpiClient, parse
from operators.ocpi.messages import Credentials, Version, VersionDetails

# Highest first; 2.2 is deprecated but wire-compatible for what we use (specs §1.2).
SUPPORTED_VERSIONS = ("2.2.1", "2.2")
REQUIRED_MODULES = ("locations",)
# The CPO calls us back while our POST is open (§7.2.1 step 3), so the POST gets more time than a
# normal call; longer than the simulator's own call-back timeout, so a failed call-back is a clean 3001.
REGISTER_TIMEOUT_S = 10.0
REGISTER_RETRY_DELAYS_S = (0.25, 0.75, 0.0)  # three attempts in about a second


async def discover(client: OcpiClient, versions_url: str) -> VersionDetails:
    """The details of the highest mutual version; protocol error when there is none."""
    data, _ = await client.call("GET", versions_url, routed=False)  # no routing headers here (§4.1.8)
    versions = parse(client.operator_id, tuple[Version, ...], data, "versions")
    offered = {v.version: v.url for v in versions}
    version = next((v for v in SUPPORTED_VERSIONS if v in offered), None)
    if version is None:
        raise OperatorProtocolError(client.operator_id, f"no mutual OCPI version in {sorted(offered)}")
    data, _ = await client.call("GET", offered[version], routed=False)
    details = parse(client.operator_id, VersionDetails, data, "version details")
    missing = [m for m in REQUIRED_MODULES if details.url(m, "SENDER") is None]
    if missing:
        raise OperatorProtocolError(client.operator_id, f"CPO lacks modules {missing}")
    return details


async def register(client: OcpiClient, details: VersionDetails, ours: Credentials) -> Credentials:
    """POST our credentials with token A; returns the CPO's (with token C). Does not switch tokens."""
    url = details.url("credentials")
    if url is None:
        raise OperatorProtocolError(client.operator_id, "CPO publishes no credentials endpoint")
    timeout = max(REGISTER_TIMEOUT_S, client.timeout.total or 0)
    for attempt, delay in enumerate(REGISTER_RETRY_DELAYS_S):
        try:
            data, _ = await client.call("POST", url, body=ours, routed=False, timeout_s=timeout)
            break
        except OperatorTimeout:
            raise  # outcome unknown: the CPO may have registered us; do not POST blindly again
        except OperatorUnavailable:
            # 3001 (it could not call us back yet, e.g. the gateway is still starting) or a 5xx: nothing
            # was registered, so a bounded, jittered retry is safe.
            if attempt == len(REGISTER_RETRY_DELAYS_S) - 1:
                raise
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
    return parse(client.operator_id, Credentials, data, "credentials")
