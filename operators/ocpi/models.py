"""OCPI 2.2.1 Locations and Tariffs objects (and the shared classes they use), as frozen dataclasses.

Field names are the spec's, so :mod:`operators.ocpi.codec` converts them from and to JSON by their
type hints. Required fields have no default; ``*`` lists default to ``()``; numbers are ``Decimal``.
Enumerations stay ``str``: an unknown value from a partner must not fail a whole page, and
:mod:`operators.ocpi.mapping` decides what each value means (unknown → logged, mapped to UNKNOWN).
``extensions`` keeps fields a model does not declare, so parsing never loses data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, dataclass_transform

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, kw_only_default=True)
def model(cls: type[_T]) -> type[_T]:
    """An OCPI object: a frozen, slotted dataclass with keyword-only fields."""
    return dataclass(frozen=True, slots=True, kw_only=True)(cls)


def extensions_field() -> Any:
    return field(default_factory=dict, hash=False, repr=False)


# -- shared classes (OCPI 2.2.1 §16 Types, §8.4 Locations classes) ----------------------------------


@model
class DisplayText:
    language: str
    text: str
    extensions: Mapping[str, Any] = extensions_field()


@model
class Price:
    excl_vat: Decimal
    incl_vat: Decimal | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class GeoLocation:
    # Strings, not numbers (§8.4.13): "51.047599", 5–7 decimals.
    latitude: str
    longitude: str
    extensions: Mapping[str, Any] = extensions_field()


@model
class AdditionalGeoLocation:
    latitude: str
    longitude: str
    name: DisplayText | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class Image:
    url: str
    category: str
    type: str
    thumbnail: str | None = None
    width: int | None = None
    height: int | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class BusinessDetails:
    name: str
    website: str | None = None
    logo: Image | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class RegularHours:
    weekday: int  # 1 = Monday … 7 = Sunday
    period_begin: str  # "HH:MM", local time
    period_end: str
    extensions: Mapping[str, Any] = extensions_field()


@model
class ExceptionalPeriod:
    period_begin: datetime
    period_end: datetime
    extensions: Mapping[str, Any] = extensions_field()


@model
class Hours:
    twentyfourseven: bool
    regular_hours: tuple[RegularHours, ...] = ()
    exceptional_openings: tuple[ExceptionalPeriod, ...] = ()
    exceptional_closings: tuple[ExceptionalPeriod, ...] = ()
    extensions: Mapping[str, Any] = extensions_field()


@model
class EnergySource:
    source: str
    percentage: Decimal
    extensions: Mapping[str, Any] = extensions_field()


@model
class EnvironmentalImpact:
    category: str
    amount: Decimal
    extensions: Mapping[str, Any] = extensions_field()


@model
class EnergyMix:
    is_green_energy: bool
    energy_sources: tuple[EnergySource, ...] = ()
    environ_impact: tuple[EnvironmentalImpact, ...] = ()
    supplier_name: str | None = None
    energy_product_name: str | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class StatusSchedule:
    period_begin: datetime
    status: str
    period_end: datetime | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class PublishTokenType:
    uid: str | None = None
    type: str | None = None
    visual_number: str | None = None
    issuer: str | None = None
    group_id: str | None = None
    extensions: Mapping[str, Any] = extensions_field()


# -- Locations (§8.3) --------------------------------------------------------------------------------


@model
class Connector:
    id: str
    standard: str
    format: str
    power_type: str
    max_voltage: int
    max_amperage: int
    last_updated: datetime
    max_electric_power: int | None = None  # watts (§8.3.3), set when below voltage × current
    tariff_ids: tuple[str, ...] = ()
    terms_and_conditions: str | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class EVSE:
    uid: str
    status: str
    connectors: tuple[Connector, ...]
    last_updated: datetime
    evse_id: str | None = None
    status_schedule: tuple[StatusSchedule, ...] = ()
    capabilities: tuple[str, ...] = ()
    floor_level: str | None = None
    coordinates: GeoLocation | None = None
    physical_reference: str | None = None
    directions: tuple[DisplayText, ...] = ()
    parking_restrictions: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    extensions: Mapping[str, Any] = extensions_field()


@model
class Location:
    country_code: str
    party_id: str
    id: str
    publish: bool
    address: str
    city: str
    country: str
    coordinates: GeoLocation
    time_zone: str
    last_updated: datetime
    publish_allowed_to: tuple[PublishTokenType, ...] = ()
    name: str | None = None
    postal_code: str | None = None
    state: str | None = None
    related_locations: tuple[AdditionalGeoLocation, ...] = ()
    parking_type: str | None = None
    evses: tuple[EVSE, ...] = ()
    directions: tuple[DisplayText, ...] = ()
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: tuple[str, ...] = ()
    opening_times: Hours | None = None
    charging_when_closed: bool | None = None
    images: tuple[Image, ...] = ()
    energy_mix: EnergyMix | None = None
    extensions: Mapping[str, Any] = extensions_field()


# -- Tariffs (§11.3, §11.4) ---------------------------------------------------------------------------


@model
class PriceComponent:
    type: str  # ENERGY, FLAT, PARKING_TIME, TIME
    price: Decimal  # per unit, excl. VAT
    step_size: int
    vat: Decimal | None = None  # percent; absent = no VAT applicable (differs from 0)
    extensions: Mapping[str, Any] = extensions_field()


@model
class TariffRestrictions:
    start_time: str | None = None  # "HH:MM" local (Location.time_zone)
    end_time: str | None = None
    start_date: str | None = None  # "YYYY-MM-DD" local, inclusive
    end_date: str | None = None  # exclusive
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration: int | None = None  # seconds
    max_duration: int | None = None
    day_of_week: tuple[str, ...] = ()
    reservation: str | None = None  # RESERVATION, RESERVATION_EXPIRES
    extensions: Mapping[str, Any] = extensions_field()


@model
class TariffElement:
    price_components: tuple[PriceComponent, ...]
    restrictions: TariffRestrictions | None = None
    extensions: Mapping[str, Any] = extensions_field()


@model
class Tariff:
    country_code: str
    party_id: str
    id: str
    currency: str
    elements: tuple[TariffElement, ...]
    last_updated: datetime
    type: str | None = None
    tariff_alt_text: tuple[DisplayText, ...] = ()
    tariff_alt_url: str | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    energy_mix: EnergyMix | None = None
    extensions: Mapping[str, Any] = extensions_field()
