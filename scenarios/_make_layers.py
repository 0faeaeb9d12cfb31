"""Draw the example plan layers in ``layers/`` (run once; the small files are committed).

The layers are placed deliberately in real gaps of a baseline check: parks where residential land
is farthest from park service, pocket parks where it misses "300米见绿", local roads through the
500 m cells with the least road, bus stops from :func:`geoplan.siting.suggest_sites`.
Formats are the ones planners hand in: GeoJSON in GCJ-02 (drawn on AMap), a GeoPackage in
CGCS2000 / 3-degree Gauss-Krüger (EPSG:4543, CM 105°E for Chengdu), CSV with lon / lat.

    .venv/bin/python scenarios/_make_layers.py
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

import geoplan
from geoplan.io.coords import wgs84_to_gcj02
from geoplan.siting import spec_of, suggest_sites

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"
CHENGDU = ROOT.parent / "shared" / "data" / "chengdu_2018_center.osm.pbf"
CHENGDU_BBOX = (104.0421, 30.6528, 104.1296, 30.7279)


def _land(city: geoplan.City, *, residential: bool) -> BaseGeometry:
    if residential and len(city.residential):
        return shapely.union_all(city.residential.geometry.values)
    return city.boundary_polygon


def place_squares(
    city: geoplan.City,
    *,
    n: int,
    side_m: float,
    radius_m: float,
    served: np.ndarray,
    residential: bool = True,
    taken: list[BaseGeometry] | None = None,
) -> list[BaseGeometry]:
    """Greedy: ``n`` squares (side ``side_m``) off the roads, each covering the most land not yet
    within ``radius_m`` of a served green space (``served``: polygons)."""
    land = _land(city, residential=residential)
    cover = (
        shapely.union_all(shapely.buffer(served, radius_m)) if len(served) else shapely.Polygon()
    )
    gap = shapely.difference(land, cover)
    step = 25.0
    minx, miny, maxx, maxy = city.boundary_polygon.bounds
    gx, gy = np.meshgrid(np.arange(minx, maxx, step), np.arange(miny, maxy, step))
    demand = shapely.points(gx.ravel(), gy.ravel())
    shapely.prepare(gap)
    demand = demand[shapely.contains(gap, demand)]
    cx, cy = np.meshgrid(np.arange(minx, maxx, 50.0), np.arange(miny, maxy, 50.0))
    h = side_m / 2
    sq = shapely.box(cx.ravel() - h, cy.ravel() - h, cx.ravel() + h, cy.ravel() + h)
    major = city.roads["grade"].isin(["expressway", "arterial", "secondary"])
    roads = shapely.union_all(city.roads.loc[major].geometry.values)
    shapely.prepare(city.boundary_polygon)
    ok = shapely.contains(city.boundary_polygon, sq) & ~shapely.intersects(sq, roads)
    for t in taken or []:
        ok &= ~shapely.intersects(sq, t.buffer(20))
    sq = sq[ok]
    tree = shapely.STRtree(demand)
    left = np.ones(demand.size, dtype=bool)
    chosen: list[BaseGeometry] = []
    cand_hits = [tree.query(s, predicate="dwithin", distance=radius_m) for s in sq]
    for _ in range(n):
        if not cand_hits:
            break
        gains = np.array([left[hh].sum() for hh in cand_hits])
        j = int(np.argmax(gains))
        chosen.append(sq[j])
        left[cand_hits[j]] = False
        far = ~shapely.intersects(sq, sq[j].buffer(20))
        sq = sq[far]
        cand_hits = [hh for hh, f in zip(cand_hits, far, strict=True) if f]
    return chosen


def local_roads(city: geoplan.City, *, n: int, cell_m: float = 500.0) -> list[BaseGeometry]:
    """``n`` straight local roads (400 m, east-west) through the 500 m cells with least road."""
    minx, miny, maxx, maxy = city.boundary_polygon.bounds
    xs, ys = np.arange(minx, maxx - cell_m, cell_m), np.arange(miny, maxy - cell_m, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    shapely.prepare(city.boundary_polygon)
    cells = cells[shapely.contains(city.boundary_polygon, cells)]
    roads = city.roads.loc[city.roads["grade"] != "internal"].geometry.values
    tree = shapely.STRtree(roads)
    length = np.array(
        [shapely.length(shapely.intersection(roads[tree.query(c)], c)).sum() for c in cells]
    )
    out = []
    for i in np.argsort(length)[:n]:
        c = cells[i].centroid
        out.append(shapely.LineString([(c.x - 200, c.y), (c.x + 200, c.y)]))
    return out


def _wgs(geoms: list[BaseGeometry], city: geoplan.City, **cols: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries(geoms, crs=city.crs)).to_crs(4326)


def _to_gcj02(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shift WGS84 coordinates to GCJ-02, as AMap draws them (the CRS label stays EPSG:4326)."""

    def shift(xy: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return gdf.set_geometry(shapely.transform(gdf.geometry.values, shift))


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    gdf = gdf.copy()
    gdf["geometry"] = shapely.set_precision(gdf.geometry.values, 1e-7)
    path.unlink(missing_ok=True)
    gdf.to_file(path, driver="GeoJSON")


def _served_parks(city: geoplan.City) -> tuple[np.ndarray, np.ndarray]:
    p = city.parks
    big = p.loc[(p["green_kind"] == "park") & (p["area_m2"] >= 5000)].geometry.values
    green = p.loc[p["area_m2"] >= 400].geometry.values
    return np.asarray(big, dtype=object), np.asarray(green, dtype=object)


def make(city: geoplan.City, prefix: str, *, residential: bool, china: bool) -> None:
    big, green = _served_parks(city)
    # 郑州中原区: 5 parks ≥ 5000 m² (90 m squares, 8100 m²) and 40 micro-parks (60 m, 3600 m²)
    parks = place_squares(city, n=5, side_m=90, radius_m=500, served=big, residential=residential)
    micro = place_squares(
        city,
        n=40,
        side_m=60,
        radius_m=300,
        served=np.concatenate([green, np.asarray(parks, dtype=object)]),
        residential=residential,
        taken=parks,
    )
    gdf = _wgs(
        parks + micro,
        city,
        name=[f"规划公园 {i + 1}" for i in range(5)] + [f"规划微公园 {i + 1}" for i in range(40)],
        green_kind=["park"] * 45,
    )
    if china:
        _write_geojson(_to_gcj02(gdf), LAYERS / f"{prefix}_zhongyuan_parks_gcj02.geojson")
    else:
        _write_geojson(gdf, LAYERS / f"{prefix}_zhongyuan_parks.geojson")

    # 新乡高新区: 9 pocket parks (50 m squares, 2500 m², 口袋公园) in "300米见绿" gaps
    pocket = place_squares(
        city, n=9, side_m=50, radius_m=300, served=green, residential=residential
    )
    pk = _wgs(pocket, city, name=[f"口袋公园 {i + 1}" for i in range(9)], green_kind=["green"] * 9)
    if china:
        p = LAYERS / f"{prefix}_pocket_parks_4543.gpkg"
        p.unlink(missing_ok=True)
        pk.to_crs(4543).to_file(p, layer="pocket_parks", driver="GPKG")
    else:
        _write_geojson(pk, LAYERS / f"{prefix}_pocket_parks.geojson")
    roads = local_roads(city, n=12)
    _write_geojson(
        _wgs(roads, city, name=[f"规划支路 {i + 1}" for i in range(len(roads))]),
        LAYERS / f"{prefix}_roads.geojson",
    )

    # 安阳 / 洛阳: bus stops until 500 m coverage is 100 %, both methods
    basis = "residential_area" if residential else "boundary_area"
    for method in ("buffer", "network"):
        spec = spec_of("bus_stop_coverage", radius_m=500, method=method, basis=basis, target=1.0)
        res = suggest_sites(city, spec=spec)
        st = res.sites
        w = st.to_crs(4326)
        pd.DataFrame(
            {
                "name": w["name"],
                "lon": w.geometry.x.round(7),
                "lat": w.geometry.y.round(7),
            }
        ).to_csv(LAYERS / f"{prefix}_bus_stops_{method}.csv", index=False)
        print(prefix, method, res.message())


def main() -> None:
    LAYERS.mkdir(exist_ok=True)
    make(geoplan.load_city("demo"), "demo", residential=False, china=False)
    make(geoplan.load_city(CHENGDU, boundary=CHENGDU_BBOX), "chengdu", residential=True, china=True)


if __name__ == "__main__":
    main()
