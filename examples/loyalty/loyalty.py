"""An example subgraph composed with chargegate: drivers' loyalty points and favourite stations.

It owns two fields of chargegate's entities — ``Driver.loyaltyPoints`` and
``Driver.favouriteStations`` — and ``Station.favouriteCount``, and knows the entities only by
their ``id`` key (chargegate's global IDs, which it stores as opaque strings). Its data is a JSON
file::

    {"drivers": {"<Driver id>": {"points": 120, "favourites": ["<Station id>", ...]}}}

Run it with ``python examples/loyalty/loyalty.py --data loyalty.json --port 4001``; see
docs/federation.md for composing it with chargegate behind a router.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.types import Info


@dataclass(frozen=True)
class Member:
    points: int
    favourites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Loyalty:
    members: dict[str, Member] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Loyalty:
        return cls(
            {
                driver_id: Member(int(m.get("points", 0)), tuple(m.get("favourites", ())))
                for driver_id, m in data.get("drivers", {}).items()
            }
        )


def _loyalty(info: Info) -> Loyalty:
    return info.context["loyalty"]  # type: ignore[no-any-return]


@strawberry.federation.type(keys=["id"])
class Station:
    id: strawberry.ID

    @strawberry.field(description="How many members keep this station among their favourites.")
    def favourite_count(self, info: Info) -> int:
        return sum(self.id in m.favourites for m in _loyalty(info).members.values())

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Station:
        return cls(id=id)


@strawberry.federation.type(keys=["id"])
class Driver:
    id: strawberry.ID

    @strawberry.field(description="Points collected; 0 for a driver who has not joined.")
    def loyalty_points(self, info: Info) -> int:
        member = _loyalty(info).members.get(self.id)
        return member.points if member else 0

    @strawberry.field(description="The stations this driver marked as favourites.")
    def favourite_stations(self, info: Info) -> list[Station]:
        member = _loyalty(info).members.get(self.id)
        return [Station(id=strawberry.ID(s)) for s in member.favourites] if member else []

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Driver:
        return cls(id=id)


@strawberry.type
class Query:
    @strawberry.field(description="Members with the most points, most first.")
    def top_drivers(self, info: Info, first: int = 3) -> list[Driver]:
        ranked = sorted(_loyalty(info).members.items(), key=lambda item: -item[1].points)
        return [Driver(id=strawberry.ID(driver_id)) for driver_id, _ in ranked[: max(0, min(first, 100))]]


schema = strawberry.federation.Schema(query=Query, types=[Driver, Station], federation_version="2.5")


class LoyaltyGraphQL(GraphQL):
    def __init__(self, loyalty: Loyalty) -> None:
        super().__init__(schema, graphql_ide=None)
        self.loyalty = loyalty

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"request": request, "loyalty": self.loyalty}


def create_app(loyalty: Loyalty) -> Starlette:
    return Starlette(routes=[Route("/graphql", LoyaltyGraphQL(loyalty), methods=["GET", "POST"])])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the members' JSON file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4001)
    args = parser.parse_args()
    loyalty = Loyalty.from_json(json.loads(args.data.read_text(encoding="utf-8")))
    uvicorn.run(create_app(loyalty), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
