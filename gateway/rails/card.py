"""The card behind the credit-rail port: top-ups, bills paid by card, and the bureau rail's collections.

A card payment is one order named by our reference (the ledger's payment id, or a session id on
the bureau rail): authorised (a hold of the risk amount on the card), completed (the final amount
captured, the rest released), cancelled (the hold voided), refunded in part or whole per refund
reference, queried, and reported by signed notifications. Every call is idempotent per reference,
as the port requires, so a retried or concurrent call never charges twice and a payment left
pending by a crash is resolved by :meth:`~gateway.rails.port.CreditRail.query`.

Two implementations: :class:`DemoCard` (demo and dev modes: a pretend card that approves up to a
limit) over :class:`CardBooks` (the acquirer's side, kept apart so a "restarted" client finds what
the first one did, and so tests count what the card really took), and :class:`NoCard` (production
without a card acquirer: every charge is declined; the wallet and the credit rails still work).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from gateway.rails.port import (
    Acknowledgement,
    EventKind,
    OrderState,
    RailBadNotification,
    RailDeclined,
    RailEvent,
    RailOrder,
    RailRefused,
    check_reference,
)

ZERO = Decimal("0.00")
SIGNATURE_HEADER = "X-Card-Signature"


def _ref(prefix: str, key: str) -> str:
    return f"{prefix}{hashlib.sha256(key.encode()).hexdigest()[:24]}"


@dataclass(slots=True)
class CardOrder:
    reference: str
    account: str
    risk_amount: Decimal
    state: OrderState = OrderState.AUTHORISED
    collected: Decimal = ZERO
    refunds: dict[str, Decimal] = field(default_factory=dict)

    @property
    def refunded(self) -> Decimal:
        return sum(self.refunds.values(), ZERO)


class CardBooks:
    """The acquirer's own record: orders, captures and refunds, and the notifications it signed."""

    def __init__(
        self, secret: str = "demo-card-notification-secret", limit: Decimal = Decimal("5000")
    ) -> None:
        self.secret = secret.encode()
        self.limit = limit
        self.orders: dict[str, CardOrder] = {}
        self.notifications: list[tuple[dict[str, str], bytes]] = []

    def collected(self) -> Decimal:
        return sum((o.collected for o in self.orders.values()), ZERO)

    def refunded(self) -> Decimal:
        return sum((o.refunded for o in self.orders.values()), ZERO)

    def notify(
        self, event_id: str, kind: EventKind, reference: str, amount: Decimal, refund: str = ""
    ) -> None:
        body = json.dumps(
            {
                "id": event_id,
                "kind": kind.value,
                "reference": reference,
                "amount": str(amount),
                "refund": refund,
            },
            sort_keys=True,
        ).encode()
        self.notifications.append(({SIGNATURE_HEADER: self.sign(body)}, body))

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()


class DemoCard:
    """A pretend card: approves every hold up to the books' ``limit``, declines the rest."""

    name = "card"
    identity = ""  # a card account is the driver id itself: no sign-in provider holds it
    acknowledgement = Acknowledgement(204)

    def __init__(self, books: CardBooks | None = None) -> None:
        self.books = books or CardBooks()

    async def holder(self, account: str) -> str:
        return account

    async def authorise(self, reference: str, account: str, risk_amount: Decimal, subject: str) -> RailOrder:
        earlier = self.books.orders.get(check_reference(reference))
        if earlier is not None:
            if (earlier.account, earlier.risk_amount) != (account, risk_amount):
                raise RailRefused("REFERENCE_REUSED", "the reference was used with other parameters")
            return _order(earlier)
        if risk_amount <= 0 or risk_amount > self.books.limit:
            raise RailDeclined(f"the demo card is declined above {self.books.limit}")
        order = CardOrder(reference, account, risk_amount)
        self.books.orders[reference] = order
        return _order(order)

    async def complete(self, reference: str, amount: Decimal, subject: str, attempt: int = 1) -> RailOrder:
        order = self._find(reference)
        if order.state is OrderState.COLLECTED:
            return _order(order)  # a repeat
        if order.state is OrderState.CANCELLED:
            raise RailRefused("ORDER_CANCELLED", "the hold was voided; nothing can be captured")
        if amount > order.risk_amount:
            raise RailRefused("ABOVE_RISK_AMOUNT", "the capture is more than the hold")
        if amount == 0:
            return await self.cancel(reference, "nothing to capture")
        order.state, order.collected = OrderState.COLLECTED, amount
        self.books.notify(_ref("evt", f"{reference}:captured"), EventKind.COLLECTED, reference, amount)
        return _order(order)

    async def cancel(self, reference: str, reason: str) -> RailOrder:
        order = self._find(reference)
        if order.state is OrderState.COLLECTED:
            raise RailRefused("ALREADY_COLLECTED", "the order was captured; refund it instead")
        order.state = OrderState.CANCELLED
        return _order(order)

    async def refund(self, reference: str, refund_reference: str, amount: Decimal, reason: str) -> Decimal:
        order = self._find(reference)
        if order.state is not OrderState.COLLECTED:
            raise RailRefused("NOT_COLLECTED", "nothing was captured to refund")
        if (earlier := order.refunds.get(check_reference(refund_reference))) is not None:
            return earlier
        if amount <= 0 or amount > order.collected - order.refunded:
            raise RailRefused("REFUND_TOO_LARGE", "the refund is more than what is left of the capture")
        order.refunds[refund_reference] = amount
        event = _ref("evt", f"{reference}:refund:{refund_reference}")
        self.books.notify(event, EventKind.REFUNDED, reference, amount, refund_reference)
        return amount

    async def query(self, reference: str, attempt: int = 1) -> RailOrder:
        order = self.books.orders.get(check_reference(reference))
        return RailOrder(reference, OrderState.UNKNOWN, ZERO) if order is None else _order(order)

    def notification(self, headers: Mapping[str, str], body: bytes) -> RailEvent:
        given = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER.lower(), "")
        if not hmac.compare_digest(given.encode(), self.books.sign(body).encode()):
            raise RailBadNotification("the card notification's signature does not verify")
        try:
            note = json.loads(body)
            kind, amount = EventKind(note["kind"]), Decimal(note["amount"])
            event_id, reference, refund = (
                str(note["id"]),
                str(note["reference"]),
                str(note.get("refund") or ""),
            )
        except (ValueError, KeyError, TypeError, ArithmeticError):
            raise RailBadNotification("not a card notification") from None
        return RailEvent(event_id, kind, reference, amount, refund or None)

    def _find(self, reference: str) -> CardOrder:
        order = self.books.orders.get(check_reference(reference))
        if order is None:
            raise RailRefused("NO_SUCH_ORDER", "no order with this reference")
        return order


class NoCard:
    """Production without a card acquirer: every charge is declined, nothing else exists."""

    name = "card"
    identity = ""
    acknowledgement = Acknowledgement(204)

    async def holder(self, account: str) -> str:
        return account

    async def authorise(self, reference: str, account: str, risk_amount: Decimal, subject: str) -> RailOrder:
        raise RailDeclined("no card acquirer is configured on this gateway")

    async def complete(self, reference: str, amount: Decimal, subject: str, attempt: int = 1) -> RailOrder:
        raise RailRefused("NO_SUCH_ORDER", "no card acquirer is configured on this gateway")

    async def cancel(self, reference: str, reason: str) -> RailOrder:
        return RailOrder(reference, OrderState.CANCELLED, ZERO)

    async def refund(self, reference: str, refund_reference: str, amount: Decimal, reason: str) -> Decimal:
        raise RailRefused("NOT_COLLECTED", "no card acquirer is configured on this gateway")

    async def query(self, reference: str, attempt: int = 1) -> RailOrder:
        return RailOrder(reference, OrderState.UNKNOWN, ZERO)  # it never charged anything

    def notification(self, headers: Mapping[str, str], body: bytes) -> RailEvent:
        raise RailBadNotification("no card acquirer is configured on this gateway")


def _order(order: CardOrder) -> RailOrder:
    return RailOrder(order.reference, order.state, order.collected, _ref("card-", order.reference))
