"""City layers from raw OpenStreetMap objects: facilities, parks, bus stops, land, roads.

The tag rules come from :mod:`geoplan.rules.taxonomy`; the rules that need geometry (school
pitches and libraries, sports-ground size classes, road verges, compound-internal roads, bus
platforms of a stop area) from :mod:`geoplan.rules.spatial`. Every layer is clipped to the study
boundary in the metric CRS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.io.boundary import polygonal
from geoplan.io.osm import RawOSM, WayRuns
from geoplan.io.projection import WGS84, geometries_to_metric, to_metric
from geoplan.rules import spatial
from geoplan.rules import taxonomy as tx
from geoplan.rules.tag_table import tag_column, take_tags


def _points_gdf(
    rows: list[tuple[int, float, float, dict[str, str]]], crs: pyproj.CRS
) -> gpd.GeoDataFrame:
    """Tagged nodes as points in ``crs`` (projected as arrays, before the points are built)."""
    n = len(rows)
    x, y = to_metric(
        crs,
        np.fromiter((r[1] for r in rows), dtype=np.float64, count=n),
        np.fromiter((r[2] for r in rows), dtype=np.float64, count=n),
    )
    return gpd.GeoDataFrame(
        {
            "osmid": np.fromiter((r[0] for r in rows), dtype=np.int64, count=n),
            "osm_type": "node",
            "tags": [r[3] for r in rows],
        },
        geometry=gpd.points_from_xy(x, y),
        crs=crs,
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


#: the keys a feature's label is taken from, first non-empty wins
_LABEL_KEYS = ("name:zh", "name", "name:en")


def _name(tags: dict[str, str]) -> str:
    return next((v for v in map(tags.get, _LABEL_KEYS) if v), "")


def _names(tags: Sequence[dict[str, str]]) -> list[str]:
    """:func:`_name` of every row, read column by column."""
    cols = [tag_column(tags, k).tolist() for k in _LABEL_KEYS]
    return [next((v for v in vs if v), "") for vs in zip(*cols, strict=True)]


def clip_layer(gdf: gpd.GeoDataFrame, poly: BaseGeometry) -> gpd.GeoDataFrame:
    """Keep features inside ``poly``: points by containment, lines/polygons by intersection.

    Parameters
    ----------
    gdf
        A layer (metric CRS).
    poly
        The study area, same CRS.

    Returns
    -------
    GeoDataFrame
        The features kept, geometries clipped (points unchanged).
    """
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


def build_layers(
    raw: RawOSM, crs: pyproj.CRS, bnd: BaseGeometry
) -> tuple[dict[str, gpd.GeoDataFrame], int]:
    """Every city layer from the raw objects, in metric CRS ``crs``, clipped to ``bnd``.

    Returns the layers (roads, facilities, parks, bus_stops, residential, buildings, and
    urban_land: the areas the built-up area is derived from) and the number of invalid polygons
    repaired.

    Parameters
    ----------
    raw
        The read (:func:`geoplan.io.osm.read_osm`).
    crs
        Metric CRS of the layers.
    bnd
        Study area in ``crs``.

    Returns
    -------
    layers : dict of str to GeoDataFrame
    n_repaired : int
        Invalid polygons repaired with ``make_valid``.
    """
    points = _points_gdf(raw.points, crs)
    areas, n_repaired = _areas_gdf(raw.areas)
    # as ``areas.to_crs(crs)``, the vertices projected on two threads
    areas = gpd.GeoDataFrame(
        areas.drop(columns=areas.geometry.name),
        geometry=geometries_to_metric(np.asarray(areas.geometry.values, dtype=object), crs),
        crs=crs,
    )
    # every tag rule below runs once per distinct combination of the tags the rules read
    keys = tx.layer_rule_keys()
    pt_sets, ar_sets = tx.TagSets(points["tags"], keys), tx.TagSets(areas["tags"], keys)
    way_sets = tx.TagSets(raw.ways.tags, tx.way_rule_keys())
    facilities = _facilities(points, areas, crs, pt_sets, ar_sets)
    greenways = greenway_lines(raw, crs, way_sets=way_sets)
    if len(greenways):
        facilities = gpd.GeoDataFrame(
            pd.concat([facilities, greenways], ignore_index=True), crs=crs
        )
    parks = _green(areas, ar_sets)
    bus_stops = _bus_stops(raw, points, areas, crs, (pt_sets, ar_sets, way_sets))
    residential, buildings = _homes_land(areas, ar_sets)
    roads = _roads(raw, crs)
    # residential ways inside gated compounds are 小区内部道路 (GB 50220-95), not 支路
    internal = spatial.compound_internal(roads, residential, rule=tx.compound_internal_rule())
    roads.loc[internal, "grade"] = "internal"
    # road verges and interchange grass are not public green (CJJ/T 85-2017 附属绿地)
    parks = parks.loc[~spatial.verges(parks, roads)]
    roads["grade_zh"] = roads["grade"].map({k: g.label_zh for k, g in tx.road_grades().items()})

    ub_mask = ar_sets.mask(tx.is_built_up_land)
    urban = areas.loc[ub_mask, ["osmid", "osm_type", "geometry"]].copy()
    urban = pd.concat([urban, parks[["osmid", "osm_type", "geometry"]]], ignore_index=True)
    urban = gpd.GeoDataFrame(urban, geometry="geometry", crs=crs)

    out = {
        "urban_land": clip_layer(urban, bnd),
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


def _facilities(
    points: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    crs: pyproj.CRS,
    pt_sets: tx.TagSets,
    ar_sets: tx.TagSets,
) -> gpd.GeoDataFrame:
    """Facilities, one row per (feature, category): tag rules, public sports grounds by size."""
    cats = tx.categories()

    def _level_from(tags: dict[str, str]) -> str:
        return tx.school_levels(tags)[1] if tags.get("amenity") == "school" else ""

    fac_rows: list[dict[str, Any]] = []
    fac_geoms: list[BaseGeometry] = []

    def add(osmid: Any, osm_type: str, cat: str, tags: dict[str, str], level: str) -> None:
        fac_rows.append(
            {
                "osmid": int(osmid),
                "osm_type": osm_type,
                "category": cat,
                "category_zh": cats[cat].label_zh if cat in cats else cat,
                "name": _name(tags),
                "school_level_from": level,
            }
        )

    for df, sets in ((points, pt_sets), (areas, ar_sets)):
        classes = sets.map(lambda t: (tx.classify_facility(t), _level_from(t)))
        # only the features with a category reach the Python loop (a few in a hundred)
        hit = [i for i, (found, _) in enumerate(classes) if found]
        ids, kinds = df["osmid"].to_numpy()[hit], df["osm_type"].to_numpy()[hit]
        tags_of, geoms = df["tags"].to_numpy()[hit], df.geometry.values[hit]
        for osmid, osm_type, tags, geom, i in zip(ids, kinds, tags_of, geoms, hit, strict=True):
            found, level_from = classes[i]
            for cat in found:
                add(osmid, osm_type, cat, tags, level_from)
                fac_geoms.append(geom)
    # sports grounds: public ones only, classed by the area of the ground they belong to
    grounds = spatial.sports_grounds(points, areas, point_sets=pt_sets, area_sets=ar_sets)
    for osmid, osm_type, tags, cat, geom in zip(
        grounds["osmid"],
        grounds["osm_type"],
        grounds["tags"],
        grounds["category"],
        grounds.geometry.values,
        strict=True,
    ):
        add(osmid, osm_type, cat, tags, "")
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
    # libraries inside a university or school are not public ones (exclude_within)
    facilities = spatial.drop_within(facilities, areas, area_sets=ar_sets)
    return _drop_small(facilities, cats)


#: the category of greenway lines
_GREENWAY = "greenway"


def greenway_lines(
    raw: RawOSM, crs: pyproj.CRS, *, way_sets: tx.TagSets | None = None
) -> gpd.GeoDataFrame:
    """Greenways (绿道): the highway ways the ``greenway`` category matches, as facility lines.

    Parameters
    ----------
    raw
        The raw read (its highway ways, split where nodes are missing).
    crs
        Metric CRS.
    way_sets
        The ways' distinct tag sets over :func:`geoplan.rules.taxonomy.way_rule_keys`
        (built here when not given).

    Returns
    -------
    GeoDataFrame
        Facility rows (``category`` = ``greenway``), LineStrings in ``crs``.
    """
    cats = tx.categories()
    cat = cats.get(_GREENWAY)
    cols = ["osmid", "osm_type", "category", "category_zh", "name", "school_level_from"]
    if cat is None:
        return gpd.GeoDataFrame(pd.DataFrame(columns=cols), geometry=[], crs=crs)
    first = cat.rules[0].pairs[0] if cat.rules and cat.rules[0].pairs else None
    values = first[1] if first is not None and first[0] == "highway" else None
    if way_sets is None:
        way_sets = tx.TagSets(raw.ways.tags, tx.way_rule_keys())
    ways = raw.ways.select(
        way_sets.mask(lambda t: (values is None or t.get("highway") in values) and cat.matches(t))
    )
    rows = [
        (osmid, "way", _GREENWAY, cat.label_zh, _name(t), "")
        for osmid, t in zip(ways.ids.tolist(), ways.tags, strict=True)
    ]
    lines = _lines(ways, crs)
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=cols), geometry=gpd.GeoSeries(lines, crs=crs), crs=crs
    )


def _lines(ways: WayRuns, crs: pyproj.CRS) -> NDArray[np.object_]:
    """Each run as a line in ``crs``: one projection and one vectorised build for all."""
    if not len(ways):
        return np.zeros(0, dtype=object)
    x, y = to_metric(crs, ways.lon, ways.lat)
    return np.asarray(shapely.linestrings(np.column_stack([x, y]), indices=ways.run_of_node()))


def _drop_small(facilities: gpd.GeoDataFrame, cats: dict[str, tx.Category]) -> gpd.GeoDataFrame:
    """Areas under their category's ``min_area_m2`` (公共活动场地 150 m²) left out; points kept."""
    small = np.zeros(len(facilities), dtype=bool)
    area = facilities.geometry.area.to_numpy()
    cat = facilities["category"].to_numpy()
    for key, c in cats.items():
        if c.min_area_m2 is not None:
            small |= (cat == key) & (area > 0) & (area < c.min_area_m2)
    return facilities.loc[~small] if small.any() else facilities


def _green(areas: gpd.GeoDataFrame, ar_sets: tx.TagSets) -> gpd.GeoDataFrame:
    """Parks and public green (``green_kind``, ``name``, ``leisure``, ``area_m2``)."""
    kinds = ar_sets.map(tx.green_kind)
    green_mask = np.array([k is not None for k in kinds], dtype=bool)
    parks = areas.loc[green_mask, ["osmid", "osm_type", "geometry"]].copy()
    parks["green_kind"] = [k for k in kinds if k is not None]
    parks["name"] = [_name(t) for t in areas.loc[green_mask, "tags"]]
    parks["leisure"] = [
        t.get("leisure") or t.get("landuse") or "" for t in areas.loc[green_mask, "tags"]
    ]
    parks["area_m2"] = parks.geometry.area
    return parks


def _homes_land(
    areas: gpd.GeoDataFrame, ar_sets: tx.TagSets
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Residential land and residential buildings (with ``building`` and ``levels``)."""
    res_mask = ar_sets.mask(tx.is_residential_land)
    residential = areas.loc[res_mask, ["osmid", "osm_type", "geometry"]].copy()
    residential["name"] = [_name(t) for t in areas.loc[res_mask, "tags"]]

    b_mask = ar_sets.mask(tx.is_residential_building)
    buildings = areas.loc[b_mask, ["osmid", "osm_type", "geometry"]].copy()
    buildings["building"] = [t.get("building", "") for t in areas.loc[b_mask, "tags"]]
    buildings["levels"] = pd.to_numeric(
        pd.Series([t.get("building:levels") for t in areas.loc[b_mask, "tags"]], dtype=object),
        errors="coerce",
    ).to_numpy()
    return residential, buildings


def _roads(raw: RawOSM, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """Every highway way with a Chinese grade, as lines in ``crs`` (one vectorised build).

    Read column by column from the ways' tags (a grade per distinct ``highway`` value).
    """
    tags = raw.ways.tags
    hw = tag_column(tags, "highway", "")
    inv, values = pd.factorize(hw)
    grades = [tx.road_grade(str(v)) for v in values.tolist()]
    keep = np.flatnonzero(np.array([g is not None for g in grades], dtype=bool)[inv])
    sub = take_tags(tags, keep)
    cols: dict[str, Any] = {
        "osmid": raw.ways.ids[keep],
        "highway": hw[keep].tolist(),
        "grade": [grades[i] for i in inv[keep].tolist()],
        "name": _names(sub),
    }
    for key, default in (("oneway", "no"), ("lanes", ""), ("width", ""), ("access", "")):
        cols[key] = tag_column(sub, key, default).tolist()
    lines = _lines(raw.ways.select(keep), crs)
    return gpd.GeoDataFrame(pd.DataFrame(cols), geometry=gpd.GeoSeries(lines, crs=crs), crs=crs)


def _bus_stops(
    raw: RawOSM,
    points: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    crs: pyproj.CRS,
    sets: tuple[tx.TagSets, tx.TagSets, tx.TagSets],
) -> gpd.GeoDataFrame:
    """Bus stops as points: stop nodes, platform areas (representative point), linear platforms."""
    # bus stops (points; platform areas become their representative point); platforms without
    # bus=yes count when a stop_area relation serving buses holds them
    in_area = spatial.stop_area_members(
        raw.stop_areas, {int(r[0]): r[3] for r in raw.points} if raw.stop_areas else {}
    )

    pt_sets, ar_sets, way_sets = sets

    def _stops(kinds: list[str], ids: Any, sets: tx.TagSets) -> NDArray[np.bool_]:
        stop = sets.mask(tx.is_bus_stop)
        if in_area:
            platform = sets.mask(tx.is_stop_area_platform)
            for j in np.flatnonzero(platform & ~stop):
                stop[j] = (kinds[j], int(ids[j])) in in_area
        return stop

    stop_pts = points.loc[_stops(["n"] * len(points), points["osmid"].to_numpy(), pt_sets)].copy()
    stop_areas = areas.loc[
        _stops(
            ["w" if k == "way" else "r" for k in areas["osm_type"]],
            areas["osmid"].to_numpy(),
            ar_sets,
        )
    ].copy()
    if not stop_areas.empty:
        stop_areas = stop_areas.set_geometry(stop_areas.geometry.representative_point())
    # linear platforms (highway=platform / footway ways tagged public_transport=platform +
    # bus=yes, common outside China): one stop at the middle of the way
    area_way_ids = set(stop_areas.loc[stop_areas["osm_type"] == "way", "osmid"].tolist())
    line_rows: dict[int, tuple[dict[str, str], BaseGeometry]] = {}
    way_ids = raw.ways.ids
    for i in np.flatnonzero(_stops(["w"] * len(way_ids), way_ids, way_sets)).tolist():
        w = raw.ways[i]
        if w.osmid in line_rows or w.osmid in area_way_ids:
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

    return bus_stops
