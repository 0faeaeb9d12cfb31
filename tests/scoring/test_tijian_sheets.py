"""The 城市体检 and 完整居住社区 sheets run on real cities, every row measured or "no data" with
its reason; per-社区 figures equal a shapely overlay of the facilities on the units."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geoplan
from geoplan.names import Status
from geoplan.rules.checklists import checklists


def _quarters(city: geoplan.City) -> gpd.GeoDataFrame:
    """Four 社区 drawn by hand: the study area cut in four at its bounding box's centre."""
    b = city.boundary_polygon
    x0, y0, x1, y1 = b.bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    boxes = [
        shapely.box(x0, y0, xm, ym),
        shapely.box(xm, y0, x1, ym),
        shapely.box(x0, ym, xm, y1),
        shapely.box(xm, ym, x1, y1),
    ]
    cut = [shapely.intersection(q, b) for q in boxes]
    return gpd.GeoDataFrame(
        {"unit": ["西南社区", "东南社区", "西北社区", "东北社区"]}, geometry=cut, crs=city.crs
    )


@pytest.fixture(scope="module")
def chengdu_tijian(chengdu: geoplan.City) -> tuple[geoplan.CheckResult, gpd.GeoDataFrame]:
    units = _quarters(chengdu)
    return geoplan.check_city(chengdu, sheet="chengshi-tijian", units=units), units


def _every_row_measured_or_said_why(card: pd.DataFrame) -> None:
    for _, r in card.iterrows():
        if r["status"] in (Status.PASS, Status.FAIL):
            assert pd.notna(r["measured"]) or pd.notna(r.get("bound")), r["target_id"]
        else:
            assert str(r["note"]).strip(), r["target_id"]  # no data / not checkable: why


def test_chengshi_tijian_on_chengdu_with_units(
    chengdu: geoplan.City, chengdu_tijian: tuple[geoplan.CheckResult, gpd.GeoDataFrame]
) -> None:
    res, units = chengdu_tijian
    card = res.scorecard
    _every_row_measured_or_said_why(card)
    assert set(card["target_id"]) == {t.id for t in res.sheet.targets}
    measured = card.loc[card["status"].isin([Status.PASS, Status.FAIL]), "target_id"].nunique()
    assert measured >= 12  # radii, parks, road density, metro, fire stations, per-社区 items
    # 社区 holding a kindergarten, by a shapely overlay of the kindergartens on the quarters
    f = chengdu.facilities
    pts = shapely.point_on_surface(f.loc[f["category"] == "kindergarten"].geometry.values)
    holds = [bool(shapely.intersects(u, pts).any()) for u in units.geometry.values]
    row = card.loc[card["target_id"] == "community_kindergarten"].iloc[0]
    if any(holds):
        assert row["measured"] == pytest.approx(np.mean(holds))
        for name, h in zip(units["unit"], holds, strict=True):
            assert (name in str(row["note"])) == (not h)  # the 社区 short are listed
    else:
        assert row["status"] == Status.NO_DATA


def test_chengshi_tijian_metro_coverage_equals_a_shapely_overlay(
    chengdu: geoplan.City, chengdu_tijian: tuple[geoplan.CheckResult, gpd.GeoDataFrame]
) -> None:
    res, _ = chengdu_tijian
    f = chengdu.facilities
    st = f.loc[f["category"] == "metro_station"].geometry.values
    land = shapely.union_all(chengdu.residential.geometry.values)
    cover = shapely.union_all(shapely.buffer(st, 800, quad_segs=16))
    want = shapely.intersection(land, cover).area / land.area
    m = res.measures
    got = m.loc[
        (m["measure"] == "metro_800")
        & (m["method"] == "buffer")
        & (m["basis"] == "residential_area"),
        "value",
    ].iloc[0]
    assert got == pytest.approx(want, abs=2e-3)


def test_wanzheng_shequ_on_chengdu_and_the_demo(
    chengdu: geoplan.City, helsinki: geoplan.City
) -> None:
    for city in (chengdu, helsinki):
        units = _quarters(city)
        res = geoplan.check_city(city, sheet="wanzheng-shequ", units=units)
        card = res.scorecard
        _every_row_measured_or_said_why(card)
        items = checklists()["wanzheng"].items
        assert len(card) == len(items) + 1
        # supermarkets per 社区, by a shapely overlay
        f = city.facilities
        pts = shapely.point_on_surface(f.loc[f["category"] == "supermarket"].geometry.values)
        holds = [bool(shapely.intersects(u, pts).any()) for u in units.geometry.values]
        row = card.loc[card["target_id"] == "has_supermarket"].iloc[0]
        if any(holds):
            assert row["measured"] == pytest.approx(np.mean(holds))
        # without 社区 polygons every row says what it needs
        bare = geoplan.check_city(city, sheet="wanzheng-shequ").scorecard
        assert (bare["status"] == Status.NO_DATA).all()
        assert bare["note"].str.contains("--units").all()
