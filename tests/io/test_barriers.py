"""The barrier and gate layers against an independent pyosmium count of the same file."""

from __future__ import annotations

from pathlib import Path

import osmium
import pyproj
import pytest
import shapely

import geoplan
from geoplan.rules.barriers import barrier_rules

RAIL = {"rail", "light_rail", "narrow_gauge", "subway", "monorail", "preserved"}
# every passable barrier node (OSM wiki Key:barrier, "access control on highways")
GATE_VALUES = {
    *("gate", "lift_gate", "swing_gate", "sliding_gate", "kissing_gate", "turnstile"),
    *("full-height_turnstile", "entrance", "stile", "hampshire_gate", "bump_gate", "chain"),
    *("bollard", "cycle_barrier", "yes"),
}
LIFTED = ("bridge", "tunnel", "covered", "location")


def _count(pbf: Path) -> tuple[dict[int, list[tuple[float, float]]], set[int]]:
    """Ground-level railway ways (id → lon/lat) and gate / entrance node ids, by plain loops."""
    rails: dict[int, list[tuple[float, float]]] = {}
    gates: set[int] = set()
    for o in osmium.FileProcessor(str(pbf)).with_locations():
        tags = dict(o.tags)
        if o.is_node() and ("entrance" in tags or tags.get("barrier") in GATE_VALUES):
            gates.add(o.id)
        elif o.is_way() and tags.get("railway") in RAIL:
            lifted = any(k in tags and tags[k] not in ("no",) for k in LIFTED[:2])
            lifted |= tags.get("covered") == "yes" or tags.get("location") in (
                "underground",
                "underwater",
            )
            located = [(n.lon, n.lat) for n in o.nodes if n.location.valid()]
            if not lifted and len(located) >= 2:
                rails[o.id] = located
    return rails, gates


@pytest.mark.parametrize("which", ["chengdu", "sao_paulo", "helsinki"])
def test_railways_and_gates_match_an_independent_read(
    which: str, request: pytest.FixtureRequest
) -> None:
    city: geoplan.City = request.getfixturevalue(which)
    pbf = Path(city.report.source)
    rails, gates = _count(pbf)
    assert city.barriers is not None and city.gates is not None
    got = city.barriers.loc[city.barriers["cause"] == "railway"]
    assert set(got["osmid"]) == set(rails)
    assert len(rails) >= 100
    assert set(city.gates["osmid"]) == gates
    # one way's geometry: the same nodes projected with pyproj
    t = pyproj.Transformer.from_crs(4326, city.crs, always_xy=True)
    osmid = int(got["osmid"].iloc[0])
    ref = shapely.LineString([t.transform(*c) for c in rails[osmid]])
    assert got.geometry.iloc[0].length == pytest.approx(ref.length, rel=1e-9)


def test_bridges_and_tunnels_are_not_barriers() -> None:
    r = barrier_rules()
    assert r.line_cause({"railway": "rail"}) == "railway"
    assert r.line_cause({"railway": "rail", "bridge": "viaduct"}) is None
    assert r.line_cause({"railway": "subway", "tunnel": "yes"}) is None
    assert r.line_cause({"railway": "rail", "bridge": "no"}) == "railway"
    assert r.line_cause({"waterway": "river", "tunnel": "culvert"}) is None
    assert r.line_cause({"waterway": "stream"}) is None
    assert r.area_cause({"natural": "water"}) == "water"
    assert r.line_cause({"highway": "trunk"}) == "expressway"
    assert r.line_cause({"highway": "primary"}) is None
    assert r.line_cause({"barrier": "fence"}) == "wall"
