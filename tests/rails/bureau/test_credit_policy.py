"""The credit policy, table-driven: bands and their edges, balances, overdue bills, bureau down, modes."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from gateway.rails.bureau.decision import DenialReason, Denied, PaymentMode, Postpaid, Prepaid
from gateway.rails.bureau.demo import DEMO_DRIVERS
from gateway.rails.bureau.policy import CreditPolicy, ScoreBand, decide, parse_bands, postpay_limit

POLICY = CreditPolicy()
AUTO, POST, PRE = None, PaymentMode.POSTPAID, PaymentMode.PREPAID
R = DenialReason


def _decide(score, wallet="0", outstanding="0", overdue=False, bureau_ok=True, mode=AUTO, policy=POLICY):
    return decide(score, bureau_ok, overdue, D(outstanding), D(wallet), mode, policy)


@pytest.mark.parametrize(
    ("score", "cap"),
    [
        (600, "200"),  # band 600-679: limit ¥200, under the ¥300 session cap
        (601, "200"),
        (679, "200"),
        (680, "300"),  # band 680-749: limit ¥500, capped per session at ¥300
        (749, "300"),
        (750, "300"),  # band >= 750: limit ¥1000
        (850, "300"),
    ],
)
def test_postpay_cap_by_band(score, cap):
    assert _decide(score) == Postpaid(D(cap))


@pytest.mark.parametrize(
    ("score", "outstanding", "expected"),
    [
        (600, "0.00", Postpaid(D("200"))),
        (600, "150", Postpaid(D("50"))),
        (600, "199.99", Postpaid(D("0.01"))),
        (600, "200", R.DEBT_LIMIT_REACHED),
        (600, "250", R.DEBT_LIMIT_REACHED),
        (700, "199.99", Postpaid(D("300"))),  # headroom 300.01, session cap 300
        (700, "200.01", Postpaid(D("299.99"))),
        (700, "499.99", Postpaid(D("0.01"))),
        (700, "500", R.DEBT_LIMIT_REACHED),
        (800, "650", Postpaid(D("300"))),
        (800, "900", Postpaid(D("100"))),
        (800, "1000", R.DEBT_LIMIT_REACHED),
    ],
)
def test_outstanding_debt_against_the_band_limit(score, outstanding, expected):
    decision = _decide(score, outstanding=outstanding)
    if isinstance(expected, DenialReason):
        assert isinstance(decision, Denied) and decision.reason_code is expected
    else:
        assert decision == expected


@pytest.mark.parametrize(
    ("score", "wallet", "overdue", "bureau_ok", "expected"),
    [
        (599, "0", False, True, R.SCORE_TOO_LOW),
        (599, "19.99", False, True, R.SCORE_TOO_LOW),
        (599, "20", False, True, Prepaid(D("20"))),  # exactly the minimum balance
        (599, "20.00", False, True, Prepaid(D("20.00"))),
        (300, "1000", False, True, Prepaid(D("1000"))),
        (None, "0", False, True, R.NO_CREDIT_SCORE),
        (None, "50", False, True, Prepaid(D("50"))),
        (720, "0", True, True, R.OVERDUE_BILL),
        (720, "20", True, True, Prepaid(D("20"))),  # overdue blocks postpay, not prepaid
        (850, "0", False, False, R.BUREAU_UNAVAILABLE),  # fail closed, whatever a stale score said
        (None, "0", False, False, R.BUREAU_UNAVAILABLE),
        (None, "19.99", False, False, R.BUREAU_UNAVAILABLE),
        (None, "20", False, False, Prepaid(D("20"))),  # bureau down: prepaid still works
        (720, "20", True, False, Prepaid(D("20"))),
        (600, "-5", False, True, Postpaid(D("200"))),  # a negative wallet does not matter to postpay
        (599, "-5", False, True, R.SCORE_TOO_LOW),
    ],
)
def test_automatic_choice(score, wallet, overdue, bureau_ok, expected):
    decision = _decide(score, wallet=wallet, overdue=overdue, bureau_ok=bureau_ok)
    if isinstance(expected, DenialReason):
        assert isinstance(decision, Denied) and decision.reason_code is expected
        assert decision.score == score
    else:
        assert decision == expected


@pytest.mark.parametrize(
    ("score", "wallet", "overdue", "bureau_ok", "mode", "expected"),
    [
        (800, "30", False, True, PRE, Prepaid(D("30"))),  # asked for prepaid: gets it despite a good score
        (800, "20", False, True, PRE, Prepaid(D("20"))),
        (800, "19.99", False, True, PRE, R.INSUFFICIENT_BALANCE),  # never silently postpaid
        (None, "0", False, False, PRE, R.INSUFFICIENT_BALANCE),
        (None, "25", False, False, PRE, Prepaid(D("25"))),
        (720, "0", False, True, POST, Postpaid(D("300"))),
        (599, "100", False, True, POST, R.SCORE_TOO_LOW),  # asked for postpay: never moved to the wallet
        (720, "100", True, True, POST, R.OVERDUE_BILL),
        (720, "100", False, False, POST, R.BUREAU_UNAVAILABLE),
        (None, "100", False, True, POST, R.NO_CREDIT_SCORE),
    ],
)
def test_explicit_mode(score, wallet, overdue, bureau_ok, mode, expected):
    decision = _decide(score, wallet=wallet, overdue=overdue, bureau_ok=bureau_ok, mode=mode)
    if isinstance(expected, DenialReason):
        assert isinstance(decision, Denied) and decision.reason_code is expected
    else:
        assert decision == expected
        assert decision.mode is mode


@pytest.mark.parametrize(
    ("kwargs", "unlock", "top_up"),
    [
        ({"score": 480}, "top up at least ¥20.00 to charge prepaid", "20.00"),
        ({"score": 480, "wallet": "12.345"}, "top up at least ¥7.66 to charge prepaid", "7.66"),  # rounds up
        (
            {"score": 720, "overdue": True},
            "pay your overdue bill, or top up at least ¥20.00 to charge prepaid",
            "20",
        ),
        (
            {"score": 700, "outstanding": "612.50", "wallet": "5"},
            "pay at least ¥112.51 of your unpaid bills, or top up at least ¥15.00 to charge prepaid",
            "15",
        ),
        (
            {"score": 720, "bureau_ok": False},
            "try postpay again in a few minutes, or top up at least ¥20.00 to charge prepaid",
            "20",
        ),
        ({"score": 800, "mode": PRE, "wallet": "1"}, "top up at least ¥19.00 to charge prepaid", "19"),
        ({"score": 500, "mode": POST, "wallet": "50"}, "charge prepaid instead", "0"),
        (
            {"score": 720, "mode": POST, "overdue": True, "wallet": "50"},
            "pay your overdue bill, or charge prepaid instead",
            "0",
        ),
    ],
)
def test_denials_say_what_would_unlock_charging(kwargs, unlock, top_up):
    decision = _decide(**kwargs)
    assert isinstance(decision, Denied)
    assert decision.unlock == unlock and decision.top_up == D(top_up)


def test_denial_messages():
    bob = _decide(480)
    assert bob == Denied(
        R.SCORE_TOO_LOW,
        "Postpay needs a credit score of at least 600; yours is 480, and your wallet (¥0.00) is below the "
        "¥20.00 prepaid minimum.",
        480,
        "top up at least ¥20.00 to charge prepaid",
        D("20.00"),
    )
    assert _decide(800, wallet="3", mode=PRE).message == (
        "Your wallet (¥3.00) is below the ¥20.00 minimum for prepaid charging."
    )
    assert _decide(700, outstanding="1234.5", mode=POST).message == (
        "Your unpaid bills (¥1,234.50) reach your postpay limit of ¥500.00."
    )
    assert "bureau cannot be reached" in _decide(None, bureau_ok=False).message


@pytest.mark.parametrize("driver", DEMO_DRIVERS, ids=lambda d: d.driver_id)
def test_demo_drivers_get_what_the_design_promises(driver):
    decision = _decide(driver.score, wallet=str(driver.wallet))
    expected = {"POSTPAID": Postpaid, "PREPAID": Prepaid, "DENIED": Denied}[driver.expected]
    assert isinstance(decision, expected)
    if driver.driver_id == "carol":
        assert decision == Prepaid(D("200.00"))


def test_live_sessions_count_against_the_limit_and_the_wallet():
    assert decide(720, True, False, D(100), D(0), None, POLICY, reserved=D(300)) == Postpaid(D(100))
    full = decide(720, True, False, D(200), D(0), PaymentMode.POSTPAID, POLICY, reserved=D(300))
    assert isinstance(full, Denied) and full.reason_code is DenialReason.DEBT_LIMIT_REACHED
    assert "unpaid bills and live sessions (¥500.00)" in full.message and "live session" in full.unlock
    assert decide(520, True, False, D(0), D(200), None, POLICY, held=D(150)) == Prepaid(D(50))
    short = decide(520, True, False, D(0), D(200), PaymentMode.PREPAID, POLICY, held=D(190))
    assert isinstance(short, Denied) and short.reason_code is DenialReason.INSUFFICIENT_BALANCE
    with pytest.raises(ValueError):
        decide(720, True, False, D(0), D(0), None, POLICY, reserved=D(-1))


def test_postpay_limit():
    assert [postpay_limit(s, True, POLICY) for s in (None, 599, 600, 680, 750)] == [0, 0, 200, 500, 1000]
    assert postpay_limit(800, False, POLICY) == 0  # the bureau did not answer


def test_a_custom_policy():
    policy = CreditPolicy(
        postpay_min_score=650,
        postpay_bands=parse_bands("600:100, 700:400"),
        postpay_session_cap=D("150"),
        prepaid_min_balance=D("50"),
        currency="EUR",
    )
    assert isinstance(_decide(649, policy=policy), Denied)
    assert _decide(650, policy=policy) == Postpaid(D("100"))
    assert _decide(700, policy=policy) == Postpaid(D("150"))
    assert _decide(500, wallet="50", policy=policy) == Prepaid(D("50"))
    assert _decide(500, wallet="49", policy=policy).unlock == "top up at least 1.00 EUR to charge prepaid"


def test_money_must_be_decimal():
    with pytest.raises(TypeError, match="wallet_balance must be a Decimal"):
        decide(700, True, False, D(0), 20.0, None, POLICY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="outstanding"):
        decide(700, True, False, 0, D(0), None, POLICY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        decide(700, True, False, D("-1"), D(0), None, POLICY)


def test_parse_bands():
    assert parse_bands("600:200,680:500,750:1000") == POLICY.postpay_bands
    assert parse_bands(" 600 : 200.50 ") == (ScoreBand(600, D("200.50")),)
    for bad in ("", "600", "600:lots", "x:200", "600:200,"):
        with pytest.raises(ValueError, match="MIN_SCORE:LIMIT"):
            parse_bands(bad)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"postpay_bands": ()}, "at least one band"),
        ({"postpay_bands": (ScoreBand(680, D(1)), ScoreBand(600, D(2)))}, "increase"),
        ({"postpay_bands": (ScoreBand(600, D(1)), ScoreBand(600, D(2)))}, "increase"),
        ({"postpay_bands": (ScoreBand(650, D(1)),)}, "first band"),
        ({"postpay_bands": (ScoreBand(600, D(-1)),)}, "non-negative"),
        ({"postpay_session_cap": D("NaN")}, "non-negative"),
        ({"postpay_session_cap": 300.0}, "Decimal"),
        ({"prepaid_min_balance": D(0)}, "positive"),
        ({"currency": ""}, "currency"),
    ],
)
def test_policy_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CreditPolicy(**kwargs)


def test_postpay_limit_by_band():
    assert [POLICY.postpay_limit(s) for s in (599, 600, 679, 680, 749, 750)] == [
        None, D(200), D(200), D(500), D(500), D(1000)
    ]  # fmt: skip
