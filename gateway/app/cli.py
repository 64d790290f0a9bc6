"""The ``chargegate`` command line.

chargegate serve [--demo] [--config FILE] [--host H] [--port P] [--log-format json|text]
    Run the gateway. --demo embeds the built-in operator simulators (no external services).
chargegate export-schema [--federation] [--output FILE]
    Write the GraphQL schema (SDL) exported from the code: our public API (schema.graphql), or
    with --federation the Apollo Federation 2 subgraph schema a router composes (subgraph.graphql).
chargegate ledger check [--config FILE]
    Verify the ledger's invariants (wallets, holds, payments, bills); exit 1 listing each finding.
chargegate ledger rails [--config FILE]
    Compare what the credit rails (Alipay, WeChat Pay) collected with the ledger; exit 1 per mismatch.
chargegate simulate tcec|ocpi|credit|alipay|wechatpay [flags]
    Run one simulator standalone (an operator, the credit bureau or a payment rail), to build against it.
chargegate simulate alipay-code|wechat-code USER
    Print a sign-in code the Alipay or WeChat simulator exchanges for USER (for signIn; docs/deployment.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from gateway.settings.load import ConfigError, Settings, load
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
    serve.add_argument(
        "--log-format",
        choices=["json", "text"],
        help="json: one object per line with the request id (default in production); text (demo, dev)",
    )

    export = commands.add_parser("export-schema", help="write schema.graphql (or subgraph.graphql)")
    export.add_argument(
        "--federation", action="store_true", help="the federation subgraph SDL, as _service { sdl } answers"
    )
    export.add_argument(
        "--output", help="file to write ('-' for stdout; default schema.graphql/subgraph.graphql)"
    )

    token = commands.add_parser("token", help="print a bearer token for a driver")
    token.add_argument("driver", metavar="DRIVER", help="driver id, e.g. alice")
    token.add_argument("--config", help="TOML settings file (default: the demo key)")
    token.add_argument("--ttl", type=int, help="validity in seconds (default: auth.token_ttl_s)")

    ledger = commands.add_parser("ledger", help="check the billing ledger")
    ledger.add_argument("action", choices=["check", "rails"])
    ledger.add_argument("--config", help="TOML settings file (for ledger.database_url)")

    apikey = commands.add_parser("apikey", help="create an API key for a third-party or internal client")
    apikey.add_argument("action", choices=["create"])
    apikey.add_argument("--name", required=True, help="who the key is for")
    apikey.add_argument(
        "--scopes",
        default="stations:read",
        help="comma-separated: stations:read, drivers:act, router, admin",
    )
    apikey.add_argument("--config", help="TOML settings file (for security.key_hash_secret)")

    simulate = commands.add_parser(
        "simulate", help="run one simulator standalone (an operator or the credit bureau)"
    )
    protocols = simulate.add_subparsers(dest="protocol", required=True)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulate"]:  # import the simulators only when they are asked for
        for protocol in registry.simulators():
            module = registry.simulator_cli(protocol)
            module.add_arguments(protocols.add_parser(protocol, help=getattr(module, "HELP", None)))
        from gateway.rails.bureau.sim import cli as credit_cli

        credit_cli.add_arguments(protocols.add_parser("credit", help="a credit bureau"))
        for rail, help_text in RAIL_SIMULATORS.items():
            _rail_cli(rail).add_arguments(protocols.add_parser(rail, help=help_text))
        from gateway.identity import code_cli

        for name, help_text in code_cli.COMMANDS.items():
            code_cli.add_arguments(protocols.add_parser(name, help=help_text))

    args = parser.parse_args(argv)
    if args.command == "export-schema":
        return export_schema(args.output, federation=args.federation)
    if args.command == "simulate":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if args.protocol == "credit":
            from gateway.rails.bureau.sim import cli as module
        elif args.protocol in RAIL_SIMULATORS:
            module = _rail_cli(args.protocol)
        elif args.protocol.endswith("-code"):
            from gateway.identity import code_cli as module
        else:
            module = registry.simulator_cli(args.protocol)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(module.run(args))
        return 0
    if args.command == "token":
        return token_command(args)
    if args.command == "ledger":
        return rails_command(args) if args.action == "rails" else ledger_command(args)
    if args.command == "apikey":
        return apikey_command(args)
    return serve_command(args)


RAIL_SIMULATORS = {"alipay": "Alipay's open platform", "wechatpay": "WeChat Pay API v3 with pay score"}


def _rail_cli(rail: str) -> ModuleType:
    """The ``simulate`` module of a payment rail (imported only when asked for)."""
    return importlib.import_module(f"gateway.rails.{rail}.sim.cli")


def export_schema(output: str | None, *, federation: bool = False) -> int:
    from resolvers.schema import build_schema, subgraph_sdl

    schema = build_schema()
    sdl = (subgraph_sdl(schema) if federation else schema.as_str()) + "\n"
    output = output or ("subgraph.graphql" if federation else "schema.graphql")
    if output == "-":
        sys.stdout.write(sdl)
    else:
        Path(output).write_text(sdl, encoding="utf-8")
        print(f"wrote {output}")
    return 0


def _settings_or_exit(path: str | None) -> Settings | None:
    try:
        return load(path)
    except ConfigError as exc:
        print(f"chargegate: {exc}", file=sys.stderr)
        return None


def token_command(args: argparse.Namespace) -> int:
    from gateway.app.demo import demo_auth_key
    from gateway.identity.bearer import issue_token

    settings = _settings_or_exit(args.config)
    if settings is None:
        return 2
    if not settings.auth.jwt_key:
        print("chargegate: no auth.jwt_key configured; signing with the public demo key", file=sys.stderr)
    auth = settings.auth
    print(
        issue_token(
            args.driver,
            demo_auth_key(settings),
            ttl_s=args.ttl or auth.token_ttl_s,
            issuer=auth.issuer or None,
            audience=auth.audience or None,
        )
    )
    return 0


def ledger_command(args: argparse.Namespace) -> int:
    from gateway.store import open_store

    settings = _settings_or_exit(args.config)
    if settings is None:
        return 2

    async def check() -> list[str]:
        store = await open_store(settings.ledger.database_url)
        try:
            return await store.check_ledger()
        finally:
            await store.close()

    findings = asyncio.run(check())
    for finding in findings:
        print(finding)
    print(f"ledger check: {len(findings)} finding(s)" if findings else "ledger check: OK", file=sys.stderr)
    return 1 if findings else 0


def rails_command(args: argparse.Namespace) -> int:
    import aiohttp

    from gateway.app.money import rail_billing
    from gateway.store import open_store

    settings = _settings_or_exit(args.config)
    if settings is None:
        return 2

    async def check() -> list[str] | None:
        store = await open_store(settings.ledger.database_url)
        try:
            async with aiohttp.ClientSession() as http:
                rails = rail_billing(settings, http, store)
                if rails is None:
                    return None
                await rails.check_collections()  # keeps what it finds, resolves what went away
                return [_mismatch_line(m) for m in await store.mismatches(open_only=True, limit=1000)]
        finally:
            await store.close()

    findings = asyncio.run(check())
    if findings is None:
        print("chargegate: no credit rail is configured ([alipay], [wechatpay])", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    print(
        f"rails check: {len(findings)} open mismatch(es)" if findings else "rails check: OK", file=sys.stderr
    )
    return 1 if findings else 0


def _mismatch_line(m: Any) -> str:
    """One open mismatch kept in the ledger, as ``chargegate ledger rails`` prints it."""
    seen = f"seen {m.first_seen_at:%Y-%m-%d %H:%M}..{m.last_seen_at:%Y-%m-%d %H:%M}Z"
    ours, theirs = ("-" if a is None else f"{a:.2f}" for a in (m.ours, m.theirs))
    return f"{m.id} {m.rail} {m.reference} {m.kind} ours={ours} theirs={theirs} {seen} {m.detail}"


def apikey_command(args: argparse.Namespace) -> int:
    from gateway.security.apikeys import create_key

    settings = _settings_or_exit(args.config)
    if settings is None:
        return 2
    if not settings.security.key_hash_secret:
        print("chargegate: security.key_hash_secret must be set (from the environment)", file=sys.stderr)
        return 2
    try:
        new = create_key(
            [s.strip() for s in args.scopes.split(",") if s.strip()],
            settings.security.key_hash_secret,
            name=args.name,
        )
    except ValueError as exc:
        print(f"chargegate: {exc}", file=sys.stderr)
        return 2
    print(f"API key (shown once, store it now): {new.key}", file=sys.stderr)
    print(new.toml())
    return 0


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app.asgi import create_app
    from gateway.app.demo import demo_lifespan, with_demo_admin_key
    from gateway.app.server import KEEP_ALIVE_S, default_stack
    from gateway.observability import logs, tracing

    try:
        settings = load(args.config, host=args.host, port=args.port, mode="demo" if args.demo else None)
        settings = with_demo_admin_key(settings)
    except ConfigError as exc:
        print(f"chargegate: {exc}", file=sys.stderr)
        return 2
    log_format = args.log_format or ("json" if settings.gateway.mode == "production" else "text")
    logs.install(log_format, getattr(logging, args.log_level.upper()))
    tracing.install(settings.tracing)  # imports OpenTelemetry only when [tracing] enabled
    app = create_app(settings, extra_lifespan=demo_lifespan if settings.demo else None)
    stack = default_stack()  # uvloop + httptools when installed (measured by make bench)
    print(
        f"chargegate: GraphQL at http://{settings.gateway.host}:{settings.gateway.port}/graphql"
        f" ({stack.name})",
        flush=True,
    )
    uvicorn.run(
        app,
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_level=args.log_level,
        log_config=None,  # uvicorn's loggers propagate to ours (JSON or text, with request ids)
        timeout_keep_alive=KEEP_ALIVE_S,
        loop=stack.loop,
        http=stack.http,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
