import pytest

from resolvers import ids


def test_round_trip():
    gid = ids.station_id("MA1HZPOWR", "ST0001")
    assert ids.decode(gid) == ("Station", ["MA1HZPOWR", "ST0001"])
    assert "=" not in gid


@pytest.mark.parametrize("bad", ["", "!!!", "a", "x" * 600, ids.encode("Station")])
def test_garbage_decodes_to_none(bad):
    assert ids.decode(bad) is None
