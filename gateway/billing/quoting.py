"""Binding price quotes: priced like an estimate, kept in the ledger, honoured by the bill.

A quote prices ``energy_kwh`` on a connector now (:mod:`gateway.catalogue.pricing`) and keeps the tariff it
used. A session started with it takes that snapshot as its tariff, and its bill is computed from
the snapshot — the energy actually delivered, between the times the operator reports — whatever
the operator's final order says. If the operator's total differs from ours by more than the
tolerance, the bill is DISPUTED and keeps our figure: the quote wins, in the driver's favour.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from gateway.catalogue import pricing
from gateway.catalogue.stations import Catalogue
from gateway.store.codec import tariff_from_json, tariff_to_json
from gateway.store.quotes import QuoteRecord
from gateway.store.records import SessionRecord
from gateway.store.types import new_id
from operators.base import Operator, OperatorError
from operators.domain import FinalOrder, OrderLine, Tariff

VALID_FOR = timedelta(minutes=15)
BILL_MAX_HOURS = Decimal(24 * 31)  # a bill prices whatever the session took; only an estimate is capped


class QuoteProblem(enum.Enum):
    """Why a quote cannot start a session. Another driver's quote is NOT_FOUND: ids are not probed."""

    NOT_FOUND = "NOT_FOUND"
    EXPIRED = "EXPIRED"
    USED = "USED"
    OTHER_CONNECTOR = "OTHER_CONNECTOR"


@dataclass(frozen=True, slots=True)
class QuoteRefused:
    problem: QuoteProblem
    message: str


@dataclass(frozen=True, slots=True)
class CannotQuote:
    """``kind`` is the GraphQL error type: NotFound, ConnectorUnavailable or OperatorUnavailable."""

    kind: str
    message: str
    operator_id: str | None = None


def tariff_of(quote: QuoteRecord) -> Tariff:
    """The tariff snapshot the quote was priced under."""
    return tariff_from_json(quote.tariff_json)


def priced(quote: QuoteRecord) -> pricing.Estimate:
    """The quote's lines, priced again from its snapshot (the same inputs give the same lines)."""
    power = Decimal(repr(quote.power_kw))
    return pricing.estimate(tariff_from_json(quote.tariff_json), quote.energy_kwh, quote.priced_at, power)


class QuoteStore(Protocol):
    """What quoting needs of the ledger (:class:`gateway.store.Store` has it)."""

    async def add_quote(self, quote: QuoteRecord) -> None: ...

    async def get_quote(self, quote_id: str) -> QuoteRecord | None: ...

    async def get_session(self, session_id: str) -> SessionRecord | None: ...


class Quoting:
    def __init__(self, store: QuoteStore, catalogue: Catalogue, operators: dict[str, Operator]) -> None:
        self._store = store
        self._catalogue = catalogue
        self._operators = operators

    async def issue(
        self,
        driver_id: str,
        operator_id: str,
        connector_id: str,
        charge_kwh: Decimal,
        power_kw: Decimal,
        now: datetime,
    ) -> tuple[QuoteRecord, pricing.Estimate] | CannotQuote:
        """Price the charge on the connector now and keep it as a quote, valid for :data:`VALID_FOR`.

        ``power_kw`` is the vehicle's limit (0 for none); raises :class:`pricing.PricingError`."""
        found = self._catalogue.connector(operator_id, connector_id)
        op = self._operators.get(operator_id)
        if found is None or op is None:
            return CannotQuote("NotFound", "no such connector")
        _, connector = found
        try:
            tariff = (await op.tariffs([connector_id])).get(connector_id)
        except OperatorError as exc:
            return CannotQuote("OperatorUnavailable", exc.message, operator_id)
        if tariff is None or not tariff.periods:
            return CannotQuote("ConnectorUnavailable", "the operator gives no tariff for this connector")
        power = Decimal(repr(connector.max_power_kw))
        if power_kw > 0:
            power = min(power, power_kw)
        start = now.replace(microsecond=0)
        estimate = pricing.estimate(tariff, charge_kwh, start, power)
        quote = QuoteRecord(
            id=new_id(), driver_id=driver_id, operator_id=operator_id, connector_id=connector_id,
            currency=tariff.currency, energy_kwh=charge_kwh, power_kw=float(power), total=estimate.total,
            tariff_json=tariff_to_json(tariff), priced_at=start, valid_until=start + VALID_FOR,
            session_id=None,
        )  # fmt: skip
        await self._store.add_quote(quote)
        return quote, estimate

    async def usable(
        self,
        driver_id: str,
        quote_id: str,
        now: datetime,
        connector: tuple[str, str] | None,
        idempotency_key: str | None = None,
    ) -> QuoteRecord | QuoteRefused:
        """The driver's quote if it can start a session on ``connector`` (its own when None) now;
        a quote already used is still usable by a retry of the start that used it (same key)."""
        quote = await self._store.get_quote(quote_id)
        if quote is None or quote.driver_id != driver_id:
            return QuoteRefused(QuoteProblem.NOT_FOUND, "no such quote")
        if connector is not None and connector != (quote.operator_id, quote.connector_id):
            return QuoteRefused(QuoteProblem.OTHER_CONNECTOR, "the quote is for another connector")
        if quote.session_id is not None:
            session = await self._store.get_session(quote.session_id)
            if session is None or idempotency_key is None or session.idempotency_key != idempotency_key:
                return QuoteRefused(QuoteProblem.USED, "the quote was used by another session")
            return quote  # the same start again: it answers with the same session
        if now >= quote.valid_until:
            return QuoteRefused(QuoteProblem.EXPIRED, f"the quote expired at {quote.valid_until.isoformat()}")
        return quote


def quoted_bill(quote: QuoteRecord, order: FinalOrder) -> tuple[list[OrderLine], Decimal]:
    """The bill's lines and total under the quote's snapshot: the delivered energy, drawn evenly
    between the reported start and end, priced period by period like the quote was."""
    energy = order.energy_kwh
    if energy <= 0:
        return [], Decimal(0)
    seconds = Decimal(str((order.ended_at - order.started_at).total_seconds()))
    power = energy * 3600 / seconds if seconds > 0 else Decimal(repr(quote.power_kw))
    tariff = tariff_from_json(quote.tariff_json)
    estimate = pricing.estimate(tariff, energy, order.started_at, power, max_hours=BILL_MAX_HOURS)
    lines = [
        OrderLine(line.kind, line.amount, start, end, line.quantity if line.unit == "kWh" else None,
                  line.unit_price)
        for line, start, end in estimate.lines
    ]  # fmt: skip
    return lines, estimate.total
