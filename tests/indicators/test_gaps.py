"""Gap causes: why walking falls short of the buffer, checked on real data.

Independent of :mod:`geoplan.indicators.gaps`: water is read again from the PBF with a plain
pyosmium handler; nearest covering stops by brute-force shapely distances; where the walk network
crosses water by a loop over every edge; walking distances by networkx (``_reference``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pyproj
import pytest
import shapely
from _reference import attachment_rows, edges_of, reference_distances
from conftest import DATA

import geoplan
from geoplan.io.population import read_population
from geoplan.network.access import attach_points, facility_sources
from geoplan.scoring.check import CheckResult, check_city

R_M = 500.0


@pytest.fixture(scope="module")
def chengdu_check(chengdu: geoplan.City) -> CheckResult:
    return check_city(chengdu, sheet="national")


def _water(pbf: Path, crs: pyproj.CRS) -> list[shapely.Geometry]:
    """Rivers and canals (lines) and water areas (closed ways) at ground level, in ``crs``."""
    t = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    out: list[shapely.Geometry] = []
    for o in osmium.FileProcessor(str(pbf)).with_locations():
        if not o.is_way():
            continue
        tags = dict(o.tags)
        if "bridge" in tags or "tunnel" in tags:
            continue
        try:
            xy = [t.transform(n.lon, n.lat) for n in o.nodes]
        except osmium.InvalidLocationError:
            continue
        if len(xy) < 2:
            continue
        area = (
            tags.get("natural") == "water"
            or tags.get("waterway") == "riverbank"
            or tags.get("landuse") in ("reservoir", "basin")
        )
        if area and len(xy) >= 4 and xy[0] == xy[-1]:
            out.append(shapely.make_valid(shapely.Polygon(xy)))
        elif tags.get("waterway") in ("river", "canal"):
            out.append(shapely.LineString(xy))
    return out


def test_causes_add_up_to_the_gap_on_three_cities(
    chengdu_check: CheckResult, sao_paulo: geoplan.City, helsinki: geoplan.City
) -> None:
    """On each basis the rows of a measure sum to its buffer − walking figure (pp)."""
    pop = read_population(DATA / "sao_paulo_hexgrid_population.csv", column="population")
    sp = check_city(sao_paulo, population=pop)
    for res in (chengdu_check, sp, check_city(helsinki)):
        table, m = res.gap_causes, res.measures
        assert table is not None and len(table)
        checked = 0
        for (measure, basis), rows in table.groupby(["measure", "basis"]):
            sel = (m["measure"] == measure) & (m["basis"] == basis)
            buf = m.loc[sel & (m["method"] == "buffer"), "value"]
            walk = m.loc[sel & (m["method"] == "network"), "value"]
            if len(buf) != 1 or len(walk) != 1:
                continue
            gap_pp = 100.0 * (float(buf.iloc[0]) - float(walk.iloc[0]))
            assert rows["gap_pp"].sum() == pytest.approx(gap_pp, abs=1e-9), (measure, basis)
            checked += 1
        assert checked >= 2
        assert "residents" in set(table["basis"]) or res is not sp
        # every home in the gap has a cause, no home outside it has one
        h = res.homes
        for measure in table["measure"].unique():
            gap = h[f"{measure}_buffer"].astype(bool) & ~h[f"{measure}_network"].astype(bool)
            cause = h[f"{measure}_gap_cause"]
            assert (cause[gap] != "").all() and (cause[~gap] == "").all()


def test_water_and_detour_homes_checked_independently(
    chengdu: geoplan.City, chengdu_check: CheckResult, chengdu_pbf: Path
) -> None:
    """bus 500 m on Chengdu: water homes are cut off by water, 'other' homes are not.

    For each sampled gap home: the nearest stop within 500 m (brute force); networkx confirms the
    walk is over 500 m; every place the network crosses water (a loop over all edges) and every
    outer corner / end of the water gives a straight walk ``offset + |p − x| + |x − stop|`` over
    500 m for a ``water`` home, and one within 500 m where an ``other`` home's line crosses water.
    """
    net, h = chengdu.network, chengdu_check.homes
    water = _water(chengdu_pbf, chengdu.crs)
    assert len(water) >= 20
    # crossings: every edge ∩ water, brute force
    cross: list[tuple[float, float]] = []
    for g in net.edge_geometry:
        for w in water:
            if g.intersects(w):
                cross += [tuple(c) for c in shapely.get_coordinates(g.intersection(w))]
    passes = list(cross)
    for w in water:
        if w.geom_type in ("Polygon", "MultiPolygon"):
            passes += [tuple(c) for c in shapely.get_coordinates(w.convex_hull)]
    ends = [
        tuple(np.round(c, 3))
        for w in water
        if w.geom_type == "LineString"
        for c in (w.coords[0], w.coords[-1])
    ]
    passes += [e for e in ends if ends.count(e) == 1]
    px = np.array(passes)
    stops = list(chengdu.bus_stops.geometry)
    cause = h["bus_cov_500_gap_cause"].to_numpy()
    water_homes = np.flatnonzero(cause == "water")
    assert water_homes.size >= 5
    other_homes = np.flatnonzero(cause == "other")
    sample = np.concatenate([water_homes[:8], other_homes[:: max(1, other_homes.size // 40)]])
    att = attach_points(net, h.geometry.values[sample])
    h_rows, _ = attachment_rows(att)
    _, s_rows = attachment_rows(facility_sources(net, np.asarray(stops, dtype=object)))
    walk = reference_distances(edges_of(net), h_rows, s_rows)
    for k, i in enumerate(sample):
        home = h.geometry.iloc[i]
        d = np.array([home.distance(s) for s in stops])
        assert d.min() <= R_M + 1e-6
        stop = stops[int(np.argmin(d))]
        assert walk[k] > R_M, i
        seg = shapely.LineString([home, stop])
        crosses = any(seg.intersects(w) for w in water)
        e, t, off = h_rows[k]
        p = net.edge_geometry[e].interpolate(t, normalized=True)
        bound = (
            off
            + np.hypot(px[:, 0] - p.x, px[:, 1] - p.y)
            + np.hypot(px[:, 0] - stop.x, px[:, 1] - stop.y)
        )
        if cause[i] == "water":
            assert crosses, i
            assert bound.min() > R_M, i
        elif crosses:
            assert bound.min() <= R_M + 1e-6, i


def test_gap_causes_are_remembered_by_content_and_redone_when_the_reach_changes(
    chengdu: geoplan.City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scenario re-run asks the same question for the measures it did not change: answered
    from memory, equal to a fresh classification; a measure whose facilities changed is redone."""
    from geoplan.indicators import gap_tables
    from geoplan.indicators.gaps import Reach, barrier_index, classify_gaps

    net = chengdu.network
    index = barrier_index(net, chengdu.barriers, chengdu.gates)
    homes = geoplan.city.homes.homes_from_city(chengdu)
    xy = shapely.get_coordinates(homes.geometry.values)[:400]
    att = attach_points(net, homes.geometry.values[:400])
    stops = np.asarray(chengdu.bus_stops.geometry.values, dtype=object)
    reach = Reach(stops, np.full(stops.shape[0], R_M))
    calls: list[int] = []

    def counted(*args: object) -> np.ndarray:
        calls.append(1)
        return classify_gaps(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(gap_tables, "classify_gaps", counted)
    first = gap_tables._classified(index, net, xy, att, reach)
    again = gap_tables._classified(index, net, xy.copy(), att, Reach(stops.copy(), reach.radius_m))
    assert len(calls) == 1 and again is first  # same content: not redone
    fewer = Reach(stops[1:], reach.radius_m[1:])
    changed = gap_tables._classified(index, net, xy, att, fewer)
    assert len(calls) == 2
    assert list(changed) == list(classify_gaps(index, net, xy, att, fewer))
    assert list(first) == list(classify_gaps(index, net, xy, att, reach))


@pytest.mark.parametrize("per_run", [7, 1_000_000])
def test_a_detour_through_a_pass_is_found_as_a_loop_over_points_finds_it(
    monkeypatch: pytest.MonkeyPatch, per_run: int
) -> None:
    """Blocked = no pass with |p − x| + d(x, facility) within the slack, point by point with
    shapely; in runs of a few pairs or all at once."""
    import geoplan.indicators.gaps as gaps_mod

    monkeypatch.setattr(gaps_mod, "_PAIRS_PER_RUN", per_run)
    rng = np.random.default_rng(11)
    xs = rng.uniform(0, 2_000, (400, 2))
    n = 300
    px, py = rng.uniform(0, 2_000, n), rng.uniform(0, 2_000, n)
    centre = np.column_stack([px, py]) + rng.uniform(-300, 300, (n, 2))
    fac = shapely.buffer(shapely.points(centre), rng.uniform(0, 60, n))
    slack = rng.uniform(-10, 400, n)
    got = gaps_mod._no_pass_within(xs, px, py, fac, slack)
    want = np.ones(n, dtype=bool)
    for k in range(n):
        d = [
            np.hypot(x[0] - px[k], x[1] - py[k]) + shapely.Point(x).distance(fac[k])
            for x in xs
            if np.hypot(x[0] - px[k], x[1] - py[k]) <= max(slack[k], 0.0)
        ]
        want[k] = not d or min(d) > slack[k]
    np.testing.assert_array_equal(got, want)
    assert 0.1 < want.mean() < 0.9
