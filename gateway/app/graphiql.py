"""GraphiQL served by the gateway itself (demo and dev modes): the page and its assets.

The assets (React, ReactDOM, GraphiQL and its CSS, the graphql-ws client) are vendored in
``gateway/app/static/graphiql/`` at pinned versions with their licences, by
``scripts/vendor-graphiql.sh``; nothing is loaded from a CDN, so GraphiQL works offline. The page
is served at ``/graphql`` (to a browser) and loads ``graphiql/…`` relative to it, which this mount
answers, so it also works behind a path prefix.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"


@cache
def _page() -> str:
    return (ASSETS / "index.html").read_text(encoding="utf-8")


def page() -> HTMLResponse:
    return HTMLResponse(_page())


def assets() -> Mount:
    return Mount("/graphiql", app=StaticFiles(directory=ASSETS), name="graphiql")
