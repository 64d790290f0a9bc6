"""The card behind the credit-rail port: the same contract as the providers' rails, counted in the
card's own books. "Restart" is a new client over the same books (the acquirer's side survives)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.rails.card import CardBooks, DemoCard, NoCard
from gateway.rails.port import EventKind, OrderState, RailBadNotification, RailDeclined, RailRefused

REF = "P0000000000000000000000000000001"


async def test_authorise_complete_collects_once_across_a_restart() -> None:
    books = CardBooks()
    held = await DemoCard(books).authorise(REF, "alice", Decimal("300.00"), "EV charging")
    assert (held.state, held.collected) == (OrderState.AUTHORISED, Decimal("0.00"))
    restarted = DemoCard(books)  # the process died between the hold and the capture
    assert (
        await restarted.authorise(REF, "alice", Decimal("300.00"), "EV charging")
    ).state is OrderState.AUTHORISED
    done = await restarted.complete(REF, Decimal("42.50"), "EV charging")
    again = await DemoCard(books).complete(REF, Decimal("42.50"), "EV charging")
    assert done == again and done.state is OrderState.COLLECTED and done.provider_reference
    assert (books.collected(), books.refunded()) == (Decimal("42.50"), Decimal("0.00"))


async def test_refused_and_declined_calls_move_nothing() -> None:
    card = DemoCard(CardBooks(limit=Decimal("100")))
    with pytest.raises(RailDeclined):
        await card.authorise(REF, "alice", Decimal("100.01"), "EV charging")
    await card.authorise(REF, "alice", Decimal("10.00"), "EV charging")
    with pytest.raises(RailRefused):
        await card.authorise(
            REF, "bob", Decimal("10.00"), "EV charging"
        )  # the reference is bound to its input
    with pytest.raises(RailRefused):
        await card.complete(REF, Decimal("10.01"), "EV charging")
    with pytest.raises(RailRefused):
        await card.refund(REF, "R1", Decimal("1.00"), "nothing collected")
    assert (await card.complete(REF, Decimal("0.00"), "EV charging")).state is OrderState.CANCELLED
    with pytest.raises(RailRefused):
        await card.complete(REF, Decimal("1.00"), "EV charging")
    assert card.books.collected() == Decimal("0.00")


async def test_refund_part_then_the_rest_once_each_and_notifications_verify() -> None:
    card = DemoCard()
    await card.authorise(REF, "alice", Decimal("50.00"), "EV charging")
    await card.complete(REF, Decimal("30.00"), "EV charging")
    assert await card.refund(REF, "R1", Decimal("10.00"), "dispute") == Decimal("10.00")
    assert await card.refund(REF, "R1", Decimal("10.00"), "dispute") == Decimal("10.00")  # a repeat
    with pytest.raises(RailRefused):
        await card.refund(REF, "R2", Decimal("20.01"), "too much")
    await card.refund(REF, "R3", Decimal("20.00"), "the rest")
    assert (card.books.collected(), card.books.refunded()) == (Decimal("30.00"), Decimal("30.00"))
    events = [card.notification(headers, body) for headers, body in card.books.notifications]
    assert [(e.kind, e.amount, e.refund_reference) for e in events] == [
        (EventKind.COLLECTED, Decimal("30.00"), None),
        (EventKind.REFUNDED, Decimal("10.00"), "R1"),
        (EventKind.REFUNDED, Decimal("20.00"), "R3"),
    ]
    headers, body = card.books.notifications[0]
    with pytest.raises(RailBadNotification):
        card.notification(headers, body.replace(b"30.00", b"03.00"))
    with pytest.raises(RailBadNotification):
        DemoCard(CardBooks(secret="another acquirer")).notification(headers, body)


async def test_without_a_card_acquirer_nothing_is_charged() -> None:
    card = NoCard()
    with pytest.raises(RailDeclined):
        await card.authorise(REF, "alice", Decimal("1.00"), "EV charging")
    assert (await card.query(REF)).state is OrderState.UNKNOWN
