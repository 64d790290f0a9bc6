"""The credit policy (docs/billing.md) as data, and :func:`decide`, a pure function of a driver's standing.

Default policy: a score of at least 600, no overdue bill and unpaid bills plus the caps of live
postpaid sessions under the score band's limit give POSTPAID, capped per session by the remaining
headroom and ``postpay_session_cap``; otherwise PREPAID when the wallet less the holds of live
prepaid sessions covers ``prepaid_min_balance`` (the session's budget is all of that);
otherwise DENIED with the reason.
A bureau that cannot answer means no postpay (fail closed); prepaid still works. A driver who asks
for PREPAID gets it whenever the wallet allows; one who asks for POSTPAID is never moved to prepaid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from gateway.rails.bureau.decision import Decision, DenialReason, Denied, PaymentMode, Postpaid, Prepaid

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ScoreBand:
    """Scores from ``min_score`` up (to the next band) may owe at most ``limit`` in unpaid bills."""

    min_score: int
    limit: Decimal


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    postpay_min_score: int = 600
    postpay_bands: tuple[ScoreBand, ...] = (
        ScoreBand(600, Decimal("200")),
        ScoreBand(680, Decimal("500")),
        ScoreBand(750, Decimal("1000")),
    )
    postpay_session_cap: Decimal = Decimal("300")
    prepaid_min_balance: Decimal = Decimal("20")
    currency: str = "CNY"

    def __post_init__(self) -> None:
        bands = self.postpay_bands
        if not bands:
            raise ValueError("postpay_bands: at least one band is needed")
        if any(a.min_score >= b.min_score for a, b in zip(bands, bands[1:], strict=False)):
            raise ValueError("postpay_bands: minimum scores must increase")
        if bands[0].min_score > self.postpay_min_score:
            raise ValueError("postpay_bands: the first band must start at or below postpay_min_score")
        for name, amount in [("postpay_bands", b.limit) for b in bands] + [
            ("postpay_session_cap", self.postpay_session_cap),
            ("prepaid_min_balance", self.prepaid_min_balance),
        ]:
            if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
                raise ValueError(f"{name}: amounts must be non-negative Decimals")
        if self.prepaid_min_balance <= 0:
            raise ValueError("prepaid_min_balance: must be positive (a prepaid session needs a budget)")
        if not self.currency:
            raise ValueError("currency must not be empty")

    def postpay_limit(self, score: int) -> Decimal | None:
        """The most a driver with ``score`` may owe while charging postpaid; None below every band."""
        limit = None
        for band in self.postpay_bands:
            if score >= band.min_score:
                limit = band.limit
        return limit

    def money(self, amount: Decimal) -> str:
        text = f"{amount.quantize(CENT):,}"
        return f"¥{text}" if self.currency == "CNY" else f"{text} {self.currency}"


def parse_bands(text: str) -> tuple[ScoreBand, ...]:
    """``"600:200,680:500,750:1000"`` → score bands (how the bands are written in settings)."""
    bands = []
    for item in text.split(","):
        score_text, sep, limit_text = item.strip().partition(":")
        try:
            if not sep:
                raise ValueError(item)
            bands.append(ScoreBand(int(score_text), Decimal(limit_text.strip())))
        except (ValueError, InvalidOperation):
            raise ValueError(f"postpay_bands: {item.strip()!r} is not MIN_SCORE:LIMIT") from None
    return tuple(bands)


def decide(
    score: int | None,
    bureau_ok: bool,
    has_overdue: bool,
    outstanding: Decimal,
    wallet_balance: Decimal,
    requested_mode: PaymentMode | None,
    policy: CreditPolicy,
    *,
    reserved: Decimal = Decimal(0),
    held: Decimal = Decimal(0),
) -> Decision:
    """How (and whether) a driver may charge. ``outstanding`` is the sum of unpaid bills,
    ``reserved`` the caps of live postpaid sessions, ``held`` the wallet holds of live prepaid ones."""
    amounts = {
        "outstanding": outstanding,
        "wallet_balance": wallet_balance,
        "reserved": reserved,
        "held": held,
    }
    for name, amount in amounts.items():
        if not isinstance(amount, Decimal):
            raise TypeError(f"{name} must be a Decimal, not {type(amount).__name__}")
    if outstanding < 0 or reserved < 0 or held < 0:
        raise ValueError("outstanding, reserved and held must not be negative")
    wallet_balance -= held
    outstanding += reserved
    top_up = max(Decimal(0), policy.prepaid_min_balance - wallet_balance).quantize(CENT, ROUND_CEILING)
    prepaid_ok = top_up == 0
    top_up_hint = f"top up at least {policy.money(top_up)} to charge prepaid"

    if requested_mode is PaymentMode.PREPAID:
        if prepaid_ok:
            return Prepaid(budget=wallet_balance)
        message = (
            f"Your wallet ({policy.money(wallet_balance)}) is below the "
            f"{policy.money(policy.prepaid_min_balance)} minimum for prepaid charging."
        )
        return Denied(DenialReason.INSUFFICIENT_BALANCE, message, score, top_up_hint, top_up)

    postpay = _postpay(score, bureau_ok, has_overdue, outstanding, policy, live=reserved > 0)
    if not isinstance(postpay, _Refusal):
        return Postpaid(cap=min(postpay, policy.postpay_session_cap))
    if requested_mode is PaymentMode.POSTPAID:
        alternative = "charge prepaid instead" if prepaid_ok else top_up_hint
        return Denied(postpay.reason, f"{postpay.why}.", score, postpay.unlock(alternative), top_up)
    if prepaid_ok:
        return Prepaid(budget=wallet_balance)
    message = (
        f"{postpay.why}, and your wallet ({policy.money(wallet_balance)}) is below the "
        f"{policy.money(policy.prepaid_min_balance)} prepaid minimum."
    )
    return Denied(postpay.reason, message, score, postpay.unlock(top_up_hint), top_up)


def postpay_limit(score: int | None, bureau_ok: bool, policy: CreditPolicy) -> Decimal:
    """The most this driver may owe at once while charging postpaid (0 without postpay)."""
    limit = policy.postpay_limit(score) if bureau_ok and score is not None else None
    return (
        limit if limit is not None and score is not None and score >= policy.postpay_min_score else Decimal(0)
    )


@dataclass(frozen=True, slots=True)
class _Refusal:
    """Why not postpay, and what the driver could do about it (None when only time helps)."""

    reason: DenialReason
    why: str
    fix: str | None = None

    def unlock(self, alternative: str) -> str:
        return f"{self.fix}, or {alternative}" if self.fix else alternative


def _postpay(
    score: int | None,
    bureau_ok: bool,
    has_overdue: bool,
    outstanding: Decimal,
    policy: CreditPolicy,
    live: bool = False,
) -> Decimal | _Refusal:
    """The postpay headroom (what may still be owed), or why there is none; ``live``: ``outstanding``
    includes the caps of live sessions."""
    if not bureau_ok:
        return _Refusal(
            DenialReason.BUREAU_UNAVAILABLE,
            "Postpay is unavailable because the credit bureau cannot be reached",
            "try postpay again in a few minutes",
        )
    if score is None:
        return _Refusal(DenialReason.NO_CREDIT_SCORE, "Postpay needs a credit score; the bureau has none")
    limit = policy.postpay_limit(score)
    if score < policy.postpay_min_score or limit is None:
        return _Refusal(
            DenialReason.SCORE_TOO_LOW,
            f"Postpay needs a credit score of at least {policy.postpay_min_score}; yours is {score}",
        )
    if has_overdue:
        why = "Postpay is blocked while you have an overdue bill"
        return _Refusal(DenialReason.OVERDUE_BILL, why, "pay your overdue bill")
    if outstanding >= limit:
        pay = (outstanding - limit + CENT).quantize(CENT, ROUND_CEILING)
        return _Refusal(
            DenialReason.DEBT_LIMIT_REACHED,
            f"Your unpaid bills{' and live sessions' if live else ''} ({policy.money(outstanding)}) reach "
            f"your postpay limit of {policy.money(limit)}",
            f"pay at least {policy.money(pay)} of your unpaid bills"
            + (" or let a live session finish" if live else ""),
        )
    return limit - outstanding
