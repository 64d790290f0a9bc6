"""Binding quotes in the ledger: the bill comes from the quote, and a quote is usable once, by its
driver, before it expires — on SQLite and PostgreSQL, across a restart of the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from gateway.billing import BillingService
from gateway.billing.quoting import QuoteProblem, QuoteRefused, Quoting, priced, quoted_bill
from gateway.store import BillStatus, Store, open_store
from gateway.store.codec import tariff_to_json
from gateway.store.quotes import QuoteRecord
from gateway.store.types import new_id
from operators.domain import FinalOrder, OrderLine, Tariff, TariffPeriod
from tests.gateway.store.conftest import NewSession, database_url

__all__ = ["database_url"]
D = Decimal
TOU = Tariff(
    "CNY",
    (
        TariffPeriod(time(0), D("0.30"), D("0.40")),
        TariffPeriod(time(8), D("1.00"), D("0.80")),
        TariffPeriod(time(22), D("0.35"), D("0.40")),
    ),
)
AT = datetime(2026, 1, 5, 13, 30, tzinfo=UTC)  # 21:30 in Shanghai


def a_quote(driver_id: str = "alice", at: datetime = AT, connector_id: str = "C1") -> QuoteRecord:
    return QuoteRecord(
        id=new_id(), driver_id=driver_id, operator_id="MA1SIMTC1", connector_id=connector_id, currency="CNY",
        energy_kwh=D(7), power_kw=7.0, total=D("8.93"), tariff_json=tariff_to_json(TOU), priced_at=at,
        valid_until=at + timedelta(minutes=15), session_id=None,
    )  # fmt: skip


def order(session_id: str, total: Decimal) -> FinalOrder:
    """The operator's bill for 7 kWh from 21:40 to 22:40 local (half the energy each side of 22:00)."""
    start = AT + timedelta(minutes=10)
    return FinalOrder(
        session_id, "C1", "CNY", start, start + timedelta(hours=1), D(7), total,
        (OrderLine("ENERGY", total, start, start + timedelta(hours=1), D(7), None),),
    )  # fmt: skip


def test_the_quote_prices_its_lines_again_the_same_way():
    quote = a_quote()
    estimate = priced(quote)
    assert [(x.kind, x.quantity, x.amount) for x, _, _ in estimate.lines] == [
        ("ENERGY", D("3.500"), D("3.50")),
        ("SERVICE", D("3.500"), D("2.80")),
        ("ENERGY", D("3.500"), D("1.23")),  # 1.225 half up
        ("SERVICE", D("3.500"), D("1.40")),
    ]
    assert estimate.total == D("8.93")


def test_a_quoted_bill_prices_what_was_delivered_under_the_snapshot():
    lines, total = quoted_bill(a_quote(), order("s", D(99)))
    # 21:40–22:40 at 7 kW: 20 minutes before 22:00 (2.333 kWh), 40 minutes after (4.667 kWh).
    assert [(x.kind, x.energy_kwh, x.amount) for x in lines] == [
        ("ENERGY", D("2.333"), D("2.33")),
        ("SERVICE", D("2.333"), D("1.87")),
        ("ENERGY", D("4.667"), D("1.63")),
        ("SERVICE", D("4.667"), D("1.87")),
    ]
    assert total == D("7.70") == sum(x.amount for x in lines)
    assert lines[2].start == AT + timedelta(minutes=30)


async def test_the_quote_wins_and_a_different_operator_figure_is_disputed(
    billing: BillingService, store: Store, new_session: NewSession
):
    for operator_total, status in ((D("7.72"), BillStatus.UNPAID), (D("9.90"), BillStatus.DISPUTED)):
        session = await new_session("alice")
        quote = a_quote()
        await store.add_quote(quote)
        assert await store.claim_quote(quote.id, session.id)
        bill = (await billing.settle(session, order(session.id, operator_total))).bill
        assert bill.status is status
        assert bill.total == bill.recomputed_total == D("7.70")  # never the operator's 9.90
        assert bill.operator_total == operator_total
        assert [line.kind.value for line in bill.lines] == ["ENERGY", "SERVICE", "ENERGY", "SERVICE"]


async def test_an_unquoted_session_keeps_the_operator_s_lines(
    billing: BillingService, new_session: NewSession
):
    session = await new_session("alice")
    bill = (await billing.settle(session, order(session.id, D("7.72")))).bill
    assert bill.total == bill.operator_total == D("7.72") and len(bill.lines) == 1


async def test_a_quote_is_its_driver_s_once_and_until_it_expires(store: Store, new_session: NewSession):
    quoting = Quoting(store, None, {})  # type: ignore[arg-type]  # checking quotes needs the ledger only
    quote = a_quote()
    await store.add_quote(quote)
    mine = ("MA1SIMTC1", "C1")

    async def problem(
        driver: str, at: datetime, connector: tuple[str, str] | None = mine
    ) -> QuoteProblem | None:
        found = await quoting.usable(driver, quote.id, at, connector)
        return found.problem if isinstance(found, QuoteRefused) else None

    assert await problem("alice", AT) is None and await problem("alice", AT, None) is None
    assert await problem("bob", AT) is QuoteProblem.NOT_FOUND
    assert await problem("alice", AT, ("MA1SIMTC1", "C2")) is QuoteProblem.OTHER_CONNECTOR
    assert await problem("alice", quote.valid_until) is QuoteProblem.EXPIRED
    assert (await quoting.usable("alice", "no-such-quote", AT, None)).problem is QuoteProblem.NOT_FOUND  # type: ignore[union-attr]
    first, second = await new_session("alice"), await new_session("alice")
    assert await store.claim_quote(quote.id, first.id)
    assert await store.claim_quote(quote.id, first.id)  # the same session again: a retry
    assert not await store.claim_quote(quote.id, second.id)
    assert await problem("alice", AT) is QuoteProblem.USED
    assert (await store.quote_for_session(first.id)) == (await store.get_quote(quote.id))
    assert await store.quote_for_session(second.id) is None


async def test_a_quote_survives_a_restart_of_the_ledger(database_url: str):
    quote = a_quote()
    ledger = await open_store(database_url)
    try:
        await ledger.add_quote(quote)
    finally:
        await ledger.close()
    ledger = await open_store(database_url)  # another process, or another replica
    try:
        assert await ledger.get_quote(quote.id) == quote
        assert await Quoting(ledger, None, {}).usable("alice", quote.id, AT, None) == quote  # type: ignore[arg-type]
    finally:
        await ledger.close()
