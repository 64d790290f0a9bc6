"""Descriptions of schema elements the code leaves undescribed, by coordinate, applied at build time.

A coordinate is ``Type``, ``Type.field``, ``Type.field(argument)`` or ``Enum.VALUE``. A description
written in the code (``strawberry.field(description=…)``) wins; this table fills in the rest, so the
schema a client introspects describes every type, field, argument and enum value: what it is, its
unit, and when it is null. ``tests/resolvers/test_descriptions.py`` keeps that at 100% and fails on a
coordinate here that the schema no longer has.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

BUILT_IN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})
ERROR_MESSAGE = "What went wrong, in English, for people; switch on `code`, never on the message."
CURSOR_PAGE = "The next items after this cursor (an `endCursor` of an earlier page); null for the first page."
PAGE_SIZE = "How many items, 1–100."
IDEMPOTENCY_KEY = (
    "Your key for this request, 1–128 printable characters: resending the same key with the same input "
    "answers what the first request did, without doing it again."
)
ESTIMATE_ENERGY = "The energy to charge, kWh (a positive Decimal)."
ESTIMATE_START = "When charging would start (UTC); null for now."
ESTIMATE_POWER = "The vehicle's maximum charging power, kW; null to assume the connector's maximum."

DESCRIPTIONS: dict[str, str] = {
    # -- roots ------------------------------------------------------------------------------------
    "Query": "Read-only entry points: station search, lookups by id or QR code, the calling driver.",
    "Query.stations(near)": "The centre of the search (WGS 84 degrees).",
    "Query.stations(radiusKm)": "Search radius around `near`, km, greater than 0 and at most 200.",
    "Query.stations(filter)": "Conditions on the stations' connectors; null for every station in the radius.",
    "Query.stations(first)": PAGE_SIZE,
    "Query.stations(after)": CURSOR_PAGE,
    "Query.stations(orderBy)": "How to order the results (see StationOrder).",
    "Query.node(id)": "A global ID as returned by an `id` field.",
    "Query.connectorByQrCode(code)": "The text of the QR code as scanned (at most 512 characters).",
    "Query.operators": "Every operator the gateway is connected to, in configuration order.",
    "Mutation": "Actions for a driver (Authorization: Bearer <driver token>) and admin actions.",
    "Mutation.resolveBill(input)": "Which bill, how to settle it, why, and your idempotency key.",
    "Mutation.refundPayment(input)": "Which payment, how much, why, and your idempotency key.",
    "Mutation.resolveRailMismatch(input)": "Which mismatch and what was done about it.",
    "Mutation.quote(connectorId)": "The Connector to charge at.",
    "Mutation.quote(energyKwh)": ESTIMATE_ENERGY,
    "Mutation.quote(vehicleMaxPowerKw)": ESTIMATE_POWER,
    "Mutation.startCharging(input)": "Where to charge, how to pay, the limits, and your idempotency key.",
    "Mutation.stopCharging": (
        "Ask the operator to stop a session of the calling driver. The session answers STOPPING, then "
        "COMPLETED once the operator confirms (follow it with the chargingSession subscription)."
    ),
    "Mutation.stopCharging(input)": "The session to stop.",
    "Mutation.payBill(input)": "The bill, how to pay it, and your idempotency key.",
    "Mutation.topUpWallet(input)": "How much to add and your idempotency key.",
    "Subscription": "Live updates over WebSocket (graphql-transport-ws).",
    "Subscription.chargingSession(id)": "A ChargingSession id of the calling driver.",
    # -- stations and connectors --------------------------------------------------------------------
    "Station": "A charging site of one operator: a location with one or more connectors.",
    "Station.id": "Global ID of the station.",
    "Station.name": "The operator's name for the site.",
    "Station.operator": "The operator that runs the station.",
    "Station.location": "Where the station is (WGS 84).",
    "Station.address": "Street address as the operator gives it; null when it gives none.",
    "Station.connectors": "Every connector of the station, in the operator's order.",
    "Station.tariff": (
        "The station's tariff, from its first connector that has one (refreshed at least hourly); null "
        "when the operator gives none."
    ),
    "Station.estimate(energyKwh)": ESTIMATE_ENERGY,
    "Station.estimate(startAt)": ESTIMATE_START,
    "Station.estimate(vehicleMaxPowerKw)": ESTIMATE_POWER,
    "Connector": "One plug of a station, with its live status and price.",
    "Connector.id": "Global ID of the connector (what startCharging takes as `connectorId`).",
    "Connector.type": "The physical plug standard.",
    "Connector.powerType": "AC or DC.",
    "Connector.maxPowerKw": "The most power the connector delivers, kW.",
    "Connector.status": (
        "Live status: a polled status is at most 15 s old by default, a pushed one at most 5 min; "
        "UNKNOWN while the operator cannot be reached."
    ),
    "Connector.statusUpdatedAt": "When the operator last reported the status (UTC); null when unknown.",
    "Connector.currentPrice": "The per-kWh price in force now; null when the operator gives no tariff.",
    "Connector.station": "The station the connector belongs to.",
    "Connector.estimate(energyKwh)": ESTIMATE_ENERGY,
    "Connector.estimate(startAt)": ESTIMATE_START,
    "Connector.estimate(vehicleMaxPowerKw)": ESTIMATE_POWER,
    "ConnectorStatus.AVAILABLE": "Free to start charging.",
    "ConnectorStatus.OCCUPIED": "A vehicle is plugged in but not charging (finished, or waiting to start).",
    "ConnectorStatus.CHARGING": "A vehicle is charging.",
    "ConnectorStatus.RESERVED": "Held for someone else.",
    "ConnectorStatus.FAULTED": "Out of order.",
    "ConnectorStatus.OFFLINE": "The operator has lost contact with the connector.",
    "ConnectorStatus.UNKNOWN": "No current status: the operator did not report one or could not be reached.",
    "ConnectorType.GBT_AC": "GB/T 20234.2 AC (China).",
    "ConnectorType.GBT_DC": "GB/T 20234.3 DC (China).",
    "ConnectorType.TYPE1": "SAE J1772 / IEC 62196 Type 1 AC.",
    "ConnectorType.TYPE2": "IEC 62196 Type 2 (Mennekes) AC.",
    "ConnectorType.CCS1": "Combined Charging System, Type 1 DC.",
    "ConnectorType.CCS2": "Combined Charging System, Type 2 DC.",
    "ConnectorType.CHADEMO": "CHAdeMO DC.",
    "ConnectorType.TESLA": "Tesla's own connector.",
    "ConnectorType.DOMESTIC": "A household socket.",
    "ConnectorType.WIRELESS": "Inductive (wireless) charging pad.",
    "ConnectorType.OTHER": "Any other plug, or one the operator did not name.",
    "PowerType": "Whether a connector delivers alternating or direct current.",
    "PowerType.AC": "Alternating current (the vehicle's on-board charger converts it).",
    "PowerType.DC": "Direct current (fast charging).",
    "ConnectorSummary.total": "Connectors counted (those matching the search filter, if any).",
    "ConnectorSummary.byPowerType": "Connector counts per power type.",
    "ConnectorSummary.byConnectorType": "Connector counts per plug standard.",
    "ConnectorSummary.highestPowerKw": "The highest maximum power among the connectors, kW; null for none.",
    "PowerTypeCount": "How many connectors of one power type a station has, and how many are free.",
    "PowerTypeCount.powerType": "The power type counted.",
    "PowerTypeCount.total": "Connectors of this power type.",
    "PowerTypeCount.available": "Of those, connectors whose status is AVAILABLE.",
    "ConnectorTypeCount": "How many connectors of one plug standard a station has, and how many are free.",
    "ConnectorTypeCount.connectorType": "The plug standard counted.",
    "ConnectorTypeCount.total": "Connectors of this standard.",
    "ConnectorTypeCount.available": "Of those, connectors whose status is AVAILABLE.",
    "GeoPoint": "A position in WGS 84 degrees.",
    "GeoPoint.lat": "Latitude, degrees, −90 to 90.",
    "GeoPoint.lon": "Longitude, degrees, −180 to 180.",
    "GeoPointInput": "A position in WGS 84 degrees.",
    "GeoPointInput.lat": "Latitude, degrees, −90 to 90.",
    "GeoPointInput.lon": "Longitude, degrees, −180 to 180.",
    "Operator": "A charging network the gateway is connected to (one T/CEC or OCPI partner).",
    "Operator.id": "Global ID of the operator.",
    "Operator.name": "The operator's display name.",
    "StationConnection": "One page of a station search.",
    "StationConnection.edges": "The stations of this page, in the requested order.",
    "StationConnection.pageInfo": "Where this page is in the whole result.",
    "StationConnection.totalCount": "Stations matching the search in the whole radius, over all pages.",
    "StationEdge": "One station of a search page, with its distance and cursor.",
    "StationEdge.cursor": "Opaque; pass it as `after` to get the stations after this one.",
    "StationEdge.distanceKm": "Distance from the search's `near` point, km, to the metre.",
    "StationEdge.node": "The station.",
    "StationFilter.availableOnly": "True: only AVAILABLE connectors count; null or false: any.",
    "StationFilter.minPowerKw": "Only connectors with at least this maximum power, kW; null for any.",
    "StationFilter.connectorTypes": "Only connectors of these plug standards; null for any.",
    "StationFilter.powerTypes": "Only connectors of these power types; null for any.",
    "StationFilter.operatorIds": (
        "Only stations of these operators (Operator ids, or native ids such as `CNSHA`); null for any."
    ),
    "PageInfo": "Where a page sits in the whole list.",
    "PageInfo.hasNextPage": "Whether more items follow this page.",
    "PageInfo.hasPreviousPage": "Whether items come before this page (true when asked `after` a cursor).",
    "PageInfo.startCursor": "The cursor of the first item; null for an empty page.",
    "PageInfo.endCursor": "The cursor of the last item, to pass as `after`; null for an empty page.",
    # -- tariffs and prices -------------------------------------------------------------------------
    "Tariff": "The prices an operator publishes for a connector, by time of day, plus other fees.",
    "Tariff.currency": "ISO 4217 code of every price in the tariff, e.g. `CNY`.",
    "Tariff.timezone": "The station's IANA time zone, in which the periods' start times are given.",
    "Tariff.periods": "Time-of-use periods of a day, in order of start time.",
    "Tariff.extras": "Fees beyond the per-kWh prices (per session, per hour); empty when there are none.",
    "TariffPeriod.startTime": "Local start time of the period, HH:MM:SS; it runs to the next period's start.",
    "TariffExtra.kind": "FLAT (once per session), TIME (per hour of charging) or PARKING (per hour parked).",
    "TariffExtra.unit": "What `amount` is per: `session` or `hour`.",
    "ChargeEstimate.connector": "The connector the estimate is for.",
    "ChargeEstimate.energyKwh": "The energy estimated, kWh.",
    "ChargeEstimate.startAt": "When the charge starts (UTC).",
    "ChargeEstimate.endAt": "When `energyKwh` would have been delivered (UTC).",
    "ChargeEstimate.lines": "One priced line per fee kind and time-of-use period crossed, plus session fees.",
    "ChargeLine.kind": "What the line charges for.",
    "FeeKind.ENERGY": "The energy itself, per kWh.",
    "FeeKind.SERVICE": "The operator's service fee, per kWh.",
    "FeeKind.TIME": "A fee per hour of charging.",
    "FeeKind.FLAT": "A fee once per session.",
    "PriceQuote.id": "Global ID of the quote: pass it as `quoteId` to startCharging.",
    "PriceQuote.connector": "The connector the quote is for.",
    "PriceQuote.energyKwh": "The energy quoted, kWh.",
    "PriceQuote.startAt": "When the quoted charge starts (UTC).",
    "PriceQuote.endAt": "When `energyKwh` would have been delivered (UTC).",
    "PriceQuote.durationMinutes": "Expected charging time, minutes, rounded up.",
    "PriceQuote.lines": "One priced line per fee kind and time-of-use period crossed, plus session fees.",
    "QuoteResult": "A binding price quote, or why none could be made.",
    "QuoteUnavailable.message": ERROR_MESSAGE,
    "QuoteUnavailable.code": "QUOTE_NOT_FOUND, QUOTE_EXPIRED, QUOTE_USED or QUOTE_OTHER_CONNECTOR.",
    # -- drivers, sessions, bills ------------------------------------------------------------------
    "Driver": "A driver of the gateway's own user base: their credit, wallet, sessions and bills.",
    "Driver.id": "Global ID of the driver.",
    "Driver.name": "Display name; null when the driver has not given one.",
    "Driver.credit": "The driver's credit standing as the credit check sees it now.",
    "Driver.wallet": "Prepaid balance, at the currency's minor unit.",
    "Driver.sessions": "The driver's charging sessions, newest first.",
    "Driver.sessions(first)": PAGE_SIZE,
    "Driver.sessions(after)": CURSOR_PAGE,
    "Driver.bills": "The driver's bills, newest first.",
    "Driver.bills(first)": PAGE_SIZE,
    "Driver.bills(after)": CURSOR_PAGE,
    "CreditStatus": "What the credit check would decide for this driver now.",
    "CreditStatus.score": (
        "The credit bureau's score (higher is better; 600 and up can postpay by default); null when the "
        "bureau has none for the driver or cannot be reached."
    ),
    "CreditStatus.postpayEligible": "Whether a session could start POSTPAID now.",
    "ChargingSession": "One charge of a driver at a connector, from the start request to the bill.",
    "ChargingSession.id": "Global ID of the session.",
    "ChargingSession.status": "Where the session is: STARTING → CHARGING → STOPPING → COMPLETED, or FAILED.",
    "ChargingSession.paymentMode": "How the session is paid: after the fact (POSTPAID) or from the wallet.",
    "ChargingSession.energyKwh": "Energy delivered so far, kWh (final once COMPLETED).",
    "ChargingSession.cost": "Cost so far as the operator reports it, at the currency's minor unit.",
    "ChargingSession.powerKw": "Charging power at the latest report, kW; null before the first report.",
    "ChargingSession.startedAt": "When charging began (UTC); null while STARTING or when it never began.",
    "ChargingSession.connector": "The connector charged at.",
    "ChargingSession.bill": "The bill, once the operator's final order has arrived; null before.",
    "ChargingSessionConnection": "One page of a driver's sessions.",
    "ChargingSessionConnection.nodes": "The sessions of this page, newest first.",
    "ChargingSessionConnection.pageInfo": "Where this page is in the whole list.",
    "ChargingLimitInput": "Limits for one session; the gateway stops the session when one is reached.",
    "ChargingLimitInput.maxCost": (
        "Stop at this cost, in the connector's currency, at most 2 decimals; null for the credit check's cap."
    ),
    "ChargingLimitInput.maxEnergyKwh": "Stop after this much energy, kWh, at most 2 decimals; null: none.",
    "SessionStatus": "The life of a charging session.",
    "SessionStatus.STARTING": "Asked of the operator; not charging yet.",
    "SessionStatus.CHARGING": "Energy is flowing.",
    "SessionStatus.STOPPING": "A stop was asked for (or a limit reached); waiting for the operator.",
    "SessionStatus.COMPLETED": "Ended normally; the bill follows.",
    "SessionStatus.FAILED": "Did not start, or ended abnormally (see `failure`).",
    "PaymentMode": "How a session is paid.",
    "PaymentMode.POSTPAID": "Billed after the session, on credit (the credit check decides who may).",
    "PaymentMode.PREPAID": "Paid from the wallet as it goes; the session stops when the wallet is spent.",
    "Bill": "What a driver owes for one charging session.",
    "Bill.id": "Global ID of the bill.",
    "Bill.status": "Whether the bill is to be paid, paid, late, or under review.",
    "Bill.total": "What the driver owes, at the currency's minor unit.",
    "Bill.lines": "The billed items, as the operator itemised them (plus any ADJUSTMENT).",
    "Bill.dueAt": "When the bill falls due (UTC); unpaid after that it becomes OVERDUE.",
    "Bill.createdAt": "When the bill was made (UTC).",
    "Bill.paidAt": "When it was paid in full (UTC); null until then.",
    "BillStatus": "Where a bill stands.",
    "BillStatus.UNPAID": "To be paid by `dueAt`.",
    "BillStatus.PAID": "Paid in full.",
    "BillStatus.OVERDUE": "Not paid by `dueAt`; no new postpaid session until it is.",
    "BillStatus.DISPUTED": "The operator's total differs from ours; held for review, not payable yet.",
    "BillLine": "One item of a bill.",
    "BillLine.description": "What the item is, for people.",
    "BillLine.amount": "The item's amount, at the currency's minor unit (negative for a credit).",
    "BillLine.startsAt": "Start of the period the item covers (UTC); null for items without one.",
    "BillLine.endsAt": "End of the period the item covers (UTC); null for items without one.",
    "BillLine.energyKwh": "Energy the item is for, kWh; null for items not priced by energy.",
    "BillConnection": "One page of a driver's bills.",
    "BillConnection.nodes": "The bills of this page, newest first.",
    "BillConnection.pageInfo": "Where this page is in the whole list.",
    "Payment": "One attempt to pay a bill.",
    "Payment.amount": "The amount paid or attempted, at the currency's minor unit.",
    "Payment.method": "Where the money came from.",
    "Payment.status": "Whether the payment went through.",
    "Payment.providerReference": "The provider's reference; null for the wallet or before it answers.",
    "Payment.createdAt": "When the payment was made or attempted (UTC).",
    "PaymentMethod": "Where a payment's money comes from.",
    "PaymentMethod.WALLET": "The driver's prepaid wallet.",
    "PaymentMethod.PROVIDER": "The payment provider (the driver's card or payment app).",
    "PaymentStatus.PENDING": "The payment provider has not answered yet.",
    "PaymentStatus.SETTLED": "The money moved.",
    "PaymentStatus.FAILED": "Declined or failed; nothing moved.",
    "Refund": "Money given back for a payment.",
    "Refund.id": "The refund's id.",
    "Refund.amount": "The amount refunded, at the currency's minor unit.",
    "Refund.status": "Whether the refund went through.",
    "Refund.providerReference": "The provider's reference; null for the wallet or before it answers.",
    "DisputeResolution": "How an admin settles a DISPUTED bill.",
    "DisputeResolution.OPERATOR": "The operator's total stands.",
    "DisputeResolution.OURS": "Our recomputed total stands.",
    "DisputeResolution.CORRECTED": "A total the admin gives (`amount`).",
    # -- mutation inputs and results -----------------------------------------------------------------
    "StartChargingInput.connectorId": "The Connector to charge at; or give `qrCode`.",
    "StartChargingInput.qrCode": "The QR code printed on the pile, as scanned; or give `connectorId`.",
    "StartChargingInput.limit": "Limits for the session; null for the credit check's cap only.",
    "StartChargingResult": "The session started (or found again by its idempotency key), or why not.",
    "StopChargingInput": "Which session to stop.",
    "StopChargingInput.sessionId": "A ChargingSession id of the calling driver.",
    "StopChargingResult": "The session, now STOPPING (or already ended), or why it could not be stopped.",
    "PayBillInput": "Which bill to pay and how.",
    "PayBillInput.billId": "A Bill id of the calling driver.",
    "PayBillInput.method": "Pay from the wallet (default) or through the payment provider.",
    "PayBillInput.idempotencyKey": IDEMPOTENCY_KEY + " Optional.",
    "PayBillResult": "The bill, now PAID, or why it was not paid.",
    "TopUpWalletInput": "Money to add to the wallet through the payment provider.",
    "TopUpWalletInput.amount": "How much, in the wallet's currency: positive, at most 2 decimals and 10000.",
    "TopUpWalletInput.idempotencyKey": IDEMPOTENCY_KEY,
    "TopUpWalletResult": "The driver with the new balance, or why the money was not added.",
    "ResolveBillInput": "How to settle a DISPUTED bill (admin).",
    "ResolveBillInput.billId": "The Bill id.",
    "ResolveBillInput.resolution": "Which total stands.",
    "ResolveBillInput.idempotencyKey": IDEMPOTENCY_KEY,
    "ResolveBillResult": "The bill as settled, or why it was not.",
    "RefundPaymentInput": "What to refund (admin).",
    "RefundPaymentInput.paymentId": "The Payment id (a SETTLED payment).",
    "RefundPaymentInput.idempotencyKey": IDEMPOTENCY_KEY,
    "RefundPaymentResult": "The refund made, or why not.",
    "ResolveRailMismatchResult": "The mismatch as resolved, or why not.",
    # -- sign-in ------------------------------------------------------------------------------------
    "Mutation.signIn(input)": "The provider and the code its app gave.",
    "Mutation.refreshToken(input)": "The refresh token to spend.",
    "Mutation.signOut(input)": "The refresh token of the sign-in to end.",
    "Mutation.linkIdentity(input)": "The provider, and its code (ALIPAY, WECHAT) or access token (OIDC).",
    "SignInInput.provider": "Which provider's app gave the code.",
    "SignInInput.code": "The login code from the provider's app (single use, short-lived).",
    "SignInProvider.ALIPAY": "Alipay: the auth code of its mini-program login.",
    "SignInProvider.WECHAT": "WeChat: the code of its mini-program login.",
    "SignInResult": "New tokens for the driver, or why sign-in failed.",
    "AuthTokens.accessToken": "Send it as Authorization: Bearer <accessToken> (and in connection_init).",
    "AuthTokens.tokenType": "Always `Bearer`.",
    "AuthTokens.driver": "The driver signed in.",
    "RefreshTokenInput": "A refresh token from AuthTokens.",
    "RefreshTokenInput.refreshToken": "The refresh token, as AuthTokens gave it.",
    "SignOutResult": "Signed out, or why not.",
    "SignedOut": "The sign-in is over: its refresh token and access tokens no longer work.",
    "SignedOut.ok": "Always true.",
    "IdentityProvider.ALIPAY": "An Alipay user (by a code from the Alipay app).",
    "IdentityProvider.WECHAT": "A WeChat user (by a code from the WeChat app).",
    "IdentityProvider.OIDC": "An identity of the app's OpenID Connect provider (by its access token).",
    "LinkIdentityInput.provider": "Which identity to link.",
    "LinkIdentityInput.code": "The login code from the provider's app, for ALIPAY and WECHAT; else null.",
    "LinkIdentityInput.token": "An access token of the OIDC provider, for OIDC; else null.",
    "LinkIdentityResult": "The identity linked, or why not.",
    "IdentityLinked": "The identity now names the calling driver.",
    "IdentityLinked.driver": "The driver the identity was linked to.",
    "IdentityLinked.provider": "The provider of the linked identity.",
    "AuthFailed": "Sign-in, refresh, sign-out or linking was refused; nothing changed.",
    "AuthFailed.message": ERROR_MESSAGE,
    "AuthFailed.code": (
        "CODE_REJECTED, PROVIDER_UNAVAILABLE, PROVIDER_NOT_CONFIGURED, REFRESH_TOKEN_INVALID, "
        "REFRESH_TOKEN_EXPIRED, REFRESH_TOKEN_REVOKED, TOKEN_INVALID or IDENTITY_TAKEN."
    ),
    # -- how sessions end ----------------------------------------------------------------------------
    "SessionEndReason.DRIVER_STOP": "The driver stopped it: stopCharging, or at the pile.",
    "SessionEndReason.COST_CAP": "It was about to pass its cost cap (the driver's maxCost or postpay cap).",
    "SessionEndReason.BALANCE": "A prepaid session was about to pass the wallet balance.",
    "SessionEndReason.ENERGY_LIMIT": "It was about to pass the driver's maxEnergyKwh.",
    "SessionEndReason.VEHICLE": "The car ended it (battery full, unplugged).",
    "SessionEndReason.OPERATOR": "The operator ended it, for a reason of its own or none given.",
    "SessionEndReason.FAULT": "The charger or the operator failed during the session (see `failure`).",
    "SessionEndReason.START_FAILED": "The start was refused or charging never began (see `failure`).",
    "SessionEndReason.UNKNOWN": "It ended before the gateway recorded reasons.",
    # -- typed errors ------------------------------------------------------------------------------
    "Error.message": ERROR_MESSAGE,
    "Error.code": "A stable code for programs, e.g. NOT_FOUND.",
    "NotFound": "Nothing with that id (or QR code) that the caller may see.",
    "NotFound.message": ERROR_MESSAGE,
    "NotFound.code": "NOT_FOUND.",
    "InvalidInput": "An input value is out of range or malformed; nothing was done.",
    "InvalidInput.message": ERROR_MESSAGE,
    "InvalidInput.code": "INVALID_INPUT.",
    "InvalidInput.field": "The input field at fault, e.g. `idempotencyKey` or `limit.maxCost`.",
    "ConnectorUnavailable": "The connector cannot take a session now (occupied, faulted, offline).",
    "ConnectorUnavailable.message": ERROR_MESSAGE,
    "ConnectorUnavailable.code": "CONNECTOR_UNAVAILABLE.",
    "OperatorUnavailable": "The operator did not answer in time or refused; nothing was done.",
    "OperatorUnavailable.message": ERROR_MESSAGE,
    "OperatorUnavailable.code": "OPERATOR_UNAVAILABLE.",
    "OperatorUnavailable.operatorId": "The operator at fault; null when it cannot be named.",
    "CreditDenied": "The credit check refused the session; `unlock` says what would change that.",
    "CreditDenied.message": ERROR_MESSAGE,
    "CreditDenied.code": (
        "SCORE_TOO_LOW, NO_CREDIT_SCORE, OVERDUE_BILL, DEBT_LIMIT_REACHED, INSUFFICIENT_BALANCE or "
        "BUREAU_UNAVAILABLE."
    ),
    "CreditDenied.score": "The driver's credit score; null when the bureau has none or cannot be reached.",
    "InsufficientFunds": "The wallet holds less than the bill; nothing was paid.",
    "InsufficientFunds.message": ERROR_MESSAGE,
    "InsufficientFunds.code": "INSUFFICIENT_FUNDS.",
    "InsufficientFunds.balance": "The wallet's balance now.",
    "InsufficientFunds.required": "What the bill needs.",
    "PaymentDeclined": "The payment provider declined; nothing was paid.",
    "PaymentDeclined.message": ERROR_MESSAGE,
    "PaymentDeclined.code": "PAYMENT_DECLINED.",
    "IdempotencyConflict.message": ERROR_MESSAGE,
    "IdempotencyConflict.code": "IDEMPOTENCY_CONFLICT.",
    "Node.id": "The object's global ID: opaque, stable, and what `node(id:)` takes.",
}


def describe(schema: GraphQLSchema, descriptions: dict[str, str] = DESCRIPTIONS) -> None:
    """Give every element without a description the table's, in place (the code's own wins)."""
    for coordinate, element in elements(schema):
        if not element.description and coordinate in descriptions:
            element.description = descriptions[coordinate]


def elements(schema: GraphQLSchema) -> list[tuple[str, Any]]:
    """Every type, field, argument and enum value of ``schema`` that is ours to describe, by coordinate.
    Left out: GraphQL's own (introspection types, built-in scalars) and Apollo Federation's, which its
    specification describes (``_Any``, ``_Entity``, ``_Service``, ``_FieldSet``, ``link__*`` and the
    ``_entities``/``_service`` root fields)."""
    found: list[tuple[str, Any]] = []
    for name, gtype in sorted(schema.type_map.items()):
        if name.startswith("_") or name.startswith("link__") or name in BUILT_IN_SCALARS:
            continue
        found.append((name, gtype))
        if isinstance(gtype, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in gtype.fields.items():
                if field_name.startswith("_"):
                    continue
                found.append((f"{name}.{field_name}", field))
                for arg_name, arg in getattr(field, "args", {}).items():
                    found.append((f"{name}.{field_name}({arg_name})", arg))
        elif isinstance(gtype, GraphQLEnumType):
            found.extend((f"{name}.{value_name}", value) for value_name, value in gtype.values.items())
    return found
