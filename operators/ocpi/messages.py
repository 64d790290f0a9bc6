"""OCPI 2.2.1 Sessions, CDRs, Tokens, Commands, Credentials and Versions objects, plus the envelope.

Same conventions as :mod:`operators.ocpi.models`: spec field names, ``Decimal`` numbers, ``str``
enumerations, unknown fields kept in ``extensions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from operators.ocpi.models import (
    BusinessDetails,
    DisplayText,
    GeoLocation,
    Price,
    Tariff,
    extensions_field,
    model,
)

# -- Sessions and CDRs (§9, §10) ------------------------------------------------------------------------


@model
class CdrToken:
    country_code: str
    party_id: str
    uid: str
    type: str
    contract_id: str
    extensions: Mapping[str, Any] = extensions_field()


@model
class CdrDimension:
    type: str  # ENERGY kWh, TIME h, PARKING_TIME h, CURRENT A, POWER kW, STATE_OF_CHARGE %, ...
    volume: Decimal
    extensions: Mapping[str, Any] = extensions_field()


@model
class ChargingPeriod:
    start_date_time: datetime
    dimensions: tuple[CdrDimension, ...]
    tariff_id: str | None = None
    extensions: Mapping[str, Any] = extensions_field()

    def volume(self, kind: str) -> Decimal | None:
        return next((d.volume for d in self.dimensions if d.type == kind), None)


@model
class Session:
    country_code: str
    party_id: str
    id: str
    start_date_time: datetime
    kwh: Decimal
    cdr_token: CdrToken
    auth_method: str
    location_id: str
    evse_uid: str
    connector_id: str
    currency: str
    status: str  # ACTIVE, COMPLETED, INVALID, PENDING, RESERVATION
    last_updated: datetime
    end_date_time: datetime | None = None
    authorization_reference: str | None = None
    meter_id: str | None = None
    charging_periods: tuple[ChargingPeriod, ...] = ()
    total_cost: Price | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class CdrLocation:
    id: str
    address: str
    city: str
    country: str
    coordinates: GeoLocation
    evse_uid: str
    evse_id: str
    connector_id: str
    connector_standard: str
    connector_format: str
    connector_power_type: str
    name: str | None = None
    postal_code: str | None = None
    state: str | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class SignedValue:
    nature: str
    plain_data: str
    signed_data: str
    extensions: Mapping[str, Any] = extensions_field()


@model
class SignedData:
    encoding_method: str
    signed_values: tuple[SignedValue, ...]
    encoding_method_version: int | None = None
    public_key: str | None = None
    url: str | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class Cdr:
    country_code: str
    party_id: str
    id: str
    start_date_time: datetime
    end_date_time: datetime
    cdr_token: CdrToken
    auth_method: str
    cdr_location: CdrLocation
    currency: str
    charging_periods: tuple[ChargingPeriod, ...]
    total_cost: Price
    total_energy: Decimal
    total_time: Decimal
    last_updated: datetime
    session_id: str | None = None
    authorization_reference: str | None = None
    meter_id: str | None = None
    tariffs: tuple[Tariff, ...] = ()
    signed_data: SignedData | None = None
    total_fixed_cost: Price | None = None
    total_energy_cost: Price | None = None
    total_time_cost: Price | None = None
    total_parking_time: Decimal | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: str | None = None
    invoice_reference_id: str | None = None
    credit: bool | None = None
    credit_reference_id: str | None = None
    home_charging_compensation: bool | None = None
    extensions: Mapping[str, Any] = extensions_field()


# -- Tokens (§12) -----------------------------------------------------------------------------------------


@model
class EnergyContract:
    supplier_name: str
    contract_id: str | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class Token:
    country_code: str
    party_id: str
    uid: str
    type: str  # AD_HOC_USER, APP_USER, OTHER, RFID
    contract_id: str
    issuer: str
    valid: bool
    whitelist: str
    last_updated: datetime
    visual_number: str | None = None
    group_id: str | None = None
    language: str | None = None
    default_profile_type: str | None = None
    energy_contract: EnergyContract | None = None
    extensions: Mapping[str, Any] = extensions_field()


# -- Commands (§13) ---------------------------------------------------------------------------------------


@model
class CommandResponse:
    result: str  # ACCEPTED, REJECTED, NOT_SUPPORTED, UNKNOWN_SESSION
    timeout: int  # seconds the eMSP should wait for the CommandResult
    message: tuple[DisplayText, ...] = ()
    extensions: Mapping[str, Any] = extensions_field()


@model
class CommandResult:
    result: str  # ACCEPTED, EVSE_OCCUPIED, EVSE_INOPERATIVE, FAILED, REJECTED, TIMEOUT, ...
    message: tuple[DisplayText, ...] = ()
    extensions: Mapping[str, Any] = extensions_field()


@model
class StartSession:
    response_url: str
    token: Token
    location_id: str
    evse_uid: str | None = None
    connector_id: str | None = None
    authorization_reference: str | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class StopSession:
    response_url: str
    session_id: str
    extensions: Mapping[str, Any] = extensions_field()


# -- Credentials and Versions (§7, §6) ------------------------------------------------------------------


@model
class CredentialsRole:
    role: str
    business_details: BusinessDetails
    party_id: str
    country_code: str
    extensions: Mapping[str, Any] = extensions_field()


@model
class Credentials:
    token: str
    url: str
    roles: tuple[CredentialsRole, ...]
    extensions: Mapping[str, Any] = extensions_field()


@model
class Version:
    version: str
    url: str
    extensions: Mapping[str, Any] = extensions_field()


@model
class Endpoint:
    identifier: str
    url: str
    role: str | None = None  # SENDER / RECEIVER; new in 2.2, absent from 2.1.1 peers
    extensions: Mapping[str, Any] = extensions_field()


@model
class VersionDetails:
    version: str
    endpoints: tuple[Endpoint, ...]
    extensions: Mapping[str, Any] = extensions_field()

    def url(self, identifier: str, role: str | None = None) -> str | None:
        for endpoint in self.endpoints:
            if endpoint.identifier == identifier and (role is None or endpoint.role in (role, None)):
                return endpoint.url
        return None


@model
class Envelope:
    """Every OCPI response body (§4.1.7); ``data`` stays raw JSON until the caller types it."""

    status_code: int
    timestamp: datetime
    data: Any = None
    status_message: str | None = None
    extensions: Mapping[str, Any] = extensions_field()
