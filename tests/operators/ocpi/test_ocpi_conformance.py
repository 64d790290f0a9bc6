"""Conformance walk: the credentials handshake (token A → B → C, A retired), then every module we use
and serve, with every response of the CPO simulator and of our receiver checked against the spec."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from operators import domain
from operators.domain import OperatorEvent
from operators.ocpi import auth, codec, headers, mapping
from operators.ocpi.adapter import build
from operators.ocpi.sim.server import OcpiSimulator
from tests.operators.ocpi.conformance import Recorder, problems
from tests.operators.ocpi.helpers import eventually, gateway_config, loopback_socket, serving


async def test_handshake_and_every_response_conform() -> None:
    recorder = Recorder()
    events: list[OperatorEvent] = []

    async def sink(operator_id: str, event: OperatorEvent) -> None:
        events.append(event)

    sock, public_url = loopback_socket()
    async with aiohttp.ClientSession(trace_configs=[recorder.trace_config()]) as http:
        sim = OcpiSimulator(
            http=http, stations=5, seed=3, push_interval_s=0.05, time_acceleration=120, command_delay_s=0.01
        )
        async with sim:
            op = build(gateway_config(sim), http, sink, public_url)
            async with serving(op, sock):
                # Handshake (token A → B → C) on the first call, then locations and tariffs.
                await op.list_stations(None, None)
                loc_id, loc = next(iter(sim.locations.items()))
                evse = next(e for e in loc["evses"] if e["status"] == "AVAILABLE")
                connector = mapping.connector_key(loc_id, evse["uid"], evse["connectors"][0]["id"])
                assert await op.tariffs([connector])
                await op.connector_statuses([loc_id])
                # Commands, session pushes (PUT, PATCHes with charging periods), the CDR POST.
                await op.start_session("conformance-1", connector)
                await eventually(
                    lambda: any(isinstance(e, domain.SessionProgress) and e.energy_kwh > 0 for e in events)
                )
                await op.stop_session("conformance-1", connector)
                await eventually(lambda: any(isinstance(e, domain.FinalOrder) for e in events))
                await op.session_status("conformance-1")
                # Our receiver's GETs (what a CPO may read back) and its credentials.
                base = f"{public_url}{op.base_path}/2.2.1"
                b_header = {"Authorization": auth.header(await op.accepted_token()), **headers.new_ids()}
                session = sim.sessions.sessions[0]
                tariff = next(iter(sim.tariffs.values()))  # the tariffs Receiver: a PUT, then read back
                tariff_path = f"/tariffs/CN/SHA/{tariff['id']}"
                put = {**b_header, **headers.new_ids(), "Content-Type": "application/json"}
                async with http.put(base + tariff_path, data=codec.dumps(tariff), headers=put) as resp:
                    assert resp.status == 200 and await resp.read()
                reads = (f"/sessions/CN/SHA/{session['id']}", f"/cdrs/CDR-{session['id']}", "/credentials")
                for path in (*reads, tariff_path, f"/locations/CN/SHA/{loc_id}"):
                    async with http.get(base + path, headers={**b_header, **headers.new_ids()}) as resp:
                        assert resp.status == 200 and await resp.read(), path
                # Token A is retired on both sides once C is issued (§1.3 step 5).
                a_header = {"Authorization": auth.header(sim.config.token), **headers.new_ids()}
                async with http.get(sim.versions_url, headers=a_header) as resp:
                    assert resp.status == 401 and await resp.read()
                a_header |= headers.new_ids()
                async with http.get(f"{public_url}{op.base_path}/versions", headers=a_header) as resp:
                    assert resp.status == 401 and await resp.read()
                # The walk ends here: the simulator may still be pushing the ended session, and a
                # push that meets our receiver shutting down is no answer of either side.
                exchanges = recorder.answered()
            await op.aclose()
    sock.close()

    paths = {(x.method, x.url.split("?")[0]) for x in exchanges}
    # The walk covered every module in both directions.
    for fragment in (
        "/versions",
        "/credentials",
        "/locations",
        "/tariffs",
        "/sessions",
        "/cdrs",
        "/commands/",
    ):
        assert any(fragment in url for _, url in paths), fragment
    assert {m for m, url in paths if "/sessions/" in url} >= {"PUT", "PATCH", "GET"}
    # §1.9: request ids unique per request, echoed by every response (simulator and receiver alike).
    request_ids = [x.sent.get("X-Request-ID") for x in exchanges]
    assert None not in request_ids and len(set(request_ids)) == len(request_ids)
    found = [p for x in exchanges for p in problems(x)]
    assert found == [], "\n".join(found)
    # Token A only on versions, version details and the credentials POST; token C afterwards.
    token_a = auth.header(sim.config.token)
    with_a = [x for x in exchanges if x.sent.get("Authorization") == token_a and x.status != 401]
    assert [x.url.rsplit("/", 1)[-1] for x in with_a] == ["versions", "2.2.1", "credentials"]
    assert sim.token_c is not None and sim.token_c != sim.config.token


def test_datetimes_are_at_most_milliseconds() -> None:
    stamp = datetime(2026, 12, 2, 12, 26, 55, 181503, tzinfo=UTC)
    assert codec.format_datetime(stamp) == "2026-12-02T12:26:55.181Z"
    assert codec.format_datetime(stamp.replace(microsecond=999)) == "2026-12-02T12:26:55Z"
    assert len(codec.format_datetime(stamp)) <= codec.DATETIME_MAX_LEN
