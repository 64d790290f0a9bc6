"""``python -m bench [--quick] [--only search,upstream,catalogue] [--out DIR]`` (``make bench``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import report
from bench.config import FULL, TINY
from bench.run import RESULTS, SECTIONS, run
from gateway.app.server import default_stack


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short round of everything (a smoke run)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where latest.md/.png/.json go")
    args = parser.parse_args()
    sections = tuple(s for s in args.only.split(",") if s)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    # The load generator runs on the production stack's event loop too (uvloop when installed).
    results = default_stack().run(run(TINY if args.quick else FULL, args.out, sections))
    print()
    print(results["markdown"])
    print("\n".join(report.verdicts(results)))
    print(f"Written to {args.out}/latest.md and latest.png")


if __name__ == "__main__":
    main()
