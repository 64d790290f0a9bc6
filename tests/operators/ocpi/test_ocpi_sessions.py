"""START_SESSION / STOP_SESSION with asynchronous results, session pushes, the CDR and session_status."""

from __future__ import annotations

from decimal import Decimal

import pytest

from operators import domain
from operators.base import OperatorRejected
from operators.ocpi import mapping
from tests.operators.ocpi.helpers import Gateway, eventually


async def _available_connector(gw: Gateway) -> str:
    await gw.op.list_stations(None, None)
    for loc_id, loc in gw.sim.locations.items():
        for evse in loc["evses"]:
            if evse["status"] == "AVAILABLE":
                return mapping.connector_key(loc_id, evse["uid"], evse["connectors"][0]["id"])
    raise AssertionError("no available EVSE in the simulated network")


def _progress(gw: Gateway, ref: str) -> list[domain.SessionProgress]:
    return [e for e in gw.of(domain.SessionProgress) if e.session_ref == ref]


async def test_start_charge_stop_bill(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    connector = await _available_connector(gw)
    started = await gw.op.start_session("ref-1", connector)
    assert (started.phase, started.connector_id) == (domain.SessionPhase.STARTING, connector)
    await eventually(
        lambda: any(
            p.phase is domain.SessionPhase.CHARGING and p.energy_kwh > 0 for p in _progress(gw, "ref-1")
        )
    )
    charging = _progress(gw, "ref-1")[-1]
    assert charging.connector_id == connector and charging.cost is not None and charging.cost > 0
    assert charging.power_kw and charging.soc
    status = await gw.op.session_status("ref-1")
    assert status.phase is domain.SessionPhase.CHARGING and status.energy_kwh > 0

    # The same ref never sends a second START_SESSION.
    calls = gw.sim.calls["commands"]
    await gw.op.start_session("ref-1", connector)
    assert gw.sim.calls["commands"] == calls

    stopping = await gw.op.stop_session("ref-1", connector)
    assert stopping.phase is domain.SessionPhase.STOPPING
    await eventually(lambda: gw.of(domain.FinalOrder))
    order = gw.of(domain.FinalOrder)[0]
    assert order.session_ref == "ref-1" and order.connector_id == connector and order.currency == "CNY"
    assert order.total > 0 and order.energy_kwh > 0
    assert sum(line.amount for line in order.lines) == order.total
    assert {line.kind for line in order.lines} >= {"ENERGY"}
    assert _progress(gw, "ref-1")[-1].phase is domain.SessionPhase.COMPLETED
    final = await gw.op.session_status("ref-1")
    assert final.phase is domain.SessionPhase.COMPLETED and final.ended_at is not None
    await eventually(
        lambda: (
            gw.of(domain.ConnectorState)
            and gw.of(domain.ConnectorState)[-1].status is domain.ConnectorStatus.AVAILABLE
        )
    )


async def test_rejected_command_raises(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    connector = await _available_connector(gw)
    gw.sim.faults.command_response = "REJECTED"
    with pytest.raises(OperatorRejected, match="REJECTED"):
        await gw.op.start_session("ref-2", connector)
    assert await gw.op.store.link("ref-2") is None


@pytest.mark.parametrize("result", ["FAILED", "EVSE_OCCUPIED", "TIMEOUT"])
async def test_failed_result_reaches_the_sink(ocpi_gateway: Gateway, result: str) -> None:
    gw = ocpi_gateway
    connector = await _available_connector(gw)
    gw.sim.faults.command_result = result
    await gw.op.start_session("ref-3", connector)
    await eventually(lambda: _progress(gw, "ref-3"))
    failed = _progress(gw, "ref-3")[-1]
    assert (failed.phase, failed.failure) == (domain.SessionPhase.FAILED, result)
    status = await gw.op.session_status("ref-3")
    assert status.phase is domain.SessionPhase.FAILED


async def test_occupied_evse_fails_the_start(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    connector = await _available_connector(gw)
    loc_id, evse_uid, _ = mapping.split_connector_key(connector)
    await gw.sim.set_evse_status(loc_id, evse_uid, "BLOCKED")
    await gw.op.start_session("ref-4", connector)
    await eventually(lambda: _progress(gw, "ref-4"))
    assert _progress(gw, "ref-4")[-1].failure == "EVSE_OCCUPIED"


async def test_unknown_location_and_session(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    with pytest.raises(OperatorRejected, match="2003"):
        await gw.op.start_session("ref-5", mapping.connector_key("NOPE", "E", "1"))
    with pytest.raises(OperatorRejected):
        await gw.op.stop_session("never-started", "x*y*z")
    with pytest.raises(OperatorRejected):
        await gw.op.session_status("never-started")


async def test_long_session_ref_is_linked_by_digest(ocpi_gateway: Gateway) -> None:
    gw = ocpi_gateway
    connector = await _available_connector(gw)
    ref = "gateway-session-" + "x" * 40
    await gw.op.start_session(ref, connector)
    await eventually(lambda: any(p.phase is domain.SessionPhase.CHARGING for p in _progress(gw, ref)))
    session = next(iter(gw.sim.sessions.sessions))
    assert len(session["authorization_reference"]) <= 36
    assert session["cdr_token"]["type"] == "AD_HOC_USER"
    assert Decimal(str(session["kwh"])) >= 0
