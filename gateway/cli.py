"""The ``chargegate`` command line.

chargegate serve [--demo] [--config FILE] [--host H] [--port P]
    Run the gateway. --demo embeds the built-in operator simulators (no external services).
chargegate export-schema [--output schema.graphql]
    Write the GraphQL schema (SDL) exported from the code.
chargegate simulate tcec|ocpi [flags]
    Run one operator simulator standalone, for building against it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from gateway.config import ConfigError, Settings, load
from operators import registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="chargegate", description="One GraphQL API over every EV-charging operator."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", help="TOML settings file")
    serve.add_argument("--demo", action="store_true", help="embed the built-in operator simulators")
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default 8000)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    export = commands.add_parser("export-schema", help="write schema.graphql")
    export.add_argument("--output", default="schema.graphql", help="file to write ('-' for stdout)")

    simulate = commands.add_parser("simulate", help="run one operator simulator standalone")
    protocols = simulate.add_subparsers(dest="protocol", required=True)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulate"]:  # import the simulators only when they are asked for
        for protocol, help_text in (("tcec", "a T/CEC 102 operator"), ("ocpi", "an OCPI 2.2.1 CPO")):
            registry.simulator_cli(protocol).add_arguments(protocols.add_parser(protocol, help=help_text))

    args = parser.parse_args(argv)
    if args.command == "export-schema":
        return export_schema(args.output)
    if args.command == "simulate":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(registry.simulator_cli(args.protocol).run(args))
        return 0
    return serve_command(args)


def export_schema(output: str) -> int:
    from resolvers.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if output == "-":
        sys.stdout.write(sdl)
    else:
        Path(output).write_text(sdl, encoding="utf-8")
        print(f"wrote {output}")
    return 0


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import create_app
    from gateway.server import KEEP_ALIVE_S

    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load(args.config, host=args.host, port=args.port, mode="demo" if args.demo else None)
    except ConfigError as exc:
        print(f"chargegate: {exc}", file=sys.stderr)
        return 2
    app = create_app(settings, extra_lifespan=demo_operators if settings.demo else None)
    print(
        f"chargegate: GraphQL at http://{settings.gateway.host}:{settings.gateway.port}/graphql", flush=True
    )
    uvicorn.run(
        app,
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_level=args.log_level,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    return 0


@contextlib.asynccontextmanager
async def demo_operators(settings: Settings) -> AsyncIterator[Settings]:
    """Start the demo simulators and add them to the configured operators."""
    from operators import demo

    async with demo.running(settings.public_url) as configs:
        yield settings.with_operators(tuple(settings.operators) + tuple(configs))


if __name__ == "__main__":
    raise SystemExit(main())
