"""Buffer coverage on land cells (issue 28): the cells, the distances, the bound, the home flags.

Every expected figure comes from an independent computation: cell centres tested one by one
with shapely, distances by brute force in numpy, covered shares from a geopandas overlay of
per-feature buffers (``_reference.buffer_cover_share``), home flags from the union of the
buffers.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from _reference import buffer_cover_share

import geoplan
import geoplan.indicators.cells as cells_mod
import geoplan.indicators.cover as cover_mod
from geoplan.city.homes import homes_from_city
from geoplan.indicators.cells import (
    _EQUAL_AREA,
    cell_size_m,
    covered_cells,
    inside_buffers,
    land_cells,
)
from geoplan.indicators.cover import Buffers, CoverageAreas, area_method
from geoplan.indicators.coverage import category_geometries, residential_land

#: the bound the issue sets on a share measured on cells (percentage points)
BOUND_PP = 0.1


def _geoms(city: geoplan.City) -> dict[str, np.ndarray]:
    return category_geometries(city.facilities, bus_stops=city.bus_stops, parks=city.parks)


def test_cells_are_the_grid_cells_whose_centre_is_in_the_land(chengdu_clip: geoplan.City) -> None:
    land = residential_land(chengdu_clip.residential)
    cells = land_cells(land, cell_m=5.0)
    # every cell of the bounding box's grid, its centre tested with shapely
    x0, y0, x1, y1 = land.bounds
    ox, oy = math.floor(x0 / 5.0) * 5.0, math.floor(y0 / 5.0) * 5.0
    gx, gy = np.meshgrid(np.arange(ox + 2.5, x1, 5.0), np.arange(oy + 2.5, y1, 5.0))
    inside = shapely.contains_xy(land, gx.ravel(), gy.ravel())
    expected = set(
        zip(np.round(gx.ravel()[inside], 3), np.round(gy.ravel()[inside], 3), strict=True)
    )
    cx, cy = cells.centres_at(slice(None))
    got = set(zip(np.round(cx, 3), np.round(cy, 3), strict=True))
    assert len(expected) > 5_000
    # GDAL's centre rule and GEOS agree except for centres exactly on an outline
    assert len(expected ^ got) <= 1e-4 * len(expected)
    assert len(cells) * 25.0 == pytest.approx(land.area, rel=0.01)


def test_windows_rasterised_on_both_cores_as_here(
    chengdu_clip: geoplan.City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The windows shared with a forked child give the cells of one process, in order; the
    polygons handed to GDAL are their ``__geo_interface__`` (holes too)."""
    land = residential_land(chengdu_clip.residential)
    # the land's parts, and its box less the land (the parts as holes)
    outside = shapely.get_parts(shapely.box(*land.bounds).difference(land))
    parts = np.concatenate([shapely.get_parts(land), outside])
    assert shapely.get_num_interior_rings(parts).sum() > 10
    for got, ref in zip(cells_mod._geojson(parts), parts, strict=True):
        want = ref.__geo_interface__
        assert got["type"] == want["type"]
        assert got["coordinates"] == [[list(c) for c in ring] for ring in want["coordinates"]]
    monkeypatch.setattr(cells_mod, "_WINDOW", 64)  # many windows
    forked = cells_mod._rasterise(land, 2.0, "forked")
    monkeypatch.setattr(cells_mod, "split_map", lambda fn, items, costs=None: list(map(fn, items)))
    here = cells_mod._rasterise(land, 2.0, "here")
    assert len(here) > 50_000
    assert np.array_equal(forked.ix, here.ix) and np.array_equal(forked.iy, here.iy)
    assert cells_mod._count(land, 2.0) == len(here)


def test_cell_size_follows_the_area() -> None:
    assert cell_size_m(100e6) == 10.0  # a large city's residential land: 10 m
    assert cell_size_m(500e6) == 22.5  # a built-up area of 500 km²
    assert cell_size_m(20_000e6) == 25.0
    assert cell_size_m(5.7e6) == 2.5  # central Chengdu's residential land: ~1M cells
    assert cell_size_m(1e4) == 1.0


def test_covered_cells_equal_brute_force_distances(chengdu_clip: geoplan.City) -> None:
    land = residential_land(chengdu_clip.residential)
    cells = land_cells(land, cell_m=5.0)
    geoms = _geoms(chengdu_clip)
    stops = geoms["bus_stop"]
    xy = shapely.get_coordinates(stops)
    cx, cy = cells.centres_at(slice(None))
    for r in (100.0, 300.0):
        got = covered_cells(cells, stops, r)
        d = np.sqrt((cx[:, None] - xy[None, :, 0]) ** 2 + (cy[:, None] - xy[None, :, 1]) ** 2).min(
            axis=1
        )
        # a point facility is measured at the radius of its 64-gon's area
        np.testing.assert_array_equal(got, d <= r * _EQUAL_AREA)
        assert 0 < got.sum() < len(cells)
    # polygons: outlines sampled every half cell, and cells inside; against GEOS distances
    parks = geoms["green"]
    got = covered_cells(cells, parks, 150.0)
    pts = shapely.points(cx, cy)
    exp = shapely.dwithin(shapely.union_all(parks), pts, 150.0 * _EQUAL_AREA)
    assert exp.sum() > 0
    assert (got != exp).sum() <= 1e-4 * len(cells)


@pytest.mark.parametrize("city_name", ["chengdu", "helsinki", "sao_paulo"])
def test_cell_shares_within_the_bound_of_the_exact_overlay(
    city_name: str, request: pytest.FixtureRequest
) -> None:
    city: geoplan.City = request.getfixturevalue(city_name)
    land_polys = list(city.residential.geometry)
    if sum(p.area for p in land_polys) == 0:  # São Paulo maps no residential land: its study area
        land_polys = [city.boundary_polygon]
    area = shapely.union_all(land_polys)
    cells = land_cells(area)
    worst, n = 0.0, 0
    for _, g in sorted(_geoms(city).items()):
        for r in (300.0, 500.0, 1000.0):
            exact = buffer_cover_share(list(g), r, land_polys, crs=city.crs)
            share = float(covered_cells(cells, g, r).mean())
            worst = max(worst, abs(share - exact) * 100)
            n += 1
    assert n >= 30
    assert worst <= BOUND_PP, f"{city_name}: {worst:.4f} pp"


def test_home_flags_equal_the_union_of_the_buffers(chengdu: geoplan.City) -> None:
    homes = homes_from_city(chengdu)
    xy = shapely.get_coordinates(homes.geometry.values)
    geoms = _geoms(chengdu)
    parks = geoms["park"]
    radii = np.where(shapely.area(parks) > 10_000, 500.0, 300.0)
    cases = [(geoms["bus_stop"], 500.0), (geoms["primary_school"], 300.0), (parks, radii)]
    cases += [(geoms["green"], 300.0), (geoms["hospital"], 1000.0)]
    for g, r in cases:
        union = shapely.union_all(shapely.buffer(g, r, quad_segs=16))
        exp = shapely.intersects(union, homes.geometry.values)
        got = inside_buffers(xy[:, 0], xy[:, 1], g, r)
        assert 0 < exp.sum() < len(homes)
        np.testing.assert_array_equal(got, exp)


def test_home_flags_inside_large_polygons_lines_and_holes() -> None:
    # a 2 km park (points deep inside it are far from its outline), a park with a lake, a river
    # line and a multipolygon: the flags equal the union of the buffers at points on a 7 m grid
    square = shapely.box(0.0, 0.0, 2000.0, 2000.0)
    holed = shapely.Polygon(
        [(3000, 0), (4500, 0), (4500, 1500), (3000, 1500)],
        [[(3200, 200), (4300, 200), (4300, 1300), (3200, 1300)]],
    )
    river = shapely.LineString([(0, 3000), (1500, 3300), (2500, 2900), (4000, 3600)])
    multi = shapely.MultiPolygon(
        [shapely.box(5200, 0, 5300, 80), shapely.box(5500, 400, 5900, 900)]
    )
    g = np.array([square, holed, river, multi], dtype=object)
    gx, gy = np.meshgrid(np.arange(-600.0, 6600.0, 7.0), np.arange(-600.0, 4300.0, 7.0))
    x, y = gx.ravel(), gy.ravel()
    for r in (300.0, 500.0):
        union = shapely.union_all(shapely.buffer(g, r, quad_segs=16))
        shapely.prepare(union)
        exp = shapely.intersects_xy(union, x, y)
        got = inside_buffers(x, y, g, r)
        assert 0 < exp.sum() < x.shape[0]
        assert shapely.contains_xy(square, x, y).sum() > 50_000  # far inside the park
        np.testing.assert_array_equal(got, exp)


def test_check_on_cells_matches_the_exact_check(
    chengdu: geoplan.City, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = geoplan.check_city(chengdu, sheet="national", exact_areas=True)
    monkeypatch.setattr(cover_mod, "CELLS_MIN_SOURCES", 0)  # every union on cells
    cells = geoplan.check_city(chengdu, sheet="national", exact_areas=False)
    a, b = exact.measures, cells.measures
    assert list(a["measure"]) == list(b["measure"])
    area_rows = (a["method"] == "buffer") & a["basis"].isin(
        ["residential_area", "boundary_area", "built_up_area"]
    )
    diff = (a["value"] - b["value"]).abs()
    assert area_rows.sum() >= 40
    assert diff[area_rows].max() * 100 <= BOUND_PP
    assert (diff[area_rows] > 0).any()  # the cells really measured them
    np.testing.assert_array_equal(
        a.loc[~area_rows, "value"].to_numpy(float), b.loc[~area_rows, "value"].to_numpy(float)
    )
    flags = [c for c in exact.homes.columns if c.endswith(("_buffer", "_network"))]
    assert len(flags) >= 10
    for c in flags:
        np.testing.assert_array_equal(exact.homes[c].to_numpy(), cells.homes[c].to_numpy())
    # the coverage polygons are the same, built when read
    assert isinstance(cells.coverage, CoverageAreas)
    assert sorted(exact.coverage) == sorted(cells.coverage)
    for k in exact.coverage:
        assert shapely.symmetric_difference(exact.coverage[k], cells.coverage[k]).area < 1e-6


def test_coverage_areas_build_lazily_and_drop_empty_intersections() -> None:
    a = Buffers.of(np.array([shapely.Point(0, 0)], dtype=object), 100.0, method="cells")
    b = Buffers.of(np.array([shapely.Point(1000, 0)], dtype=object), 100.0, method="cells")
    c = Buffers.of(np.array([shapely.Point(150, 0)], dtype=object), 100.0, method="cells")
    areas = CoverageAreas({"a": a, "ab": a & b, "ac": a & c})
    assert "geom" not in a._memo  # nothing built yet
    assert "ab" not in areas  # disjoint disks: empty, as the exact path never adds it
    assert sorted(areas) == ["a", "ac"]
    assert areas["a"].area == pytest.approx(math.pi * 100**2, rel=0.002)
    with pytest.raises(KeyError):
        areas["ab"]


def test_area_method_follows_the_option_and_the_city_size(chengdu: geoplan.City) -> None:
    assert area_method(chengdu, True) == "exact"
    assert area_method(chengdu, False) == "cells"
    n = len(chengdu.facilities) + len(chengdu.bus_stops) + len(chengdu.parks)
    assert n < cover_mod.AUTO_CELLS_FEATURES
    assert area_method(chengdu, None) == "exact"


def test_coarsest_cells_stay_within_the_bound(chengdu: geoplan.City) -> None:
    """The 25 m cells of a region-sized area, on the 70 km² study area of central Chengdu (the
    coarsest cells relative to its size that the rule ever gives)."""
    area = chengdu.boundary_polygon
    cells = land_cells(area, cell_m=25.0)
    geoms = _geoms(chengdu)
    worst = 0.0
    for cat in ("bus_stop", "restaurant", "park", "primary_school"):
        for r in (300.0, 500.0):
            exact = buffer_cover_share(list(geoms[cat]), r, [area], crs=chengdu.crs)
            worst = max(worst, abs(float(covered_cells(cells, geoms[cat], r).mean()) - exact))
    assert worst * 100 <= BOUND_PP


def test_a_sparse_area_lists_only_the_cells_its_facilities_reach(
    chengdu: geoplan.City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Central Chengdu and an empty 40 km square 60 km east of it, as one study area: the share
    on cells near the stops (the rest counted) equals the share over every cell listed."""
    monkeypatch.setattr(cover_mod, "CELLS_MIN_SOURCES", 0)
    b = chengdu.boundary_polygon
    _, y0, x1, _ = b.bounds
    area = shapely.union_all([b, shapely.box(x1 + 60_000, y0, x1 + 100_000, y0 + 40_000)])
    stops = _geoms(chengdu)["bus_stop"]
    every = land_cells(area, cell_m=25.0)
    for r in (300.0, 500.0):
        want = float(covered_cells(every, stops, r).mean())
        cover = Buffers.of(stops, r, method="cells")
        near = land_cells(area, cell_m=25.0, near=cover._reach_boxes())
        assert near.n_all == len(every) and len(near) < 0.2 * len(every)
        flags = covered_cells(near, stops, r)
        # the covered cells of the whole listing are all listed, and covered there too
        key = (every.ix.astype(np.int64) * (1 << 31) + every.iy)[covered_cells(every, stops, r)]
        listed = near.ix.astype(np.int64) * (1 << 31) + near.iy
        assert np.isin(key, listed[flags]).all() and key.size == flags.sum()
        assert 0.0 < want < 0.1
        area_cells = land_cells(area, cell_m=cell_size_m(area.area))
        got = cover.share(area)
        assert got == pytest.approx(
            float(covered_cells(area_cells, stops, r).mean()), rel=0, abs=1e-15
        )


def test_outputs_of_a_cells_check_build_only_the_drawn_unions(
    chengdu: geoplan.City, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Writing a check on cells builds the buffer polygons of the map and gap measures and no
    other union the check avoided; the notes say how the shares were measured."""
    import pyogrio

    from geoplan.names import GAP_MEASURES, MAP_MEASURES, Method, coverage_key
    from geoplan.outputs.tables import write_check_outputs

    monkeypatch.setattr(cover_mod, "CELLS_MIN_SOURCES", 0)
    res = geoplan.check_city(chengdu, sheet="national", exact_areas=False)
    assert any("land cells" in n and "--exact-areas" in n for n in res.notes)
    cov = res.coverage
    assert isinstance(cov, CoverageAreas)
    drawn = {coverage_key(m, Method.BUFFER) for m in (*MAP_MEASURES, *GAP_MEASURES)}
    lazy = set(cov.unbuilt)
    assert lazy  # buffer areas the check did not build
    built = set(cov.raw()) - lazy
    paths = write_check_outputs(res, tmp_path, city=chengdu)
    keys = set(pyogrio.read_dataframe(paths["map_gpkg"], layer="coverage")["key"])
    assert keys == built | (lazy & drawn)
    assert set(cov.unbuilt) == lazy - drawn
    assert any(k.endswith("_network") for k in keys)


def test_drawn_builds_only_the_keys_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cover_mod, "CELLS_MIN_SOURCES", 0)  # these one-stop unions on cells
    pts = [np.array([shapely.Point(x, 0)], dtype=object) for x in (0.0, 1000.0, 150.0)]
    a, b, c = (Buffers.of(p, 100.0, method="cells") for p in pts)
    areas = CoverageAreas({"a": a, "b": b, "ac": a & c, "poly": shapely.box(0, 0, 1, 1)})
    out = areas.drawn({"b"})
    assert list(out) == ["b", "poly"]
    assert sorted(areas.unbuilt) == ["a", "ac"]


def test_kept_flags_stay_under_their_byte_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cover_mod, "FLAGS_MAX_BYTES", 3_000)
    monkeypatch.setattr(cover_mod, "_FLAGS", type(cover_mod._FLAGS)())
    for i in range(10):
        got = cover_mod._memo_flags(("t", str(i)), lambda: np.zeros(1_000, dtype=bool))
        assert got.shape == (1_000,)
    assert sum(v.nbytes for v in cover_mod._FLAGS.values()) <= 3_000
    assert list(cover_mod._FLAGS) == [("t", "7"), ("t", "8"), ("t", "9")]  # the newest kept


def test_an_exact_check_packages_every_coverage_area(chengdu: geoplan.City, tmp_path: Path) -> None:
    """With exact areas (and small unions on cells) nothing is left out of the QGIS package."""
    import pyogrio

    from geoplan.outputs.tables import write_check_outputs

    for exact in (True, False):  # central Chengdu: every union under CELLS_MIN_SOURCES
        res = geoplan.check_city(chengdu, sheet="anyang-2023", exact_areas=exact)
        assert isinstance(res.coverage, CoverageAreas) and res.coverage.unbuilt == []
        paths = write_check_outputs(res, tmp_path / str(exact), city=chengdu)
        keys = set(pyogrio.read_dataframe(paths["map_gpkg"], layer="coverage")["key"])
        assert keys == set(res.coverage) and any(k.startswith("lc_") for k in keys)
