"""``chargegate simulate credit``: run the credit-bureau simulator standalone.

The lead's CLI calls :func:`add_arguments` on the ``credit`` sub-parser and awaits :func:`run` with
the parsed namespace. Defaults give the demo bureau on 127.0.0.1:9501 knowing alice (720), bob (480)
and carol (520); ``--score DRIVER=SCORE`` adds or overrides drivers. The API key is never printed.
"""

from __future__ import annotations

import argparse
import asyncio

from gateway.rails.bureau.demo import demo_scores
from gateway.rails.bureau.provider import SCORE_MAX, SCORE_MIN
from gateway.rails.bureau.sim.config import DEFAULT_API_KEY
from gateway.rails.bureau.sim.server import BureauConfig, BureauFaults, CreditBureauSimulator
from operators.sim.args import bounded, rate

DEFAULT_PORT = 9501


def _score(text: str) -> tuple[str, int]:
    driver_id, sep, score_text = text.rpartition("=")
    try:
        score = int(score_text)
    except ValueError:
        score = -1
    if not sep or not driver_id or not SCORE_MIN <= score <= SCORE_MAX:
        raise argparse.ArgumentTypeError(f"must be DRIVER=SCORE with SCORE in {SCORE_MIN}..{SCORE_MAX}")
    return driver_id, score


def _api_key(text: str) -> str:
    if not text or not text.isprintable() or " " in text:
        raise argparse.ArgumentTypeError("must be a non-empty string without spaces")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate credit`` flags to ``parser``."""
    bureau = parser.add_argument_group("bureau")
    bureau.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    bureau.add_argument("--port", type=bounded(0, 65535, int), default=DEFAULT_PORT, help="0 = ephemeral")
    bureau.add_argument("--api-key", type=_api_key, default=DEFAULT_API_KEY,
                        help="bearer key clients must present (default: the public demo key)")  # fmt: skip
    bureau.add_argument("--seed", type=int, default=1, help="seeds derived scores and fault dice")
    bureau.add_argument("--score", type=_score, action="append", default=[], metavar="DRIVER=SCORE",
                        help="a driver's score (repeatable; added to the demo drivers)")  # fmt: skip
    bureau.add_argument("--no-demo-drivers", action="store_true", help="start without alice, bob and carol")
    bureau.add_argument("--table-only", action="store_true",
                        help="drivers outside the table are unknown (404), not derived")  # fmt: skip
    faults = parser.add_argument_group("fault injection (rates are probabilities 0..1)")
    faults.add_argument("--latency-ms", type=bounded(0.0), default=0.0)
    faults.add_argument("--error-rate", type=rate, default=0.0, help="answer HTTP 500")
    faults.add_argument("--timeout-rate", type=rate, default=0.0, help="never answer")
    faults.add_argument("--down", action="store_true", help="answer HTTP 503 to everything")


def config_from_args(args: argparse.Namespace) -> BureauConfig:
    scores = {} if args.no_demo_drivers else demo_scores()
    scores.update(dict(args.score))
    return BureauConfig(
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        seed=args.seed,
        scores=scores,
        derive_unknown=not args.table_only,
        faults=BureauFaults(
            latency_ms=args.latency_ms,
            error_rate=args.error_rate,
            timeout_rate=args.timeout_rate,
            down=args.down,
        ),
    )


async def run(args: argparse.Namespace) -> None:
    """Start the simulator, say where it listens, and serve until cancelled (Ctrl-C)."""
    async with CreditBureauSimulator(config_from_args(args)) as sim:
        table = ", ".join(f"{d}={s}" for d, s in sorted(sim.config.scores.items())) or "(empty)"
        others = "unknown (404)" if args.table_only else f"derived from seed {sim.config.seed}"
        print(f"Credit bureau simulator listening on {sim.base_url}", flush=True)
        print(
            f"  GET {sim.base_url}/v1/scores/{{driver_id}}  (Authorization: Bearer <api key>; key not shown)"
        )
        print(f"  scores: {table}; other drivers: {others}")
        print(f"  admin: {sim.base_url}/_sim/faults  {sim.base_url}/_sim/scores/{{driver_id}}", flush=True)
        await asyncio.Event().wait()
