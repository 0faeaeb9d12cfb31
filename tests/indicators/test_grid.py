"""Grids over the boundary and the polygon of covered cells (geoplan.indicators.grid)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.geometry
from scipy.spatial import cKDTree

import geoplan
from geoplan.indicators.grid import cells_polygon, grid_cells, outline_polygons


def _boxes_cut(xy: np.ndarray, covered_xy: np.ndarray, step: float, boundary: object) -> object:
    """Independent: every covered cell as a shapely box, unioned, then cut to the boundary."""
    h = step / 2
    cells = shapely.box(
        covered_xy[:, 0] - h, covered_xy[:, 1] - h, covered_xy[:, 0] + h, covered_xy[:, 1] + h
    )
    return shapely.intersection(shapely.union_all(cells), boundary)


def test_covered_cells_polygon_is_the_union_of_the_cells_cut_to_the_boundary(
    chengdu: geoplan.City,
) -> None:
    b = chengdu.boundary_polygon
    x0, y0, x1, y1 = b.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    # a boundary of several parts, one with a hole and a rotated one: outlines cross every kind
    hole = shapely.Point(cx, cy).buffer(900)
    parts = [
        shapely.box(x0, y0, cx - 150, y1).difference(hole),
        shapely.affinity.rotate(shapely.box(cx + 150, y0, x1, cy), 11),
        shapely.box(cx + 150, cy + 400, x1, y1),
    ]
    multi = shapely.intersection(shapely.union_all(parts), b)
    stops = chengdu.bus_stops.geometry.values
    sx, sy = shapely.get_x(stops), shapely.get_y(stops)
    for boundary, step in ((b, 100.0), (multi, 100.0), (multi, 50.0)):
        xy, shape, inside = grid_cells(boundary, step)
        d, _ = cKDTree(np.column_stack([sx, sy])).query(xy[inside])
        covered = d <= 300.0
        got = cells_polygon(xy, shape, np.flatnonzero(inside)[covered], step, boundary)
        want = _boxes_cut(xy, xy[inside][covered], step, boundary)
        assert got.is_valid
        assert 0 < covered.mean() < 1
        np.testing.assert_allclose(got.area, want.area, rtol=1e-12)
        assert shapely.symmetric_difference(got, want).area < 1e-6 * want.area
        assert got.within(boundary.buffer(1e-6))


def test_no_covered_cell_gives_an_empty_polygon(chengdu: geoplan.City) -> None:
    xy, shape, _ = grid_cells(chengdu.boundary_polygon, 200.0)
    got = cells_polygon(xy, shape, np.zeros(0, np.int64), 200.0, chengdu.boundary_polygon)
    assert got.is_empty


def test_outlines_become_the_same_polygons_as_shapely_shape() -> None:
    from rasterio.features import shapes
    from rasterio.transform import from_origin

    m = np.zeros((40, 50), dtype=np.uint8)
    m[2:30, 3:40] = 1
    m[8:12, 10:14] = 0  # a hole
    m[15:20, 20:33] = 0  # another, with an island inside
    m[17, 25] = 1
    m[35:38, 45:48] = 1  # a separate run
    m[34, 44] = 1  # meeting it at a corner only
    feats = [g for g, _ in shapes(m, mask=m == 1, transform=from_origin(500.0, 900.0, 10, 10))]
    got = outline_polygons(feats)
    want = [shapely.geometry.shape(g) for g in feats]
    assert len(got) == len(want) == 4
    assert all(a.equals_exact(b, 0.0) for a, b in zip(got, want, strict=True))
    assert sum(len(p.interiors) for p in got) == 2


@pytest.mark.parametrize(("gap", "min_cells"), [(1, 0), (8, 0), (8, 256 * 256)])
def test_outlines_by_window_are_those_of_the_whole_raster(
    chengdu: geoplan.City, monkeypatch: pytest.MonkeyPatch, gap: int, min_cells: int
) -> None:
    """Windows cut along empty bands give the very vertices of outlining the whole raster."""
    import warnings

    import geoplan.indicators.grid as grid_mod

    monkeypatch.setattr(grid_mod, "_WINDOW_GAP", gap)
    monkeypatch.setattr(grid_mod, "_WINDOW_MIN_CELLS", min_cells)

    from rasterio.features import shapes
    from rasterio.transform import from_origin

    from geoplan._raster import cut_to
    from geoplan.indicators.grid import _windows

    b = chengdu.boundary_polygon
    x0, y0, x1, y1 = b.bounds
    # far-apart parts: most of the grid is empty, as in a study area of separate districts
    parts = shapely.union_all(
        [
            shapely.box(x0, y0, x0 + 2500, y0 + 2000),
            shapely.box(x1 - 3000, y0, x1, y0 + 3000),
            shapely.box(x0 + 1000, y1 - 2000, x0 + 5000, y1),
        ]
    )
    xy, shape, inside = grid_cells(parts, 50.0)
    stops = chengdu.bus_stops.geometry.values
    d, _ = cKDTree(np.column_stack([shapely.get_x(stops), shapely.get_y(stops)])).query(xy[inside])
    covered = d <= 250.0
    got = cells_polygon(xy, shape, np.flatnonzero(inside)[covered], 50.0, parts)

    mask = np.zeros(shape[0] * shape[1], dtype=np.uint8)
    mask[np.flatnonzero(inside)[covered]] = 1
    grid = mask.reshape(shape)[::-1]
    assert len(_windows(grid.astype(bool))) >= (2 if min_cells == 0 else 1)
    tr = from_origin(xy[0, 0] - 25.0, xy[-1, 1] + 25.0, 50.0, 50.0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
        whole = [shapely.geometry.shape(g) for g, _ in shapes(grid, mask=grid == 1, transform=tr)]
    want = cut_to(np.asarray(whole, dtype=object), parts)
    a = sorted(shapely.to_wkb(shapely.normalize(shapely.get_parts(got))))
    w = sorted(shapely.to_wkb(shapely.normalize(shapely.get_parts(want))))
    assert a == w  # the same polygons, vertex for vertex


def test_a_changed_map_cuts_only_its_changed_outlines(
    chengdu: geoplan.City, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geoplan._raster as grid_mod

    b = shapely.buffer(chengdu.boundary_polygon, -300.0)
    xy, shape, inside = grid_cells(b, 50.0)
    stops = chengdu.bus_stops.geometry.values
    sxy = np.column_stack([shapely.get_x(stops), shapely.get_y(stops)])
    d, _ = cKDTree(sxy).query(xy[inside])
    first = d <= 120.0
    grid_mod._CUTS.clear()
    one = cells_polygon(xy, shape, np.flatnonzero(inside)[first], 50.0, b)
    n_outlines = len(grid_mod._CUTS)
    assert n_outlines > 20
    cut: list[int] = []
    real = grid_mod._cut_now
    monkeypatch.setattr(grid_mod, "_cut_now", lambda r, bb, k: cut.append(len(r)) or real(r, bb, k))
    # one more stop: one outline changes (or a new one appears); the others are reused
    d2, _ = cKDTree(np.vstack([sxy, [xy[inside][0]]])).query(xy[inside])
    two = cells_polygon(xy, shape, np.flatnonzero(inside)[d2 <= 120.0], 50.0, b)
    assert sum(cut) <= 2
    assert two.area >= one.area
    # and the reused pieces give what a cold cut gives
    grid_mod._CUTS.clear()
    cold = cells_polygon(xy, shape, np.flatnonzero(inside)[d2 <= 120.0], 50.0, b)
    a = sorted(shapely.to_wkb(shapely.normalize(shapely.get_parts(two))))
    w = sorted(shapely.to_wkb(shapely.normalize(shapely.get_parts(cold))))
    assert a == w


@pytest.mark.parametrize("spacing", [100.0, 37.0, 12.5])
def test_inside_by_blocks_is_every_centre_tested(chengdu: geoplan.City, spacing: float) -> None:
    from geoplan.indicators.grid import _inside
    from geoplan.rules.built_up import built_up_area

    b = chengdu.boundary_polygon
    bu = built_up_area(chengdu.urban_land, chengdu.roads, b)
    x0, y0, x1, y1 = b.bounds
    # far-apart boxes, a hole: blocks wholly inside, wholly outside and crossing
    sparse = shapely.MultiPolygon(
        [
            shapely.box(x0, y0, x0 + 900, y0 + 700),
            shapely.box(x1 - 1500, y1 - 1500, x1, y1).difference(
                shapely.Point(x1 - 750, y1 - 750).buffer(300)
            ),
        ]
    )
    for poly in (b, bu, sparse):
        minx, miny, maxx, maxy = poly.bounds
        xs = np.arange(minx + spacing / 2, maxx, spacing)
        ys = np.arange(miny + spacing / 2, maxy, spacing)
        gx, gy = np.meshgrid(xs, ys)
        want = shapely.contains_xy(poly, gx.ravel(), gy.ravel())
        assert 0 < want.mean() < 1
        np.testing.assert_array_equal(_inside(poly, xs, ys), want)


@pytest.mark.parametrize("reach", [60.0, 400.0])
def test_cells_near_streets_keep_every_centre_within_reach(
    chengdu: geoplan.City, reach: float
) -> None:
    """Every inside centre within ``reach`` of a street (shapely distance to the edges) is kept,
    as its row-major index, increasing; in a sparse box (the city and empty land) the far ones
    are left out."""
    from geoplan.indicators.grid import cells_near, grid_axes

    net = chengdu.network
    x0, y0, x1, y1 = chengdu.boundary_polygon.bounds
    area = shapely.box(x0 - 3_000, y0 - 3_000, x1 + 9_000, y1 + 3_000)
    xs, ys, inside = grid_axes(area, 40.0)
    flat = np.flatnonzero(inside)
    rows, cols = np.divmod(flat, xs.shape[0])
    every = np.column_stack([xs[cols], ys[rows]])
    tree = shapely.STRtree(net.edge_geometry)
    pts = shapely.points(every)
    _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    within = flat[dist <= reach]
    cells = cells_near(xs, ys, inside, shapely.bounds(net.edge_geometry), reach)
    assert np.all(np.diff(cells) > 0) and inside[cells].all()
    assert np.isin(within, cells).all() and within.size > 10_000
    assert cells.size < 0.8 * every.shape[0]  # the empty land east of the city is skipped


def test_union_of_cell_lists_is_the_sorted_set_union() -> None:
    from geoplan.indicators.grid import union_cells

    rng = np.random.default_rng(5)
    a = np.unique(rng.integers(0, 10_000, 3_000))
    b = np.unique(rng.integers(0, 10_000, 500))
    got = union_cells(10_000, a, b, np.zeros(0, np.int64))
    np.testing.assert_array_equal(got, np.union1d(a, b))
    assert got.dtype == np.int64


def test_lazy_cells_area_is_the_union_of_its_cells_cut_to_the_boundary(
    chengdu: geoplan.City,
) -> None:
    """``CellsArea`` keeps the flags as bits and outlines the covered cells on first use."""
    from geoplan.indicators.cover import CellsArea, CoverageAreas

    b = chengdu.boundary_polygon
    stops = chengdu.bus_stops.geometry.values
    sxy = np.column_stack([shapely.get_x(stops), shapely.get_y(stops)])
    xy, shape, inside = grid_cells(b, 70.0)
    listed = np.flatnonzero(inside)
    assert listed.size % 8  # the bits end inside a byte
    d, _ = cKDTree(sxy).query(xy[inside])
    covered = d <= 300.0
    lazy = CellsArea.of(xy[[0, -1]], shape, listed, covered, 70.0, b)
    assert lazy.covered.nbytes == -(-listed.size // 8)
    assert not lazy.is_empty and not lazy._memo
    got = CoverageAreas({"k": lazy})["k"]
    want = _boxes_cut(xy, xy[inside][covered], 70.0, b)
    np.testing.assert_allclose(got.area, want.area, rtol=1e-12)
    assert shapely.symmetric_difference(got, want).area < 1e-6 * want.area
    assert lazy.geometry() is got  # built once
    none = CellsArea.of(xy[[0, -1]], shape, listed, np.zeros_like(covered), 70.0, b)
    assert none.is_empty and "k" not in CoverageAreas({"k": none})
    with pytest.raises(ValueError, match="flags for"):
        CellsArea.of(xy[[0, -1]], shape, listed, covered[:-1], 70.0, b)


def test_a_check_outlines_its_walking_areas_only_when_drawn(
    chengdu: geoplan.City, tmp_path: object
) -> None:
    """A check keeps the walking coverage as cells; writing its outputs outlines them, and the
    outline equals the union of the covered cells (cut to the boundary) of the same grid."""
    from pathlib import Path

    from geoplan.indicators.cover import CellsArea
    from geoplan.outputs.tables import write_check_outputs

    res = geoplan.check_city(chengdu, sheet="national")
    raw = res.coverage.raw()
    lazy = {k: a for k, a in raw.items() if isinstance(a, CellsArea)}
    assert any(k.startswith("bus") for k in lazy) and len(lazy) >= 3
    assert all(not a._memo for a in lazy.values())
    write_check_outputs(res, Path(str(tmp_path)), city=chengdu)
    assert all(a._memo for a in lazy.values())
    a = lazy[min(lazy)]
    flags = np.unpackbits(a.covered, count=a.cells.size).astype(bool)
    rows, cols = divmod(a.cells[flags], a.shape[1])
    cxy = np.column_stack([a.ends[0, 0] + cols * a.spacing_m, a.ends[0, 1] + rows * a.spacing_m])
    want = _boxes_cut(cxy, cxy, a.spacing_m, a.boundary)
    got = res.coverage[min(lazy)]
    np.testing.assert_allclose(got.area, want.area, rtol=1e-9)
