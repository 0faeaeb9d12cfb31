"""POIs combined with OSM facilities (``geoplan.city.pois``), counted by hand on a small case."""

from __future__ import annotations

import geopandas as gpd
import shapely

from geoplan.city.pois import MERGE_M, _combine, _duplicates


def _layer(rows: list[tuple[str, str, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"category": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=[shapely.Point(r[2], 0.0) for r in rows],
        crs=32648,
    )


OSM = _layer(
    [
        ("supermarket", "华联超市", 0.0),
        ("supermarket", "红旗连锁", 1000.0),
        ("supermarket", "永辉超市", 2000.0),
        ("pharmacy", "老百姓大药房", 3000.0),
    ]
)
NEW = _layer(
    [
        ("supermarket", "华联超市(东门店)", MERGE_M / 3),  # the same shop, 10 m off
        ("supermarket", "红旗连锁", 1000.0 + 2 * MERGE_M),  # same name, too far: another shop
        ("pharmacy", "益丰大药房", 3000.0 + MERGE_M / 3),  # close, another name
    ]
)


def test_duplicates_need_closeness_and_a_similar_name() -> None:
    assert list(_duplicates(NEW, OSM)) == [True, False, False]


def test_modes_by_hand() -> None:
    merged, notes = _combine(OSM, NEW, "merge")
    counts = merged["category"].value_counts()
    assert counts["supermarket"] == 3 + 1 and counts["pharmacy"] == 1 + 1
    assert "supermarket: OSM 3, export 2, used 4 (merged)" in notes[0]
    replaced, notes = _combine(OSM, NEW, "replace")
    assert replaced["category"].value_counts()["supermarket"] == 2
    assert any("lowered facility counts (supermarket 3 → 2)" in n for n in notes)
    auto, notes = _combine(OSM, NEW, "auto")  # 1 export pharmacy ≥ 1 OSM: replaced; shops merged
    c = auto["category"].value_counts()
    assert c["supermarket"] == 4 and c["pharmacy"] == 1
    assert "pharmacy: OSM 1, export 1, used 1 (replaced)" in notes[0]
