"""The GraphQL documents the benchmark sends, and their variables."""

from __future__ import annotations

from typing import Any

from bench.stack import HANGZHOU

SEARCH = """
query Search($near: GeoPointInput!, $radiusKm: Float!, $first: Int!) {
  stations(near: $near, radiusKm: $radiusKm, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      distanceKm
      node {
        id
        name
        address
        operator { id name }
        location { lat lon }
        connectors {
          id
          type
          powerType
          maxPowerKw
          status
          statusUpdatedAt
          currentPrice { totalPerKwh { amount currency } }
        }
      }
    }
  }
}
"""

EVERY_FIELD = """
query Everything($near: GeoPointInput!, $radiusKm: Float!, $first: Int!) {
  stations(near: $near, radiusKm: $radiusKm, first: $first) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      distanceKm
      node {
        __typename
        id
        name
        address
        operator { id name protocol }
        location { lat lon }
        tariff {
          currency
          timezone
          periods {
            startTime
            energyPerKwh { amount currency }
            servicePerKwh { amount currency }
            totalPerKwh { amount currency }
          }
          extras { kind unit amount { amount currency } }
        }
        connectors {
          __typename
          id
          type
          powerType
          maxPowerKw
          status
          statusUpdatedAt
          qrCode
          station { id }
          currentPrice {
            energyPerKwh { amount currency }
            servicePerKwh { amount currency }
            totalPerKwh { amount currency }
          }
        }
      }
    }
  }
}
"""

COUNT_ONLY = """
query Count($near: GeoPointInput!, $radiusKm: Float!, $first: Int!) {
  stations(near: $near, radiusKm: $radiusKm, first: $first) { totalCount }
}
"""

LIVE = """
query Live($near: GeoPointInput!, $radiusKm: Float!, $first: Int!, $ops: [ID!]) {
  stations(near: $near, radiusKm: $radiusKm, first: $first, filter: {operatorIds: $ops}) {
    edges { node { id operator { id } connectors { id status } } }
  }
}
"""


def search_vars(
    first: int, radius_km: float = 25.0, center: tuple[float, float] = HANGZHOU
) -> dict[str, Any]:
    return {"near": {"lat": center[0], "lon": center[1]}, "radiusKm": radius_km, "first": first}


def body(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {"query": query, "variables": variables}
