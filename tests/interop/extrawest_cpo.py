"""A CPO built on extrawest-ocpi (``py_ocpi``), the independent OCPI 2.2.1 implementation our adapter
is tested against. Runs under its own interpreter (scripts/ocpi-interop.sh makes it: the library
pins FastAPI 0.101, Starlette 0.27 and pydantic 1, which cannot share our environment).

    python extrawest_cpo.py PORT TOKEN_A

One Location (one EVSE, one connector) with one Tariff. START_SESSION creates an ACTIVE Session
listed on the sessions Sender interface (carrying the eMSP's ``authorization_reference``);
STOP_SESSION completes it. The library itself runs the credentials handshake (it calls the eMSP
back with token B), answers commands and posts each CommandResult to ``response_url``; this file
only supplies the storage (``Crud``) and the token lists (``Authenticator``) it asks for.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import UTC, datetime

PORT, TOKEN_A = int(sys.argv[1]), sys.argv[2]
HOST = f"127.0.0.1:{PORT}"
os.environ.update(OCPI_HOST=HOST, PROTOCOL="http", COUNTRY_CODE="DE", PARTY_ID="EXW")

import uvicorn  # noqa: E402  (py_ocpi reads its settings from the environment on import)
from py_ocpi import get_application  # noqa: E402
from py_ocpi.core.authentication.authenticator import Authenticator  # noqa: E402
from py_ocpi.core.crud import Crud  # noqa: E402
from py_ocpi.core.dependencies import get_endpoints  # noqa: E402
from py_ocpi.core.endpoints.v_2_2_1.utils import cpo_generator  # noqa: E402
from py_ocpi.core.enums import Action, ModuleID, RoleEnum  # noqa: E402
from py_ocpi.modules.versions.enums import VersionNumber  # noqa: E402
from py_ocpi.modules.versions.v_2_2_1.schemas import InterfaceRole  # noqa: E402

STAMP = "2026-01-01T00:00:00Z"
TARIFF = {
    "country_code": "DE", "party_id": "EXW", "id": "T1", "currency": "EUR",
    "elements": [{"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 19.0, "step_size": 1}]}],
    "last_updated": STAMP,
}  # fmt: skip
CONNECTOR = {
    "id": "1", "standard": "IEC_62196_T2_COMBO", "format": "CABLE", "power_type": "DC",
    "max_voltage": 400, "max_amperage": 125, "tariff_ids": ["T1"], "last_updated": STAMP,
}  # fmt: skip
LOCATION = {
    "country_code": "DE", "party_id": "EXW", "id": "LOC1", "publish": True, "name": "Interop garage",
    "address": "Teststrasse 1", "city": "Berlin", "postal_code": "10115", "country": "DEU",
    "coordinates": {"latitude": "52.520008", "longitude": "13.404954"}, "time_zone": "Europe/Berlin",
    "evses": [{"uid": "EVSE1", "evse_id": "DE*EXW*E1", "status": "AVAILABLE", "connectors": [CONNECTOR],
               "last_updated": STAMP}],
    "last_updated": STAMP,
}  # fmt: skip
STATE: dict = {"registered": False, "token_b": None, "token_c": [], "sessions": {}}


def _session(command: dict) -> dict:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = command["token"]
    cdr_token = {k: token[k] for k in ("country_code", "party_id", "uid", "type", "contract_id")}
    sid = f"S{len(STATE['sessions']) + 1}"
    return {
        "country_code": "DE", "party_id": "EXW", "id": sid, "start_date_time": now, "kwh": 0,
        "cdr_token": cdr_token, "auth_method": "COMMAND",
        "authorization_reference": command.get("authorization_reference"),
        "location_id": command["location_id"], "evse_uid": command["evse_uid"],
        "connector_id": command["connector_id"], "currency": "EUR", "status": "ACTIVE", "last_updated": now,
    }  # fmt: skip


class InteropCrud(Crud):
    @classmethod
    async def get(cls, module, role, id, *args, **kwargs):
        if module == ModuleID.locations:
            return LOCATION if id.upper() == "LOC1" else None  # CiString: any case
        if module == ModuleID.commands:  # the Charge Point's answer, polled by the library
            return {"result": "ACCEPTED"}
        if module == ModuleID.sessions:
            return STATE["sessions"].get(id.upper())
        return None

    @classmethod
    async def list(cls, module, role, filters, *args, **kwargs):
        items = {
            ModuleID.locations: [LOCATION],
            ModuleID.tariffs: [TARIFF],
            ModuleID.sessions: list(STATE["sessions"].values()),
        }.get(module, [])
        offset, limit = filters["offset"], filters["limit"]
        return items[offset : offset + limit], len(items), offset + limit >= len(items)

    @classmethod
    async def create(cls, module, role, data, *args, **kwargs):
        if module == ModuleID.credentials_and_registration:
            STATE["token_b"] = data["credentials"]["token"]
            token_c = secrets.token_urlsafe(32)
            STATE["token_c"].append(token_c)
            STATE["registered"] = True  # token A is spent
            role_ = {"role": "CPO", "business_details": {"name": "Interop CPO"}, "party_id": "EXW"}
            return {
                "token": token_c,
                "url": f"http://{HOST}/ocpi/versions",
                "roles": [role_ | {"country_code": "DE"}],
            }
        return data

    @classmethod
    async def update(cls, module, role, data, id, *args, **kwargs):
        return data

    @classmethod
    async def delete(cls, module, role, id, *args, **kwargs):
        return None

    @classmethod
    async def do(cls, module, role, action, *args, data=None, **kwargs):
        if action == Action.get_client_token:
            return STATE["token_b"]
        if action == Action.send_command:
            command, body = kwargs["command"], args[0]
            if command == "START_SESSION":
                session = _session(body)
                STATE["sessions"][session["id"]] = session
            elif command == "STOP_SESSION":
                session = STATE["sessions"].get(body["session_id"].upper())
                if session is None:
                    return {"result": "REJECTED", "timeout": 0}
                session.update(status="COMPLETED", end_date_time=session["last_updated"])
            return {"result": "ACCEPTED", "timeout": 30}
        return None


class InteropAuthenticator(Authenticator):
    @classmethod
    async def get_valid_token_c(cls):
        return STATE["token_c"]

    @classmethod
    async def get_valid_token_a(cls):
        return [] if STATE["registered"] else [TOKEN_A]


app = get_application(
    version_numbers=[VersionNumber.v_2_2_1],
    roles=[RoleEnum.cpo],
    crud=InteropCrud,
    modules=[
        ModuleID.credentials_and_registration,
        ModuleID.locations,
        ModuleID.tariffs,
        ModuleID.sessions,
        ModuleID.commands,
    ],
    authenticator=InteropAuthenticator,
)
# Library defect: the CPO role serves /ocpi/cpo/2.2.1/commands/{command} but never lists a commands
# RECEIVER endpoint in its version details, so an eMSP that takes URLs only from there (OCPI §6)
# cannot send a command. Publish it, as a CPO deploying this library would have to.
app.dependency_overrides[get_endpoints]()[VersionNumber.v_2_2_1].append(
    cpo_generator.generate_endpoint(ModuleID.commands, InterfaceRole.receiver)
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
