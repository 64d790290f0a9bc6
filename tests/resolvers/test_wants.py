"""What a selection wants fetched and built: statuses, prices, tariffs, connector back-references."""

from __future__ import annotations

from resolvers.stations.hydrate import Wants


def test_names_only_want_nothing_fetched_and_no_back_references():
    assert Wants.of_names({"edges", "node", "id", "name", "connectors"}) == Wants(False, False, False, False)


def test_each_field_wants_its_part():
    assert Wants.of_names({"status"}).status and Wants.of_names({"statusUpdatedAt"}).status
    assert Wants.of_names({"currentPrice"}).price
    assert Wants.of_names({"tariff"}).tariff
    # Connector.station is the only reader of a connector's back-reference to its station.
    assert Wants.of_names({"connectors", "station", "id"}).station
