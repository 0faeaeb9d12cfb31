"""Per-unit shares (``geoplan.scoring.units.unit_shares``) against shapely overlays and hand sums,
for an exact check and one on land cells (whose buffer areas are built when the table asks)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geoplan
import geoplan.indicators.cover as cover_mod
from geoplan.names import KEY_MEASURES, Method, coverage_key
from geoplan.scoring.units import unit_shares


@pytest.mark.parametrize("exact", [True, False])
def test_unit_shares_equal_overlays_per_unit(
    chengdu: geoplan.City, monkeypatch: pytest.MonkeyPatch, exact: bool
) -> None:
    monkeypatch.setattr(cover_mod, "CELLS_MIN_SOURCES", 0)
    res = geoplan.check_city(chengdu, sheet="national", exact_areas=exact)
    x0, y0, x1, y1 = chengdu.boundary_polygon.bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    boxes = [shapely.box(*b) for b in ((x0, y0, xm, ym), (xm, y0, x1, ym), (x0, ym, x1, y1))]
    units = gpd.GeoDataFrame({"unit": ["sw", "se", "n"]}, geometry=boxes, crs=chengdu.crs)
    table = unit_shares(units, res, chengdu)
    land = shapely.union_all(chengdu.residential.geometry.values)
    homes = res.homes
    checked = 0
    for measure in KEY_MEASURES:
        bcol, ncol = coverage_key(measure, Method.BUFFER), coverage_key(measure, Method.NETWORK)
        for i, box in enumerate(boxes):
            ul = shapely.intersection(land, box)
            if bcol in res.coverage and ul.area > 0:
                exp = shapely.intersection(ul, res.coverage[bcol]).area / ul.area
                assert table[bcol].iloc[i] == pytest.approx(exp, abs=1e-9)
                checked += 1
            if ncol in homes.columns:
                inside = shapely.contains_xy(box, homes.geometry.x, homes.geometry.y)
                w = homes["area_m2"].to_numpy(float)[inside]
                ok = homes[ncol].to_numpy(bool)[inside]
                if w.sum() > 0:
                    assert table[ncol].iloc[i] == pytest.approx((w * ok).sum() / w.sum())
                    checked += 1
    assert checked >= 20
    assert np.all(table["homes"].to_numpy() >= 0)
