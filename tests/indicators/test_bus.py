"""Bus-stop coverage (``geoplan.indicators.bus``) on land cells: its per-home and per-grid-cell
buffer flags are the exact ones (a point in the union of the stops' 64-gon buffers), its area
shares within 0.1 pp of the overlay."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import geoplan
import geoplan.indicators.cover as cover_mod
from geoplan.city.homes import homes_from_city
from geoplan.indicators.access import compute_access
from geoplan.indicators.bus import BusParams, bus_requests, bus_stop_coverage
from geoplan.indicators.inputs import Inputs
from geoplan.network.cache import AccessCache


def test_cells_give_the_exact_flags_and_shares_within_the_bound(
    chengdu: geoplan.City, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cover_mod, "CELLS_MIN_SOURCES", 0)
    homes = homes_from_city(chengdu)
    params = BusParams(radii_m=(300.0, 500.0), grid_spacing_m=100.0)
    out = {}
    for areas in ("exact", "cells"):
        inputs = Inputs(chengdu, homes, areas=areas)  # type: ignore[arg-type]
        cache = AccessCache()
        att = cache.attach(chengdu.network, np.asarray(homes.geometry.values, dtype=object))
        acc = compute_access(
            chengdu.network,
            att,
            bus_requests(inputs, params),
            boundary=inputs.boundary,
            cache=cache,
        )
        out[areas] = (bus_stop_coverage(acc, inputs, params), acc)
    (ex, acc), (ce, _) = out["exact"], out["cells"]
    stops = np.asarray(chengdu.bus_stops.geometry.values, dtype=object)
    grid = acc.grids[100.0]
    for r in (300.0, 500.0):
        union = shapely.union_all(shapely.buffer(stops, r, quad_segs=16))
        key = f"bus_cov_{r:g}_buffer"
        exp = shapely.intersects(union, homes.geometry.values)
        np.testing.assert_array_equal(ce.per_home[key].to_numpy(), exp)
        np.testing.assert_array_equal(ex.per_home[key].to_numpy(), exp)
        # every inside cell: its centre in the union of the disks (listed or not)
        every = np.flatnonzero(grid.inside)
        rows, cols = np.divmod(every, grid.xs.shape[0])
        exp_cells = shapely.intersects_xy(union, grid.xs[cols], grid.ys[rows])
        flags = ce.per_cell[f"bus_cov_{r:g}"]
        got = np.zeros(every.shape[0], dtype=bool)
        got[np.searchsorted(every, flags.cells)] = flags.buffer
        np.testing.assert_array_equal(got, exp_cells)
    a, b = ex.summary, ce.summary
    area = (a["method"] == "buffer") & a["basis"].isin(["residential_area", "boundary_area"])
    d = (a["value"] - b["value"]).abs()
    assert d[area].max() * 100 <= 0.1 and (d[area] > 0).any()
    assert (d[~area].fillna(0) == 0).all()
