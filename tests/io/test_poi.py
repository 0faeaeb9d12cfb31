"""POI exports (issue 10): an AMap-format export made here from the Chengdu OSM facilities
(shifted to GCJ-02, typecodes from the official table) reproduces the OSM-based figures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from conftest import DATA

import geoplan
from geoplan.io import coords
from geoplan.io.poi import read_pois

RULES = yaml.safe_load(
    (Path(geoplan.__file__).parent / "data" / "poi_categories.yaml").read_text(encoding="utf-8")
)
AMAP = pd.read_csv(DATA / "amap_poi_types.csv", dtype=str)
BAIDU = pd.read_csv(DATA / "baidu_poi_types.csv", dtype=str)


def _code_for(cat: str) -> str | None:
    """A real AMap typecode (from the official table) that the mapping sends to ``cat``."""
    for prefix, c in RULES["amap"].items():
        if c == cat:
            hit = AMAP.loc[AMAP["typecode"].str.startswith(str(prefix)), "typecode"]
            if len(hit):
                return str(hit.iloc[0])
    return None


def test_every_mapped_code_and_tag_exists_in_the_official_tables() -> None:
    codes = set(AMAP["typecode"])
    for prefix in RULES["amap"]:
        assert any(c.startswith(str(prefix)) for c in codes), prefix
    tags = set(BAIDU["tag"]) | set(BAIDU["level1_zh"])
    for tag in RULES["baidu"]:
        assert tag in tags, tag


@pytest.fixture(scope="module")
def pointed(chengdu: geoplan.City) -> geoplan.City:
    """Chengdu with every facility as a point (a POI export has points only)."""
    f = chengdu.facilities.copy()
    f["geometry"] = shapely.point_on_surface(f.geometry.values)
    return dataclasses.replace(chengdu, facilities=f)


def _amap_csv(city: geoplan.City, path: Path) -> pd.DataFrame:
    f = city.facilities
    rows = []
    w = f.to_crs(4326)
    for (_, r), g in zip(f.iterrows(), w.geometry, strict=True):
        code = _code_for(str(r["category"]))
        name = str(r["name"] or "")
        if code is None:  # name-only categories: the name says it
            words = RULES["names"].get(str(r["category"]))
            if not words:
                continue
            # a real code of the class where AMap files that kind of place (name_classes)
            prefix = RULES["name_classes"][str(r["category"])]["amap"][0]
            code = str(AMAP.loc[AMAP["typecode"].str.startswith(prefix), "typecode"].iloc[0])
            name = f"{name}{words[0]}"
        lon, lat = coords.wgs84_to_gcj02(g.x, g.y)
        rows.append(
            {"名称": name, "typecode": code, "location": f"{float(lon):.9f},{float(lat):.9f}"}
        )
    df = pd.DataFrame(rows)
    df.to_csv(path, index=False, encoding="utf-8-sig")
    return df


def test_every_name_class_exists_in_the_official_tables() -> None:
    codes = set(AMAP["typecode"])
    tags = set(BAIDU["tag"]) | set(BAIDU["level1_zh"])
    assert set(RULES["name_classes"]) == set(RULES["names"])  # every name rule has its classes
    for cat, classes in RULES["name_classes"].items():
        for prefix in classes["amap"]:
            assert any(c.startswith(prefix) for c in codes), (cat, prefix)
        for tag in classes["baidu"]:
            assert tag in tags, (cat, tag)


def test_a_name_never_moves_a_poi_across_classes(tmp_path: Path) -> None:
    """Hand table: the type code decides; a name refines within its class or names a POI with
    no code. Expected categories read off the official tables (05 餐饮, 09 医疗, 1412 学校)."""
    rows = [
        ("蜜雪冰城(成都七中初中店)", "050000", "restaurant"),  # a tea shop stays a shop
        ("茶百道(树德中学高中部店)", "050100", "restaurant"),
        ("中国邮政储蓄银行(火车北站支行)", "160100", "bank"),
        ("玉林社区卫生服务中心", "090100", "health_centre"),  # 综合医院 → refined by name
        ("成都七中初中学校", "141202", "middle_school"),
        ("树德中学高中部", "141202", "high_school"),  # 中学 → 高中 within 学校
        ("望江社区卫生服务站", "", "clinic"),  # no code: the name classifies
        ("锦江区养老院", "130400", "elderly_care"),  # 社会团体: within the class
    ]
    df = pd.DataFrame(
        {
            "name": [r[0] for r in rows],
            "typecode": [r[1] for r in rows],
            "location": ["104.07,30.66"] * len(rows),
        }
    )
    p = tmp_path / "amap.csv"
    df.to_csv(p, index=False, encoding="utf-8-sig")
    got, report = read_pois(p)
    assert got["category"].tolist() == [r[2] for r in rows]
    kept = {k: v for k, v in report.by_name.items() if k.startswith("kept")}
    assert kept == {
        "kept restaurant (050000), name says middle_school": ["蜜雪冰城(成都七中初中店)"],
        "kept restaurant (050100), name says high_school": ["茶百道(树德中学高中部店)"],
    }
    assert report.by_name["hospital → health_centre"] == ["玉林社区卫生服务中心"]
    assert report.by_name["middle_school → high_school"] == ["树德中学高中部"]
    assert "name says middle_school" in report.summary()


def test_amap_export_reproduces_the_osm_figures(pointed: geoplan.City, tmp_path: Path) -> None:
    """With a decoy: a tea shop named after a school (AMap 05) must not become a school."""
    csv = tmp_path / "amap.csv"
    exported = _amap_csv(pointed, csv)
    at_a_restaurant = exported.loc[exported["typecode"].str.startswith("05")].iloc[[0]]
    decoy = at_a_restaurant.assign(名称="蜜雪冰城(某某一初中店)", typecode="050000")
    exported = pd.concat([exported, decoy], ignore_index=True)
    exported.to_csv(csv, index=False, encoding="utf-8-sig")
    city, (report,) = geoplan.with_pois(pointed, [csv])
    assert report.provider == "amap" and report.n_rows == len(exported)
    osm_counts = pointed.facilities["category"].value_counts().to_dict()
    osm_counts["restaurant"] = osm_counts.get("restaurant", 0) + 1  # the decoy
    for cat, n in report.per_category.items():
        assert n == osm_counts[cat], cat
    a = geoplan.check_city(pointed, sheet="luoyang-2023").measures
    b = geoplan.check_city(city, sheet="luoyang-2023").measures
    m = a.merge(b, on=["indicator", "measure", "method", "basis"], suffixes=("_osm", "_poi"))
    lc = m.loc[m["indicator"].isin(["life_circle", "circle"])]
    assert len(lc) > 20
    np.testing.assert_allclose(
        lc["value_poi"].to_numpy(float), lc["value_osm"].to_numpy(float), atol=1e-6
    )


def test_baidu_export_bd09_and_unmapped_codes(pointed: geoplan.City, tmp_path: Path) -> None:
    f = pointed.facilities.to_crs(4326)
    sel = f.loc[f["category"].isin(["restaurant", "primary_school"])].head(20)
    lon, lat = coords.wgs84_to_bd09(sel.geometry.x.to_numpy(), sel.geometry.y.to_numpy())
    tags = np.where(sel["category"] == "restaurant", "美食;中餐厅", "教育培训;小学")
    df = pd.DataFrame({"name": sel["name"].astype(str), "tag": tags, "lng": lon, "lat": lat})
    df.loc[len(df)] = {"name": "某加油站", "tag": "汽车服务;加油站", "lng": lon[0], "lat": lat[0]}
    p = tmp_path / "baidu.csv"
    df.to_csv(p, index=False)
    g, rep = read_pois(p)
    assert rep.provider == "baidu" and rep.unmapped == {"汽车服务;加油站": 1}
    back = g.to_crs(pointed.crs)
    ref = sel.to_crs(pointed.crs)
    assert np.max(back.distance(ref.reset_index(drop=True))) < 1.0  # BD-09 undone to < 1 m


def test_cli_facilities_option(tmp_path: Path, pointed: geoplan.City) -> None:
    from typer.testing import CliRunner

    from geoplan.cli import app

    csv = tmp_path / "amap.csv"
    _amap_csv(pointed, csv)
    out = CliRunner().invoke(
        app,
        [
            "check",
            "--osm",
            str(DATA / "chengdu_2018_center.osm.pbf"),
            "--facilities",
            str(csv),
            "--out",
            str(tmp_path / "o"),
            "-t",
            "luoyang-2023",
        ],
        env={"COLUMNS": "200"},
    )
    assert out.exit_code == 0, out.output
    assert "amap.csv (amap):" in out.output and "POIs →" in out.output


def test_scenario_city_takes_poi_exports(tmp_path: Path, pointed: geoplan.City) -> None:
    from geoplan.scenario.files import load_scenario_file

    csv = tmp_path / "amap.csv"
    _amap_csv(pointed, csv)
    scn = tmp_path / "s.yaml"
    scn.write_text(
        f"name: s\ncity: {{osm: {DATA / 'chengdu_2018_center.osm.pbf'}, "
        "boundary: [104.0421, 30.6528, 104.1296, 30.7279], facilities: amap.csv}\n"
        "changes: []\n",
        encoding="utf-8",
    )
    city = load_scenario_file(scn).load_base()
    kinds = set(city.facilities["osm_type"])
    assert "poi" in kinds
    assert any("amap.csv (amap):" in n for n in city.report.notes)
    bad = tmp_path / "b.yaml"
    bad.write_text("name: b\ncity: {osm: demo, facilities: nope.csv}\nchanges: []\n", "utf-8")
    with pytest.raises(geoplan.ScenarioError, match=r"city: \S*nope\.csv: POI export not found"):
        load_scenario_file(bad)


def test_merge_mode_counts_a_facility_once(pointed: geoplan.City, tmp_path: Path) -> None:
    """merge: POIs of OSM facilities (same place, same name) are not added twice; a new POI is."""
    f = pointed.facilities.loc[pointed.facilities["category"] == "restaurant"].head(5)
    w = f.to_crs(4326)
    lon, lat = coords.wgs84_to_gcj02(w.geometry.x.to_numpy(), w.geometry.y.to_numpy())
    rows = [
        {"name": n, "typecode": "050100", "location": f"{a:.9f},{b:.9f}"}
        for n, a, b in zip(w["name"].astype(str), lon, lat, strict=True)
    ]
    rows.append(
        {
            "name": "新开的面馆",
            "typecode": "050100",
            "location": f"{lon[0] + 0.01:.9f},{lat[0]:.9f}",
        }
    )
    csv = tmp_path / "amap.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    merged, _ = geoplan.with_pois(pointed, [csv], mode="merge")
    n_osm = int((pointed.facilities["category"] == "restaurant").sum())
    assert int((merged.facilities["category"] == "restaurant").sum()) == n_osm + 1
    replaced, _ = geoplan.with_pois(pointed, [csv], mode="replace")
    assert int((replaced.facilities["category"] == "restaurant").sum()) == 6
    from typer.testing import CliRunner

    from geoplan.cli import app

    res = CliRunner().invoke(
        app,
        [
            "check",
            "--osm",
            str(DATA / "chengdu_2018_center.osm.pbf"),
            "--facilities",
            str(csv),
            "--facilities-mode",
            "merge",
            "--out",
            str(tmp_path / "o"),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output


def test_everything_a_planner_holds_in_one_check(
    pointed: geoplan.City, chengdu: geoplan.City, tmp_path: Path
) -> None:
    """Issue 10's full command on Chengdu: AMap POIs, 街道 census counts, a 建成区, units and a
    land-cover raster together; every row states its basis, every area row its area (km²)."""
    import json

    import geopandas as gpd
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin
    from typer.testing import CliRunner

    from geoplan.cli import app

    amap = tmp_path / "amap.csv"
    _amap_csv(pointed, amap)
    bnd = chengdu.boundary_polygon
    x0, y0, x1, y1 = bnd.bounds
    xm = (x0 + x1) / 2
    jd = gpd.GeoDataFrame(
        {"常住人口": [80_000, 40_000], "name": ["西街道", "东街道"]},
        geometry=[shapely.box(x0, y0, xm, y1) & bnd, shapely.box(xm, y0, x1, y1) & bnd],
        crs=chengdu.crs,
    ).to_crs(4326)
    jd.to_file(tmp_path / "jiedao.geojson")
    jcq = gpd.GeoDataFrame(
        geometry=[shapely.box(x0, y0, x0 + 0.75 * (x1 - x0), y1) & bnd], crs=chengdu.crs
    ).to_crs(4326)
    jcq.to_file(tmp_path / "jianchengqu.geojson")
    px = 50.0
    w, h = int(np.ceil((x1 - x0) / px)), int(np.ceil((y1 - y0) / px))
    with rasterio.open(
        tmp_path / "wc.tif",
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
        ds.write(np.full((h, w), 50, dtype="uint8"), 1)
    b = tmp_path / "b.geojson"
    gpd.GeoDataFrame(geometry=[bnd], crs=chengdu.crs).to_crs(4326).to_file(b)
    out = tmp_path / "o"
    res = CliRunner().invoke(
        app,
        [
            "check",
            "--osm",
            chengdu.report.source,
            "--boundary",
            str(b),
            "-t",
            "anyang-2023",
            "--facilities",
            str(amap),
            "--population",
            str(tmp_path / "jiedao.geojson"),
            "--population-column",
            "常住人口",
            "--built-up",
            str(tmp_path / "jianchengqu.geojson"),
            "--units",
            str(tmp_path / "jiedao.geojson"),
            "--unit-name",
            "name",
            "--landcover",
            str(tmp_path / "wc.tif"),
            "--out",
            str(out),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(next(out.glob("*_scorecard.json")).read_text(encoding="utf-8"))
    km2 = jcq.to_crs(chengdu.crs).intersection(bnd).area.sum() / 1e6
    for r in doc["measures"]:
        assert r["basis"], r
        if r["basis"] in ("built_up_area", "boundary_area"):
            assert r["basis"] == "built_up_area"
            assert f"{km2:,.2f} km²" in r["note"], r
    by_res = [r for r in doc["measures"] if r["basis"] == "residents" and r["value"] is not None]
    assert {r["method"] for r in by_res} >= {"buffer", "network"}
    units = pd.read_csv(next(out.glob("*_units.csv")))
    assert set(units["unit"]) == {"西街道", "东街道"}
    prov = json.loads(next(out.glob("*_provenance.json")).read_text(encoding="utf-8"))
    assert {"osm", "population", "built_up", "units", "landcover", "facilities_1"} <= set(
        prov["inputs"]
    )


def _restaurant_export(city: geoplan.City, path: Path, n: int) -> pd.DataFrame:
    """The first ``n`` OSM restaurants of ``city`` as an AMap export (same names and places)."""
    f = city.facilities.loc[city.facilities["category"] == "restaurant"].head(n).to_crs(4326)
    lon, lat = coords.wgs84_to_gcj02(f.geometry.x.to_numpy(), f.geometry.y.to_numpy())
    df = pd.DataFrame(
        {
            "name": f["name"].astype(str).to_numpy(),
            "typecode": "050000",
            "location": [f"{x:.9f},{y:.9f}" for x, y in zip(lon, lat, strict=True)],
        }
    )
    df.to_csv(path, index=False, encoding="utf-8-sig")
    return df


def test_a_thin_export_does_not_replace_a_fuller_osm_layer(
    pointed: geoplan.City, tmp_path: Path
) -> None:
    """5 restaurants against OSM's (a pandas count of the city's own layer): auto merges them
    (the same places and names count once), replace keeps 5 and warns of the drop."""
    n_osm = int((pointed.facilities["category"] == "restaurant").sum())
    assert n_osm > 100
    csv = tmp_path / "amap.csv"
    _restaurant_export(pointed, csv, 5)
    auto, _ = geoplan.with_pois(pointed, [csv])
    assert int((auto.facilities["category"] == "restaurant").sum()) == n_osm
    assert any(
        f"restaurant: OSM {n_osm}, export 5, used {n_osm} (merged)" in n for n in auto.report.notes
    )
    forced, _ = geoplan.with_pois(pointed, [csv], mode="replace")
    assert int((forced.facilities["category"] == "restaurant").sum()) == 5
    assert any(
        f"lowered facility counts (restaurant {n_osm} → 5)" in n for n in forced.report.notes
    )
    assert not any("lowered" in n for n in pointed.report.notes)  # the input city is untouched
    # auto, an export at least as full as OSM: it replaces (the figures of the export-of-OSM test)
    _restaurant_export(pointed, csv, n_osm)
    full, _ = geoplan.with_pois(pointed, [csv])
    assert any(f"export {n_osm}, used {n_osm} (replaced)" in n for n in full.report.notes)


def test_pois_outside_the_study_area_are_counted_and_a_foreign_file_refused(
    pointed: geoplan.City, tmp_path: Path
) -> None:
    csv = tmp_path / "amap.csv"
    df = _restaurant_export(pointed, csv, 20)
    far = df.assign(location="116.397,39.909")  # Beijing, 1500 km away
    pd.concat([df, far.head(3)]).to_csv(csv, index=False, encoding="utf-8-sig")
    _, (rep,) = geoplan.with_pois(pointed, [csv])
    assert (rep.inside, rep.outside) == (20, 3)
    assert "3 outside the study area" in rep.summary()
    pd.concat([df.head(1), far]).to_csv(csv, index=False, encoding="utf-8-sig")
    with pytest.raises(
        geoplan.LayerError, match=r"amap\.csv: only 1 of its 21 mapped POIs \(4\.8%\)"
    ):
        geoplan.with_pois(pointed, [csv])


def test_typecodes_that_lost_their_leading_zero_are_restored(tmp_path: Path) -> None:
    """Excel reads 050100 as the number 50100: the codes are put back, not reported unmapped.
    Expected categories read off the official table for the six-digit codes."""
    rows = [("某餐厅", "50100"), ("某超市", "60400"), ("某医院", "90100.0"), ("某小学", "141203")]
    df = pd.DataFrame(
        {"name": [r[0] for r in rows], "typecode": [r[1] for r in rows], "location": "104.07,30.66"}
    )
    p = tmp_path / "amap.csv"
    df.to_csv(p, index=False, encoding="utf-8-sig")
    got, report = read_pois(p)
    official = AMAP.set_index("typecode")
    for code in ("050100", "060400", "090100"):
        assert code in official.index
    assert got["category"].tolist() == ["restaurant", "supermarket", "hospital", "primary_school"]
    assert got["source_code"].tolist() == ["050100", "060400", "090100", "141203"]
    assert report.restored_codes == 3 and report.unmapped == {}
    assert "3 typecodes had lost their leading 0" in report.summary()


def test_a_poi_listed_twice_counts_once(pointed: geoplan.City, tmp_path: Path) -> None:
    """The issue's case: the same supermarkets twice (an export appended to itself). Counted by
    hand: the file's rows, and the distinct (name, place) pairs."""
    csv = tmp_path / "amap.csv"
    f = pointed.facilities.loc[pointed.facilities["category"] == "supermarket"].to_crs(4326)
    lon, lat = coords.wgs84_to_gcj02(f.geometry.x.to_numpy(), f.geometry.y.to_numpy())
    one = pd.DataFrame(
        {
            "name": f["name"].fillna("").astype(str).to_numpy(),
            "typecode": "060400",
            "location": [f"{x:.9f},{y:.9f}" for x, y in zip(lon, lat, strict=True)],
        }
    )
    twice = pd.concat([one, one], ignore_index=True)
    twice.to_csv(csv, index=False, encoding="utf-8-sig")
    unnamed = int((one["name"] == "").sum())  # no name: nothing says they are the same POI
    distinct = len(one.loc[one["name"] != ""].drop_duplicates()) + 2 * unnamed
    assert len(one) > 5
    city, (rep,) = geoplan.with_pois(pointed, [csv])
    assert rep.duplicates == len(twice) - distinct
    assert int((city.facilities["category"] == "supermarket").sum()) == distinct
    assert "listed twice" in rep.summary()


@pytest.mark.parametrize(
    ("layout", "actual", "said"),
    [("amap", "wgs84", "WGS-84"), ("amap", "bd09", "BD-09"), ("baidu", "gcj02", "GCJ-02")],
)
def test_an_export_in_another_coordinate_system_is_refused(
    pointed: geoplan.City, tmp_path: Path, layout: str, actual: str, said: str
) -> None:
    """The city's own restaurants written in one system under another provider's layout: a
    WGS-84 AMap export was shifted ~500 m as if GCJ-02 (33 figures off), a BD-09 file in AMap's
    layout taken as GCJ-02 (34 figures off). Read as what it is, every POI sits on its OSM
    restaurant: the file is refused naming the system."""
    f = pointed.facilities.loc[pointed.facilities["category"] == "restaurant"].head(30)
    w = f.to_crs(4326)
    lon, lat = w.geometry.x.to_numpy(), w.geometry.y.to_numpy()
    if actual == "gcj02":
        lon, lat = coords.wgs84_to_gcj02(lon, lat)
    elif actual == "bd09":
        lon, lat = coords.wgs84_to_bd09(lon, lat)
    names = f["name"].fillna("餐厅").astype(str).to_numpy()
    if layout == "amap":
        df = pd.DataFrame(
            {
                "name": names,
                "typecode": "050000",
                "location": [f"{a:.8f},{b:.8f}" for a, b in zip(lon, lat, strict=True)],
            }
        )
    else:
        df = pd.DataFrame({"name": names, "tag": "美食;中餐厅", "lng": lon, "lat": lat})
    csv = tmp_path / "pois.csv"
    df.to_csv(csv, index=False, encoding="utf-8-sig")
    with pytest.raises(geoplan.LayerError, match=rf"pois\.csv: the coordinates look like {said}"):
        geoplan.with_pois(pointed, [csv])


def _five_restaurants(city: geoplan.City) -> pd.DataFrame:
    f = city.facilities.loc[city.facilities["category"] == "restaurant"].head(5).to_crs(4326)
    lon, lat = coords.wgs84_to_gcj02(f.geometry.x.to_numpy(), f.geometry.y.to_numpy())
    return pd.DataFrame(
        {
            "name": [f"餐厅{i}" for i in range(5)],
            "typecode": "050000",
            "location": [f"{a:.8f},{b:.8f}" for a, b in zip(lon, lat, strict=True)],
        }
    )


@pytest.mark.parametrize("form", ["json-bom", "json-gbk", "xlsx-title-row", "geojson-aoi"])
def test_legitimate_exports_are_read_not_refused(
    pointed: geoplan.City, tmp_path: Path, form: str
) -> None:
    """Exports as planners get them (were refused): JSON with a BOM or in GBK, a sheet with a
    title row above its header, AOI polygons. Each reads the 5 restaurants at their places."""
    import json

    import geopandas as gpd

    df = _five_restaurants(pointed)
    if form.startswith("json"):
        p = tmp_path / "pois.json"
        text = json.dumps({"pois": df.to_dict(orient="records")}, ensure_ascii=False)
        p.write_bytes(text.encode("utf-8-sig" if form == "json-bom" else "gbk"))
    elif form == "xlsx-title-row":
        p = tmp_path / "pois.xlsx"
        with pd.ExcelWriter(p, engine="openpyxl") as xw:
            pd.DataFrame([["高德POI导出 2024-05"]]).to_excel(xw, index=False, header=False)
            df.to_excel(xw, index=False, startrow=2)
    else:
        p = tmp_path / "pois.geojson"
        lon = df["location"].str.split(",").str[0].astype(float)
        lat = df["location"].str.split(",").str[1].astype(float)
        squares = [
            shapely.box(x - 1e-4, y - 1e-4, x + 1e-4, y + 1e-4)
            for x, y in zip(lon, lat, strict=True)
        ]
        gpd.GeoDataFrame(df.drop(columns="location"), geometry=squares, crs=4326).to_file(p)
    got, report = read_pois(p)
    assert report.provider == "amap" and got["category"].tolist() == ["restaurant"] * 5
    want = pointed.facilities.loc[pointed.facilities["category"] == "restaurant"].head(5)
    d = got.to_crs(pointed.crs).distance(want.reset_index(drop=True).geometry)
    assert float(d.max()) < 1.0  # GCJ-02 undone at every POI (the AOI's centre, < 1 m)


def test_tijian_categories_from_amap_codes_and_baidu_tags() -> None:
    """The codes of amap_poi_types.csv / tags of baidu_poi_types.csv for the new categories
    (rows quoted in poi_categories.yaml): a public lot is parking, a reserved lot or an entrance
    is not; a subway exit is not a station; a 托儿所 coded 幼儿园 is a nursery."""
    from geoplan.io.poi import classify

    amap = {
        "150904": "parking",  # 停车场;公共停车场
        "150905": "",  # 停车场;专用停车场
        "150909": "",  # 停车场出入口
        "011102": "charging",  # 充电站;充换电站
        "150500": "metro_station",  # 地铁站
        "150501": "",  # 地铁站;出入口
        "130504": "fire_station",  # 公检法机构;消防机关
        "200400": "shelter",  # 紧急避难场所
        "071200": "repair",  # 维修站点
        "070500": "express",  # 物流速递
        "070501": "",  # 物流仓储场地
        "110105": "public_space",  # 城市广场
    }
    names = pd.Series(["某地点"] * len(amap))
    got, _ = classify(names, pd.Series(list(amap)), "amap")
    assert list(got) == list(amap.values())
    got, _ = classify(
        pd.Series(["阳光托儿所", "胡辣汤早餐"]), pd.Series(["141204", "050100"]), "amap"
    )
    assert list(got) == ["nursery", "breakfast"]
    baidu = {
        "交通设施;停车场": "parking",
        "交通设施;充电站": "charging",
        "交通设施;地铁站": "metro_station",
        "生活服务;维修点": "repair",
        "休闲娱乐;休闲广场": "public_space",
    }
    got, _ = classify(pd.Series(["某地点"] * len(baidu)), pd.Series(list(baidu)), "baidu")
    assert list(got) == list(baidu.values())


def test_a_baidu_export_with_chinese_headers_is_read(pointed: geoplan.City, tmp_path: Path) -> None:
    """名称 / 一级行业分类 / 二级行业分类 / 经度(BD09) / 纬度(BD09), as Baidu exports are handed
    over: the same POIs and positions as the English-headed export."""
    f = pointed.facilities.to_crs(4326)
    sel = f.loc[f["category"].isin(["restaurant", "primary_school"])].head(20)
    lon, lat = coords.wgs84_to_bd09(sel.geometry.x.to_numpy(), sel.geometry.y.to_numpy())
    rest = (sel["category"] == "restaurant").to_numpy()
    df = pd.DataFrame(
        {
            "名称": sel["name"].astype(str).to_numpy(),
            "一级行业分类": np.where(rest, "美食", "教育培训"),
            "二级行业分类": np.where(rest, "中餐厅", "小学"),
            "经度(BD09)": lon,
            "纬度(BD09)": lat,
            "地址": "某路1号",
        }
    )
    p = tmp_path / "百度.csv"
    df.to_csv(p, index=False, encoding="utf-8-sig")
    g, rep = read_pois(p)
    assert rep.provider == "baidu" and len(g) == len(sel)
    assert sorted(g["category"]) == sorted(sel["category"])
    back = g.to_crs(pointed.crs).reset_index(drop=True)
    assert np.max(back.distance(sel.to_crs(pointed.crs).reset_index(drop=True))) < 1.0
