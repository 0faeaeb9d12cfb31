"""The built-up area (建成区) as the denominator of area-based figures (issue 10 item 4)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _reference import buffer_cover_share
from tolerances import AREA_REL
from typer.testing import CliRunner

import geoplan
from geoplan.io.boundary import read_area


def _west(city: geoplan.City) -> shapely.Polygon:
    x0, y0, x1, y1 = city.boundary_polygon.bounds
    return shapely.box(x0 - 500, y0 - 500, (x0 + x1) / 2, y1 + 500)


def test_area_figures_use_the_built_up_area(chengdu: geoplan.City) -> None:
    west = _west(chengdu)
    res = geoplan.check_city(chengdu, sheet="anyang-2023", built_up=west)
    m = res.measures
    area = chengdu.boundary_polygon & west  # the part of the study area inside the built-up area

    def val(measure: str, method: str) -> tuple[float, str]:
        r = m.loc[
            (m["measure"] == measure) & (m["method"] == method) & (m["basis"] == "built_up_area")
        ]
        assert len(r) == 1, (measure, method)
        return float(r["value"].iloc[0]), str(r["note"].iloc[0])

    green, note = val("green_land_ratio", "area")
    ref = shapely.union_all(chengdu.parks.geometry.values).intersection(area).area / area.area
    assert green == pytest.approx(ref, rel=AREA_REL)
    assert f"建成区 built-up area {area.area / 1e6:,.2f} km²" in note
    bus, _ = val("bus_cov_500", "buffer")
    assert bus == pytest.approx(
        buffer_cover_share(list(chengdu.bus_stops.geometry.values), 500.0, [area]), rel=AREA_REL
    )
    assert not (m["basis"] == "boundary_area").any()
    card = res.scorecard
    assert (card.loc[card["indicator"] == "bus_stop_coverage", "basis"] == "built_up_area").all()


def test_cli_built_up(tmp_path: Path, chengdu: geoplan.City) -> None:
    from geoplan.cli import app

    f = tmp_path / "jianchengqu.geojson"
    gpd.GeoDataFrame(geometry=[_west(chengdu)], crs=chengdu.crs).to_crs(4326).to_file(f)
    assert read_area(f, chengdu.crs).area > 0
    out = CliRunner().invoke(
        app,
        [
            "check",
            "--osm",
            chengdu.report.source,
            "--boundary",
            str(tmp_path / "b.geojson"),
            "--built-up",
            str(f),
            "--out",
            str(tmp_path / "o"),
            "-q",
        ],
    )
    assert out.exit_code == 2 and "b.geojson: boundary file not found" in out.output
    gpd.GeoDataFrame(geometry=[chengdu.boundary_polygon], crs=chengdu.crs).to_crs(4326).to_file(
        tmp_path / "b.geojson"
    )
    ok = CliRunner().invoke(
        app,
        [
            "check",
            "--osm",
            chengdu.report.source,
            "--boundary",
            str(tmp_path / "b.geojson"),
            "--built-up",
            str(f),
            "--out",
            str(tmp_path / "o"),
            "-q",
        ],
    )
    assert ok.exit_code == 0, ok.output
    far = tmp_path / "far.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(104.2, 30.75, 104.3, 30.8)], crs=4326).to_file(far)
    bad = CliRunner().invoke(
        app,
        [
            "check",
            "--osm",
            chengdu.report.source,
            "--boundary",
            str(tmp_path / "b.geojson"),
            "--built-up",
            str(far),
            "--out",
            str(tmp_path / "o2"),
            "-q",
        ],
    )
    assert bad.exit_code == 2 and "does not overlap the study area" in bad.output


def test_derived_built_up_follows_mapped_land_and_streets(
    chengdu: geoplan.City, sao_paulo: geoplan.City
) -> None:
    """Without --built-up the area is derived from OSM, checked against shapely overlays."""
    from geoplan.rules.built_up import built_up_area

    for city in (chengdu, sao_paulo):
        area = built_up_area(city.urban_land, city.roads, city.boundary_polygon)
        bnd = city.boundary_polygon
        assert area.difference(bnd.buffer(1e-6)).area < 1.0  # inside the study area
        # every residential parcel of at least 1 ha is (almost wholly) built-up land
        res = city.residential.geometry.values
        big = [g for g in res if g.intersection(bnd).area >= 10_000]
        if big:
            inside = sum(g.intersection(area).area for g in big) / sum(
                g.intersection(bnd).area for g in big
            )
            assert inside >= 0.97
        # no built-up land where no road and no urban land lies within 600 m (window + closing)
        near = shapely.union_all(
            [*shapely.buffer(city.roads.geometry.values, 600), *city.urban_land.buffer(600)]
        )
        assert area.difference(near).area < 1e-6 * bnd.area
    # São Paulo's extract covers only part of its bbox: the empty west is not built-up
    sp_area = built_up_area(sao_paulo.urban_land, sao_paulo.roads, sao_paulo.boundary_polygon)
    roads_hull = shapely.union_all(shapely.buffer(sao_paulo.roads.geometry.values, 300))
    assert sp_area.area < 0.6 * sao_paulo.boundary_polygon.area
    assert sp_area.difference(roads_hull).area < 0.02 * sp_area.area
    # central Chengdu is mostly built-up
    cd_area = built_up_area(chengdu.urban_land, chengdu.roads, chengdu.boundary_polygon)
    assert 0.7 < cd_area.area / chengdu.boundary_polygon.area < 1.0


def test_default_and_study_area_notes(chengdu: geoplan.City) -> None:
    default = geoplan.check_city(chengdu, sheet="jiyuan-2027")
    whole = geoplan.check_city(chengdu, sheet="jiyuan-2027", built_up="study_area")
    rd = default.measures[default.measures["indicator"] == "road_density"].iloc[0]
    rw = whole.measures[whole.measures["indicator"] == "road_density"].iloc[0]
    assert rd["basis"] == "built_up_area" and rw["basis"] == "boundary_area"
    assert f"{default.area.area / 1e6:,.2f} km²" in rd["note"] and "OSM" in rd["note"]
    assert f"{chengdu.area_km2:,.2f} km²" in rw["note"]
    # the roads inside the built-up area: at most those of the whole study area
    built_km = rd["value"] * default.area.area
    whole_km = rw["value"] * chengdu.boundary_polygon.area
    assert 0.9 * whole_km < built_km <= whole_km
    with pytest.raises(geoplan.GeoplanError, match="'osm' or 'study_area'"):
        geoplan.check_city(chengdu, sheet="jiyuan-2027", built_up="bbox")


def test_built_up_land_cover_joins_the_derived_area(chengdu: geoplan.City, tmp_path: Path) -> None:
    """A WorldCover-style raster: its class-50 (built-up) pixels are added to the OSM area."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    b = chengdu.boundary_polygon
    x0, y0, x1, y1 = b.bounds
    px = 20.0
    w, h = int(np.ceil((x1 - x0) / px)), int(np.ceil((y1 - y0) / px))
    arr = np.full((h, w), 30, dtype="uint8")  # grass
    arr[:, : w // 4] = 50  # the western quarter is built-up land cover
    tif = tmp_path / "wc.tif"
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        height=h,
        width=w,
        count=1,
        dtype="uint8",
        crs=chengdu.crs,
        transform=from_origin(x0, y1, px, px),
        nodata=0,
    ) as ds:
        ds.write(arr, 1)
    plain = geoplan.check_city(chengdu, sheet="jiyuan-2027")
    with_lc = geoplan.check_city(chengdu, sheet="jiyuan-2027", landcover=tif)
    west = shapely.box(x0, y0, x0 + (w // 4) * px, y1) & b
    # pixels count when their centre is inside the study area: at most a pixel along its edge
    edge = west.length * px
    assert west.difference(with_lc.area).area < edge
    assert abs(with_lc.area.area - (plain.area | west).area) < edge
    assert with_lc.area.area > plain.area.area + 0.5 * west.difference(plain.area).area


def test_street_samples_equal_geos_interpolation(chengdu: geoplan.City) -> None:
    """The built-up rule's street samples (numpy) = shapely.line_interpolate_point, exactly."""
    from geoplan.rules.built_up import _line_samples

    lines = np.asarray(chengdu.roads.geometry.values, dtype=object)
    x, y, rep = _line_samples(lines, step_m=5.0)
    parts = shapely.get_parts(lines)
    counts = np.bincount(rep, minlength=parts.shape[0])
    k = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
    ref = shapely.line_interpolate_point(parts[rep], (k + 0.5) / counts[rep], normalized=True)
    assert rep.size > 10_000
    assert np.array_equal(np.column_stack([x, y]), shapely.get_coordinates(ref))


def test_far_apart_parts_rasterised_apart_equal_one_raster(chengdu: geoplan.City) -> None:
    """A study area in parts far apart is rasterised part by part: the same built-up area as
    one raster over the whole bounding box (cell for cell, same lattice)."""
    from scipy import ndimage

    from geoplan.rules import built_up as bu
    from geoplan.rules import taxonomy as tx

    rule = tx.built_up_rule()
    x0, y0, x1, y1 = chengdu.boundary_polygon.bounds
    w = (x1 - x0) / 3
    parts = shapely.MultiPolygon(
        [shapely.box(x0, y0, x0 + w, y0 + w), shapely.box(x1 - w, y1 - w, x1, y1)]
    )
    assert len(bu._separate_groups(parts, bu._reach_m(rule))) == 2
    ug = np.asarray(chengdu.urban_land.geometry.values, dtype=object)
    rg = np.asarray(chengdu.roads.geometry.values, dtype=object)
    whole = bu._built_up_in(ug, rg, parts, rule)
    apart = bu.built_up_area(chengdu.urban_land, chengdu.roads, parts)
    assert whole.area > 1e6
    assert shapely.symmetric_difference(whole, apart).area == 0.0
    # the street window sums = ndimage.uniform_filter's window, exactly
    a = np.random.default_rng(3).integers(0, 5, (61, 47))
    for k in (1, 4, 20, 21):
        ref = ndimage.uniform_filter(a.astype(float), size=k, mode="constant") * k * k
        assert np.array_equal(bu._window_sum(a, k), np.rint(ref).astype(np.int64))


def test_far_apart_clusters_of_data_rasterised_apart_equal_one_raster(
    chengdu: geoplan.City,
) -> None:
    """Data in clusters far apart (a sparse extract: Chengdu and two copies 40 km away) under
    one study-area box: rasterised cluster by cluster, the same built-up area as one raster
    over the whole box, and the empty land between costs no memory."""
    from geoplan.rules import built_up as bu
    from geoplan.rules import taxonomy as tx

    rule = tx.built_up_rule()
    ug0 = np.asarray(chengdu.urban_land.geometry.values, dtype=object)
    rg0 = np.asarray(chengdu.roads.geometry.values, dtype=object)
    shifts = [(0.0, 0.0), (40_000.0, 0.0), (40_000.0, 40_000.0)]
    ug = np.concatenate([shapely.transform(ug0, lambda xy, d=d: xy + d) for d in shifts])
    rg = np.concatenate([shapely.transform(rg0, lambda xy, d=d: xy + d) for d in shifts])
    x0, y0, x1, y1 = chengdu.boundary_polygon.bounds
    box = shapely.box(x0 - 1_000, y0 - 1_000, x1 + 41_000, y1 + 41_000)
    groups = bu._data_groups(ug, rg, box, bu._reach_m(rule))
    assert len(groups) == 3
    assert sum(g.area for g in groups) < 0.4 * box.area
    whole = bu._built_up_in(ug, rg, box, rule)
    apart = bu.built_up_area(
        gpd.GeoDataFrame(geometry=ug, crs=chengdu.crs),
        gpd.GeoDataFrame(geometry=rg, crs=chengdu.crs),
        box,
    )
    assert whole.area > 3e6
    assert shapely.symmetric_difference(whole, apart).area == 0.0
    # one cluster: the single raster over the whole, unchanged
    assert bu._data_groups(ug0, rg0, box, bu._reach_m(rule)) == [box]
    assert bu._data_groups(ug0[:0], rg0[:0], box, 350.0) == []


@pytest.mark.parametrize("layer", ["residential", "parks", "buildings"])
def test_polygons_listed_by_numpy_burn_the_same_cells(
    chengdu: geoplan.City, helsinki: geoplan.City, layer: str
) -> None:
    from rasterio import features
    from rasterio.transform import from_origin

    from geoplan.rules.built_up import geojson_polygons

    for city in (chengdu, helsinki):
        frame = getattr(city, layer, None)
        if frame is None or not len(frame):
            continue
        g = np.asarray(frame.geometry.values, dtype=object)
        x0, y0, x1, y1 = shapely.total_bounds(g)
        shape = (int((y1 - y0) // 10) + 1, int((x1 - x0) // 10) + 1)
        tr = from_origin(x0, y1, 10.0, 10.0)
        want = features.rasterize(((p, 1) for p in g), out_shape=shape, transform=tr)
        got = features.rasterize(
            ((p, 1) for p in geojson_polygons(g)), out_shape=shape, transform=tr
        )
        assert want.sum() > 0
        np.testing.assert_array_equal(got, want)
        # the same rings and coordinates as shapely's own interface
        parts = shapely.get_parts(g)
        one = geojson_polygons(parts[:50])
        for p, d in zip(parts[:50], one, strict=True):
            ref = p.__geo_interface__["coordinates"]
            assert [list(map(list, r)) for r in ref] == d["coordinates"]
