"""A catalogue of bad inputs: each gets one clear line, never a traceback or a wrong result.

Every case is made from the shared real data (the Chengdu extract, a small clip of it as the
study area, the embedded demo city, the repository's plan layers), runs the CLI as a planner
would, and asserts the exit status, that the message is ONE line naming the file / layer / row
and what to do, that no traceback is shown, and that every input file is byte-for-byte unchanged.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
import yaml
from conftest import CHENGDU_BBOX, CHENGDU_PBF, chengdu_clip_polygon
from typer.testing import CliRunner

import geoplan
from geoplan.cli import app
from geoplan.indicators.registry import resolve_params
from geoplan.io import coords
from geoplan.io.plan_layers import read_plan_layer
from geoplan.scoring.targets import TARGET_SHEETS_DIR

ROOT = Path(__file__).parents[1]
runner = CliRunner()


# ---- the input folder, built once from real data --------------------------------------------


def _write_inputs(d: Path) -> None:
    clip = chengdu_clip_polygon()
    gpd.GeoDataFrame({"name": ["clip"]}, geometry=[clip], crs=4326).to_file(d / "area.geojson")
    gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4326).to_file(d / "outside.geojson")
    gpd.GeoDataFrame({"kind": ["old town"]}, geometry=[clip], crs=4326).to_file(
        d / "area_noname.geojson"
    )
    x0, y0, x1, y1 = clip.bounds
    bow = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    gpd.GeoDataFrame(geometry=[bow], crs=4326).to_file(d / "bowtie.geojson")
    metric = gpd.GeoDataFrame(geometry=[clip], crs=4326).to_crs(32648)
    with warnings.catch_warnings():  # the point of the file: no CRS
        warnings.simplefilter("ignore", UserWarning)
        metric.set_crs(None, allow_override=True).to_file(d / "metres_nocrs.shp")
    swapped = shapely.transform(clip, lambda xy: xy[:, ::-1])
    gpd.GeoDataFrame(geometry=[swapped], crs=4326).to_file(d / "swapped.geojson")
    gpd.GeoDataFrame(geometry=[clip.centroid], crs=4326).to_file(d / "point.geojson")
    gpd.GeoDataFrame(geometry=[clip.exterior], crs=4326).to_file(d / "line.geojson")
    gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326).to_file(d / "empty.geojson")
    (d / "folder.geojson").mkdir()
    (d / "notes.txt").write_text("hello", encoding="utf-8")
    (d / "notes.geojson").write_text("this is not GeoJSON", encoding="utf-8")
    # OSM files whose content disagrees with their name, or is broken
    pbf = CHENGDU_PBF.read_bytes()
    (d / "pbf_named.osm").write_bytes(pbf)
    (d / "truncated.osm.pbf").write_bytes(pbf[: len(pbf) // 3])
    (d / "random.osm.pbf").write_bytes(bytes(range(256)) * 8)
    (d / "empty.osm.pbf").write_bytes(b"")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<node id="1" lat="30.690" lon="104.080"><tag k="amenity" v="kindergarten"/></node>\n'
        '<node id="2" lat="30.691" lon="104.082"><tag k="highway" v="bus_stop"/></node>\n'
        "</osm>\n"
    )
    (d / "no_highways.osm").write_text(xml, encoding="utf-8")
    (d / "xml_named.osm.pbf").write_text(xml, encoding="utf-8")
    (d / "gzip_named.osm.bz2").write_bytes(gzip.compress(xml.encode()))
    (d / "bz2_named.osm.gz").write_bytes(bz2.compress(xml.encode()))
    # population
    # points in the demo city (Helsinki centre), 200 m apart
    lon = 24.93 + 0.0036 * np.arange(6)
    lat = np.full(6, 60.17)
    rows = ["lon,lat,population"] + [
        f"{a},{b},{100 + i}" for i, (a, b) in enumerate(zip(lon, lat, strict=True))
    ]
    (d / "pop.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for name, bad in (("negative", "-5"), ("text", "many"), ("empty", "")):
        lines = rows.copy()
        lines[3] = f"{lon[2]},{lat[2]},{bad}"
        (d / f"pop_{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (d / "pop_nolonlat.csv").write_text("a,b,population\n1,2,3\n", encoding="utf-8")
    # rasters
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(
        d / "far.tif",
        "w",
        driver="GTiff",
        height=8,
        width=8,
        count=1,
        dtype="uint8",
        crs="EPSG:4326",
        transform=from_origin(10, 10, 0.01, 0.01),
    ) as ds:
        ds.write(np.full((1, 8, 8), 10, dtype="uint8"))
    with rasterio.open(
        d / "nocrs.tif",
        "w",
        driver="GTiff",
        height=8,
        width=8,
        count=1,
        dtype="uint8",
        transform=from_origin(24.9, 60.2, 0.01, 0.01),
    ) as ds:
        ds.write(np.full((1, 8, 8), 10, dtype="uint8"))
    # metres (Helsinki in UTM 35N) declared as degrees: its CRS is wrong, not its place
    with rasterio.open(
        d / "metres4326.tif",
        "w",
        driver="GTiff",
        height=8,
        width=8,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(385000, 6675000, 100, 100),
    ) as ds:
        ds.write(np.full((1, 8, 8), 10, dtype="float32"))
    (d / "fake.tif").write_text("not a raster", encoding="utf-8")
    # target sheets
    base = yaml.safe_load((TARGET_SHEETS_DIR / "anyang-2023.yaml").read_text(encoding="utf-8"))

    def sheet(name: str, change: Callable[[dict], None]) -> None:
        raw = yaml.safe_load(yaml.safe_dump(base))
        change(raw)
        (d / f"sheet_{name}.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")

    def first_share(raw: dict) -> dict:
        return next(t for t in raw["targets"] if t.get("unit") == "share")

    sheet("percent", lambda r: first_share(r).update(value=90))
    sheet("negative", lambda r: first_share(r).update(value=-0.2))
    sheet("indicator", lambda r: first_share(r).update(indicator="park_coverge"))
    sheet("param", lambda r: r.update(parameters={"park_coverage": {"park_radius": 400}}))
    sheet("range", lambda r: r.update(parameters={"park_coverage": {"green_radius_m": 5}}))
    sheet("shape", lambda r: r.update(parameters={"park_coverage": {"tiers": [5000, 500]}}))
    sheet("notargets", lambda r: r.update(targets=[]))
    sheet("duplicate", lambda r: r["targets"].append(dict(r["targets"][0])))
    (d / "sheet_syntax.yaml").write_text("id: x\ntargets: [\n", encoding="utf-8")
    # scenarios (layers copied so that the scenario's own folder has them)
    (d / "layers").mkdir()
    for f in ("demo_zhongyuan_parks.geojson", "demo_roads.geojson", "demo_bus_stops_network.csv"):
        shutil.copy(ROOT / "layers" / f, d / "layers" / f)
    parks = "layers/demo_zhongyuan_parks.geojson"
    scenarios = {
        "syntax": "name: x\nchanges: [\n",
        "topkey": f"name: x\ncity: demo\nchanges:\n  - {{add: parks, layer: {parks}}}\nchanegs: []\n",
        "kind": "name: x\ncity: demo\nchanges:\n  - {add: park, layer: layers/x.geojson}\n",
        "nolayer": "name: x\ncity: demo\nchanges:\n  - {add: parks}\n",
        "missinglayer": "name: x\ncity: demo\nchanges:\n  - {add: parks, layer: layers/nope.geojson}\n",
        "coordsys": f"name: x\ncity: demo\nchanges:\n  - {{add: parks, layer: {parks}, coord_system: GCJ02}}\n",
        "snap": "name: x\ncity: demo\nchanges:\n  - {add: roads, layer: layers/demo_roads.geojson, snap_m: -5}\n",
        "snaphuge": "name: x\ncity: demo\nchanges:\n  - {add: roads, layer: layers/demo_roads.geojson, snap_m: 5000}\n",
        "grid": f"name: x\ncity: demo\nunits: {{grid_m: 0}}\nchanges:\n  - {{add: parks, layer: {parks}}}\n",
        "remove2": "name: x\ncity: demo\nchanges:\n  - {remove: bus_stops, all: true, ids: [1]}\n",
        "category": "name: x\ncity: demo\nchanges:\n  - {add: facilities, layer: layers/demo_bus_stops_network.csv, category: clinc}\n",
        "targets": f"name: x\ncity: demo\ntargets: anyang-2024\nchanges:\n  - {{add: parks, layer: {parks}}}\n",
        "osm": "name: x\ncity: {osm: nope.osm.pbf}\nchanges: []\n",
        "bbox": "name: x\ncity: {osm: demo, boundary: [1, 2, 3]}\nchanges: []\n",
        "residents": "name: x\ncity: demo\nchanges:\n  - {add: residential, layer: layers/demo_zhongyuan_parks.geojson, residents_column: name}\n",
        "notalist": "name: x\ncity: demo\nchanges: {add: parks}\n",
        "changetype": "name: x\ncity: demo\nchanges:\n  - {add: parks, layer: 5}\n",
    }
    for name, text in scenarios.items():
        (d / f"scn_{name}.yaml").write_text(text, encoding="utf-8")
    # a real park layer drawn on AMap (Chengdu's OSM parks shifted to GCJ-02), undeclared
    city = geoplan.load_city(CHENGDU_PBF, boundary=CHENGDU_BBOX)
    real = city.parks.to_crs(4326)[["geometry"]]

    def to_gcj(xy: np.ndarray) -> np.ndarray:
        lon, lat = coords.wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    real.set_geometry(shapely.transform(real.geometry.values, to_gcj)).to_file(
        d / "layers" / "parks_amap.geojson"
    )
    (d / "scn_gcj.yaml").write_text(
        f"name: x\ncity: {{osm: {CHENGDU_PBF}, boundary: {list(CHENGDU_BBOX)}}}\n"
        "changes:\n  - {add: parks, layer: layers/parks_amap.geojson}\n",
        encoding="utf-8",
    )
    # plan layers: metres without CRS; the wrong geometry type
    with warnings.catch_warnings():  # the point of the file: no CRS
        warnings.simplefilter("ignore", UserWarning)
        gpd.GeoDataFrame(geometry=[shapely.box(385000, 6671000, 385100, 6671100)]).to_file(
            d / "layers" / "parks_metres.shp"
        )
    (d / "scn_metres.yaml").write_text(
        "name: x\ncity: demo\nchanges:\n  - {add: parks, layer: layers/parks_metres.shp}\n",
        encoding="utf-8",
    )
    (d / "scn_geomtype.yaml").write_text(
        "name: x\ncity: demo\nchanges:\n  - {add: parks, layer: layers/demo_bus_stops_network.csv}\n",
        encoding="utf-8",
    )
    (d / "layers" / "stops_swapped.csv").write_text(
        "name,lon,lat\nA,60.17,24.93\nB,60.171,24.94\n", encoding="utf-8"
    )
    (d / "scn_swapped.yaml").write_text(
        "name: x\ncity: demo\nchanges:\n  - {add: bus_stops, layer: layers/stops_swapped.csv}\n",
        encoding="utf-8",
    )
    # POI exports
    (d / "poi_nocoords.csv").write_text("名称,typecode\n某小学,141203\n", encoding="utf-8")
    (d / "poi_notype.csv").write_text("name,lon,lat\nA,24.93,60.17\n", encoding="utf-8")
    (d / "poi_swapped.csv").write_text("name,typecode,lng,lat\nA,141203,60.17,124.93\n", "utf-8")
    (d / "poi_badcoord.csv").write_text("name,typecode,lng,lat\nA,141203,x,60.17\n", "utf-8")
    # outputs
    (d / "out_is_file").write_text("x", encoding="utf-8")
    (d / "maps_folder.html").mkdir()
    gpkg = d / "Helsinki_layers.gpkg"
    pyogrio.write_dataframe(
        gpd.GeoDataFrame(
            {"note": ["planner's own"]}, geometry=[shapely.Point(24.94, 60.17)], crs=4326
        ),
        gpkg,
        layer="my_plan",
        driver="GPKG",
    )


@pytest.fixture(scope="session")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bad_inputs")
    _write_inputs(d)
    return d


def _hashes(d: Path) -> dict[str, str]:
    out = {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }
    out["<chengdu>"] = hashlib.sha256(CHENGDU_PBF.read_bytes()).hexdigest()
    return out


# ---- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad input: the command line ({d} = the inputs folder, {o} = a fresh output folder),
    the expected exit status and a regex the one-line message must match."""

    id: str
    argv: str
    match: str
    code: int = 2


CD = str(CHENGDU_PBF)
CASES = [
    # round 3: the new features
    Case(
        "suggest-spacing-0",
        "suggest --osm demo -i bus_stop_coverage --spacing 0 --out {o}",
        r"--spacing \(of generated candidates\) must be a positive number of metres, not 0",
    ),
    Case(
        "units-grid-and-file",
        "check --osm demo --units {d}/folder.geojson --units-grid 500 --out {o}",
        r"give --units FILE or --units-grid M, not both",
    ),
    Case(
        "areas-without-names",
        "check --osm demo --areas {d}/area_noname.geojson --out {o}",
        r"area_noname\.geojson: --areas needs a column 'name' naming each area \(老城区, 市辖区\); "
        r"columns are \['kind'\]",
    ),
    Case(
        "scope-village",
        "check --osm demo --scope village --out {o}",
        r"--scope must be city or town, not 'village'",
    ),
    # OSM loading
    Case(
        "osm-missing", "check --osm {d}/nope.osm.pbf --out {o}", r"nope\.osm\.pbf: file not found"
    ),
    Case("osm-txt", "check --osm {d}/notes.txt --out {o}", r"notes\.txt: unknown OSM file type"),
    Case(
        "osm-pbf-named-osm",
        "layers --osm {d}/pbf_named.osm --out {o}",
        r"is OSM PBF but its name says OSM XML; rename it to end in \.osm\.pbf",
    ),
    Case(
        "osm-xml-named-pbf",
        "layers --osm {d}/xml_named.osm.pbf --out {o}",
        r"is OSM XML but its name says OSM PBF; rename it to end in \.osm",
    ),
    Case(
        "osm-gzip-named-bz2",
        "layers --osm {d}/gzip_named.osm.bz2 --out {o}",
        r"is gzip-compressed .* rename it to end in \.osm\.gz",
    ),
    Case(
        "osm-bz2-named-gz",
        "layers --osm {d}/bz2_named.osm.gz --out {o}",
        r"is bzip2-compressed .* rename it to end in \.osm\.bz2",
    ),
    Case(
        "osm-empty", "layers --osm {d}/empty.osm.pbf --out {o}", r"empty\.osm\.pbf: is not OSM data"
    ),
    Case(
        "osm-random",
        "layers --osm {d}/random.osm.pbf --out {o}",
        r"random\.osm\.pbf: is not OSM data",
    ),
    Case(
        "osm-truncated",
        "layers --osm {d}/truncated.osm.pbf --out {o}",
        r"truncated\.osm\.pbf: cannot read as OSM data",
    ),
    Case("osm-folder", "layers --osm {d}/layers --out {o}", r"layers: not a file"),
    Case(
        "osm-no-highways",
        "check --osm {d}/no_highways.osm --out {o}",
        r"no walkable street inside the study area",
    ),
    # boundaries
    Case(
        "bnd-missing",
        "check --osm " + CD + " --boundary {d}/nope.geojson --out {o}",
        r"nope\.geojson: boundary file not found",
    ),
    Case(
        "bnd-outside",
        "check --osm " + CD + " --boundary {d}/outside.geojson --out {o}",
        r"lies entirely outside chengdu_2018_center\.osm\.pbf",
    ),
    Case(
        "bnd-bowtie",
        "check --osm " + CD + " --boundary {d}/bowtie.geojson --out {o}",
        r"bowtie\.geojson: the polygon is invalid \(Self-intersection",
    ),
    Case(
        "bnd-metres-nocrs",
        "check --osm " + CD + " --boundary {d}/metres_nocrs.shp --out {o}",
        r"metres_nocrs\.shp: boundary layer has no CRS; the coordinates look like metres",
    ),
    Case(
        "bnd-swapped",
        "check --osm " + CD + " --boundary {d}/swapped.geojson --out {o}",
        r"swapped\.geojson: latitudes .* 经纬度是否颠倒",
    ),
    Case(
        "bnd-point",
        "check --osm " + CD + " --boundary {d}/point.geojson --out {o}",
        r"point\.geojson: must be a polygon, got Point",
    ),
    Case(
        "bnd-line",
        "check --osm " + CD + " --boundary {d}/line.geojson --out {o}",
        r"line\.geojson: must be a polygon, got LineString",
    ),
    Case(
        "bnd-empty",
        "check --osm " + CD + " --boundary {d}/empty.geojson --out {o}",
        r"empty\.geojson: boundary layer is empty",
    ),
    Case(
        "bnd-folder",
        "check --osm " + CD + " --boundary {d}/folder.geojson --out {o}",
        r"folder\.geojson: is a folder",
    ),
    Case(
        "bnd-not-vector",
        "check --osm " + CD + " --boundary {d}/notes.geojson --out {o}",
        r"notes\.geojson: cannot read boundary",
    ),
    # CRSs
    Case(
        "crs-3857",
        "check --osm " + CD + " --boundary {d}/area.geojson --crs 3857 --out {o}",
        r"EPSG:3857 distorts distances by 16\.\d %",
    ),
    Case(
        "crs-wrong-zone",
        "check --osm " + CD + " --boundary {d}/area.geojson --crs 4547 --out {o}",
        r"EPSG:4547 distorts distances by 1\.\d %",
    ),
    Case("crs-geographic", "check --osm demo --crs 4326 --out {o}", r"EPSG:4326 is not metric"),
    Case("crs-unknown", "check --osm demo --crs EPSG:99999 --out {o}", r"unknown CRS"),
    # target sheets
    Case(
        "sheet-unknown",
        "check --osm demo --targets anyang-2024 --out {o}",
        r"unknown target sheet 'anyang-2024'",
    ),
    Case(
        "sheet-syntax",
        "check --osm demo --targets {d}/sheet_syntax.yaml --out {o}",
        r"sheet_syntax\.yaml: line \d+ is not valid YAML",
    ),
    Case(
        "sheet-percent",
        "check --osm demo --targets {d}/sheet_percent.yaml --out {o}",
        r"value 90 is not a share .* did you mean 0\.9\?",
    ),
    Case(
        "sheet-negative",
        "check --osm demo --targets {d}/sheet_negative.yaml --out {o}",
        r"value -0\.2 is negative",
    ),
    Case(
        "sheet-indicator",
        "check --osm demo --targets {d}/sheet_indicator.yaml --out {o}",
        r"unknown indicator 'park_coverge'",
    ),
    Case(
        "sheet-param",
        "check --osm demo --targets {d}/sheet_param.yaml --out {o}",
        r"unknown parameter of park_coverage 'park_radius'; did you mean 'park_radius_m'",
    ),
    Case(
        "sheet-range",
        "check --osm demo --targets {d}/sheet_range.yaml --out {o}",
        r"green_radius_m = 5 is out of range \[50, 3000\] m",
    ),
    Case(
        "sheet-shape",
        "check --osm demo --targets {d}/sheet_shape.yaml --out {o}",
        r"tiers must be \[\[5000, 500\]\]",
    ),
    Case(
        "sheet-no-targets",
        "check --osm demo --targets {d}/sheet_notargets.yaml --out {o}",
        r"'targets' must be a non-empty list",
    ),
    Case(
        "sheet-duplicate",
        "check --osm demo --targets {d}/sheet_duplicate.yaml --out {o}",
        r"duplicate target id",
    ),
    # population
    Case("pop-missing", "check --osm demo --population {d}/nope.csv --out {o}", r"nope\.csv"),
    Case(
        "pop-column",
        "check --osm demo --population {d}/pop.csv --population-column pop --out {o}",
        r"pop\.csv.*'pop'",
    ),
    Case(
        "pop-negative",
        "check --osm demo --population {d}/pop_negative.csv --out {o}",
        r"pop_negative\.csv: column 'population', row 4: .*-5.* is negative",
    ),
    Case(
        "pop-text",
        "check --osm demo --population {d}/pop_text.csv --out {o}",
        r"pop_text\.csv: column 'population', row 4: 'many' is not a number",
    ),
    Case(
        "pop-empty-cell",
        "check --osm demo --population {d}/pop_empty.csv --out {o}",
        r"pop_empty\.csv: column 'population', row 4: .* is not a number",
    ),
    Case(
        "pop-no-lonlat",
        "check --osm demo --population {d}/pop_nolonlat.csv --out {o}",
        r"pop_nolonlat\.csv",
    ),
    # land-cover rasters
    Case(
        "raster-missing",
        "check --osm demo --landcover {d}/nope.tif --out {o}",
        r"nope\.tif: --landcover raster not found",
    ),
    Case(
        "raster-outside",
        "check --osm demo --landcover {d}/far.tif --out {o}",
        r"far\.tif: the raster .* does not overlap the study area",
    ),
    Case(
        "raster-metres-declared-degrees",
        "check --osm demo --population {d}/metres4326.tif --out {o}",
        r"metres4326\.tif: the raster declares EPSG:4326 \(degrees\) but its coordinates .* "
        r"are metres: its CRS is wrong",
    ),
    Case(
        "landcover-metres-declared-degrees",
        "check --osm demo --landcover {d}/metres4326.tif --out {o}",
        r"metres4326\.tif: the raster declares EPSG:4326 \(degrees\) .* its CRS is wrong",
    ),
    Case(
        "name-too-long",
        "check --osm demo --name " + "郑" * 100 + " --out {o}",
        r"--name|name is 300 bytes long; output file names allow 120 .*: shorten it",
    ),
    Case(
        "name-path",
        "check --osm demo --name ../../etc --out {o}",
        r"name '\.\./\.\./etc' must be folder-safe",
    ),
    Case(
        "raster-nocrs",
        "check --osm demo --landcover {d}/nocrs.tif --out {o}",
        r"nocrs\.tif: raster has no CRS",
    ),
    Case(
        "raster-fake",
        "check --osm demo --landcover {d}/fake.tif --out {o}",
        r"fake\.tif: cannot open as a raster",
    ),
    # POI exports
    Case(
        "poi-missing",
        "check --osm demo --facilities {d}/nope.csv --out {o}",
        r"nope\.csv: POI export not found",
    ),
    Case(
        "poi-no-coordinates",
        "check --osm demo --facilities {d}/poi_nocoords.csv --out {o}",
        r"poi_nocoords\.csv: no coordinates",
    ),
    Case(
        "poi-no-type",
        "check --osm demo --facilities {d}/poi_notype.csv --out {o}",
        r"poi_notype\.csv: neither an AMap typecode",
    ),
    Case(
        "poi-swapped",
        "check --osm demo --facilities {d}/poi_swapped.csv --out {o}",
        r"poi_swapped\.csv: latitudes beyond ±90°: 经纬度是否颠倒",
    ),
    Case(
        "poi-bad-coordinate",
        "check --osm demo --facilities {d}/poi_badcoord.csv --out {o}",
        r"poi_badcoord\.csv: row 2: coordinates are not numbers",
    ),
    Case(
        "poi-mode",
        "check --osm demo --facilities {d}/poi_notype.csv --facilities-mode mix --out {o}",
        r"--facilities-mode must be auto, replace or merge",
    ),
    # output folders and files
    Case(
        "out-is-file",
        "check --osm demo --out {d}/out_is_file",
        r"out_is_file: --out must be a folder, but this is an existing file",
    ),
    Case(
        "out-under-file", "check --osm demo --out {d}/out_is_file/sub", r"--out lies under the file"
    ),
    Case(
        "map-is-folder",
        "check --osm demo --out {o} --map {d}/maps_folder.html",
        r"maps_folder\.html: --map is a folder",
    ),
    Case(
        "map-extension", "check --osm demo --out {o} --map {o}/map.png", r"--map must end in \.html"
    ),
    Case("map-cmd-extension", "map --osm demo --out {o}/map.txt", r"--out must end in \.html"),
    Case(
        "layers-foreign-gpkg",
        "layers --osm demo --out {d}",
        r"Helsinki_layers\.gpkg: holds layers geoplan did not write \(my_plan\)",
    ),
    Case(
        "layers-out-is-file", "layers --osm demo --out {d}/out_is_file", r"--out must be a folder"
    ),
    # scenario files
    Case(
        "scn-missing", "run {d}/scn_nope.yaml --out {o}", r"scn_nope\.yaml: scenario file not found"
    ),
    Case(
        "scn-syntax",
        "run {d}/scn_syntax.yaml --out {o}",
        r"scn_syntax\.yaml: not valid YAML at line \d+",
    ),
    Case(
        "scn-topkey",
        "run {d}/scn_topkey.yaml --out {o}",
        r"unknown key 'chanegs'; did you mean 'changes'\?",
    ),
    Case(
        "scn-kind",
        "run {d}/scn_kind.yaml --out {o}",
        r"change 1: unknown change kind 'park'; did you mean 'parks'\?",
    ),
    Case(
        "scn-nolayer",
        "run {d}/scn_nolayer.yaml --out {o}",
        r"change 1 \(add parks\): missing 'layer: FILE'",
    ),
    Case(
        "scn-missing-layer",
        "run {d}/scn_missinglayer.yaml --out {o}",
        r"layer file 'layers/nope\.geojson' not found",
    ),
    Case(
        "scn-coordsys-case",
        "run {d}/scn_coordsys.yaml --out {o}",
        r"unknown coord_system 'GCJ02'; did you mean 'gcj02'\?",
    ),
    Case(
        "scn-snap-negative",
        "run {d}/scn_snap.yaml --out {o}",
        r"snap_m = -5 m is out of range \[0, 50\] m",
    ),
    Case(
        "scn-snap-absurd", "run {d}/scn_snaphuge.yaml --out {o}", r"snap_m = 5000 m is out of range"
    ),
    Case(
        "scn-grid-zero",
        "run {d}/scn_grid.yaml --out {o}",
        r"grid_m = 0 m is out of range \[50, 5000\] m",
    ),
    Case(
        "scn-remove-two",
        "run {d}/scn_remove2.yaml --out {o}",
        r"give exactly one of ids:, within: or all: true",
    ),
    Case(
        "scn-category",
        "run {d}/scn_category.yaml --out {o}",
        r"unknown facility category 'clinc'; did you mean 'clinic'\?",
    ),
    Case(
        "scn-targets",
        "run {d}/scn_targets.yaml --out {o}",
        r"targets: unknown target sheet 'anyang-2024'",
    ),
    Case(
        "scn-city-osm",
        "run {d}/scn_osm.yaml --out {o}",
        r"city: \S*nope\.osm\.pbf: file not found",
    ),
    Case(
        "scn-bbox",
        "run {d}/scn_bbox.yaml --out {o}",
        r"city boundary must be \[min_lon, min_lat, max_lon, max_lat\]",
    ),
    Case(
        "scn-residents-text",
        "run {d}/scn_residents.yaml --out {o}",
        r"column 'name', row 2: .* is not a number",
    ),
    Case(
        "scn-changes-not-list", "run {d}/scn_notalist.yaml --out {o}", r"'changes' must be a list"
    ),
    Case("scn-layer-type", "run {d}/scn_changetype.yaml --out {o}", r"'layer' must be str"),
    Case(
        "scn-undeclared-gcj02",
        "run {d}/scn_gcj.yaml --out {o}",
        r"looks like GCJ-02 .* add coord_system: gcj02",
    ),
    Case("scn-layer-metres-nocrs", "run {d}/scn_metres.yaml --out {o}", r"parks_metres\.shp"),
    Case(
        "scn-geometry-type", "run {d}/scn_geomtype.yaml --out {o}", r"demo_bus_stops_network\.csv"
    ),
    Case(
        "scn-swapped-lonlat",
        "run {d}/scn_swapped.yaml --out {o}",
        r"stops_swapped\.csv.*经纬度是否颠倒\?; swap the longitude and latitude columns",
    ),
]


API_CASES = [
    (
        "bbox-swapped",
        lambda: geoplan.load_city("demo", boundary=(60.16, 24.92, 60.18, 24.96)),
        geoplan.LayerError,
        r"经纬度是否颠倒",
    ),
    (
        "bbox-empty",
        lambda: geoplan.load_city("demo", boundary=(24.96, 60.16, 24.92, 60.18)),
        geoplan.LayerError,
        r"is empty",
    ),
    (
        "bbox-short",
        lambda: geoplan.load_city("demo", boundary=(24.96, 60.16, 24.92)),
        geoplan.LayerError,
        r"must be \(min_lon",
    ),
    (
        "scenario-gcj02-case",
        lambda: geoplan.Scenario("x").add_parks("a.geojson", coord_system="GCJ02"),
        geoplan.ScenarioError,
        r"did you mean 'gcj02'",
    ),  # type: ignore[arg-type]
    (
        "scenario-grid-zero",
        lambda: geoplan.Scenario("x", grid_m=0),
        geoplan.ScenarioError,
        r"grid_m = 0 m is out of range",
    ),
    (
        "scenario-snap-nan",
        lambda: geoplan.Scenario("x").add_roads("a.geojson", snap_m=float("nan")),
        geoplan.ScenarioError,
        r"snap_m must be a number",
    ),
    (
        "plan-layer-gcj02-case",
        lambda: read_plan_layer(
            ROOT / "layers" / "demo_bus_stops_network.csv", coord_system="GCJ02"
        ),
        geoplan.LayerError,
        r"did you mean 'gcj02'",
    ),  # type: ignore[arg-type]
    (
        "registry-unknown",
        lambda: resolve_params("parks"),
        geoplan.TargetSheetError,
        r"unknown indicator 'parks'",
    ),
]


@pytest.mark.parametrize(("name", "call", "exc", "match"), API_CASES, ids=[c[0] for c in API_CASES])
def test_bad_api_input_gets_one_clear_line(
    name: str, call: Callable[[], object], exc: type, match: str
) -> None:
    with pytest.raises(exc, match=match) as err:
        call()
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_clear_line(case: Case, inputs: Path, tmp_path: Path) -> None:
    before = _hashes(inputs)
    argv = case.argv.format(d=inputs, o=tmp_path / "out").split()
    res = runner.invoke(app, argv)
    out = res.output
    assert res.exit_code == case.code, out
    assert ("Traceback" not in out and res.exception is None) or isinstance(
        res.exception, SystemExit
    )
    lines = [ln for ln in out.strip().splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, out
    assert re.search(case.match, lines[0]), lines[0]
    assert _hashes(inputs) == before, "an input file changed"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.csv"))


def test_the_catalogue_is_large() -> None:
    assert len(CASES) + len(API_CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


def test_debug_shows_the_traceback(inputs: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["--debug", "check", "--osm", str(inputs / "notes.txt")])
    assert res.exit_code != 0
    assert isinstance(res.exception, geoplan.InputFileError)


def test_unwritable_output_folder(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permission denied (simulated: the suite runs as root in CI, which may write anywhere)."""
    import os

    real = os.access
    target = tmp_path / "ro"
    target.mkdir()
    monkeypatch.setattr(os, "access", lambda p, m: False if Path(p) == target else real(p, m))
    res = runner.invoke(app, ["check", "--osm", "demo", "--out", str(target / "out")])
    assert res.exit_code == 2
    assert re.search(r"cannot write in .*ro \(permission denied\); choose a folder", res.output)


def test_an_output_never_replaces_an_input(tmp_path: Path) -> None:
    """The population file sits where the scorecard would be written: refused, file unchanged."""
    out = tmp_path / "out"
    out.mkdir()
    victim = out / "Helsinki_anyang-2023_scorecard.csv"
    lon = 24.93 + 0.0036 * np.arange(6)
    rows = ["lon,lat,population"] + [f"{a},60.17,10" for a in lon]
    victim.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = victim.read_bytes()
    res = runner.invoke(
        app,
        [
            "check",
            "--osm",
            "demo",
            "-t",
            "anyang-2023",
            "--population",
            str(victim),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 2, res.output
    assert "is also an input of this run" in res.output
    assert victim.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [victim.name]  # nothing else, no staging left


def test_a_failing_map_leaves_the_previous_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The set is written completely or not at all: a map step that fails keeps the old tables."""
    out = tmp_path / "out"
    ok = runner.invoke(app, ["check", "--osm", "demo", "--out", str(out), "-q"])
    assert ok.exit_code == 0, ok.output
    old = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    import geoplan.outputs.check_set as check_set

    def boom(*a: object, **k: object) -> Path:
        raise geoplan.LayerError("map failed on purpose")

    monkeypatch.setattr(check_set, "write_result_map", boom)
    res = runner.invoke(
        app,
        [
            "check",
            "--osm",
            "demo",
            "-t",
            "anyang-2023",
            "--out",
            str(out),
            "--map",
            str(tmp_path / "m.html"),
        ],
    )
    assert res.exit_code == 2 and "map failed on purpose" in res.output
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == old
    assert not [p for p in out.iterdir() if p.name.endswith(".staging")]
    assert not (tmp_path / "m.html").exists()


def test_a_boundary_with_a_sliver_is_repaired_not_refused() -> None:
    """A tiny self-intersection (a spike) has one obvious repair: accepted, area kept."""
    x0, y0, x1, y1 = chengdu_clip_polygon().bounds
    xm = (x0 + x1) / 2
    spike = shapely.Polygon(
        [
            (x0, y0),
            (xm, y0),
            (xm + 1e-7, y0 - 1e-3),
            (xm - 1e-7, y0 - 1e-3),
            (xm, y0),
            (x1, y0),
            (x1, y1),
            (x0, y1),
        ]
    )
    assert not spike.is_valid
    city = geoplan.load_city(CHENGDU_PBF, boundary=spike)
    ref = geoplan.load_city(CHENGDU_PBF, boundary=(x0, y0, x1, y1))
    assert city.area_km2 == pytest.approx(ref.area_km2, rel=1e-3)
