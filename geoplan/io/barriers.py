"""Barriers and gates from OpenStreetMap: rivers, railways, expressways, walls and their gates.

The one read of the file (:func:`geoplan.io.osm.read_osm`) keeps the ways tagged ``waterway`` /
``railway`` / ``barrier`` and the gate and entrance nodes; expressways come from its highway ways
and water areas from its areas. The rules are :mod:`geoplan.rules.barriers`
(``geoplan/data/barriers.yaml``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan._lines import length_share_near
from geoplan.io.osm import RawOSM, WayRuns
from geoplan.io.projection import to_metric
from geoplan.rules.barriers import barrier_rules
from geoplan.rules.tag_table import tag_column, take_tags
from geoplan.rules.tags import TagSets

#: keys of the ways and nodes the barrier pass reads
BARRIER_KEYS = ("waterway", "railway", "barrier", "entrance")

#: barriers and gates this far (m) beyond the study boundary are kept: a straight line from a home
#: inside to a facility outside crosses them
MARGIN_M = 2000.0

BARRIER_COLUMNS = {"osmid": "int64", "cause": "object", "kind": "object"}
GATE_COLUMNS = {"osmid": "int64", "kind": "object"}


def _lines(runs: WayRuns, crs: pyproj.CRS) -> NDArray[np.object_]:
    """Each run as a LineString in ``crs``, built in one call."""
    if not len(runs):
        return np.zeros(0, dtype=object)
    x, y = to_metric(crs, runs.lon, runs.lat)
    return np.asarray(
        shapely.linestrings(np.column_stack([x, y]), indices=runs.run_of_node()), dtype=object
    )


def _rings(runs: WayRuns) -> NDArray[np.object_]:
    """Each (closed) run as a Polygon in degrees, built in one call."""
    if not len(runs):
        return np.zeros(0, dtype=object)
    rings = shapely.linearrings(np.column_stack([runs.lon, runs.lat]), indices=runs.run_of_node())
    return np.asarray(shapely.polygons(rings), dtype=object)


def barrier_layers(
    raw: RawOSM, crs: pyproj.CRS, boundary: BaseGeometry
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The barrier and gate layers in ``crs`` near the study ``boundary``.

    Parameters
    ----------
    raw
        The read (:func:`geoplan.io.osm.read_osm`): its barrier ways and gate nodes, its highway
        ways (the expressways) and its areas (the water areas).
    crs
        Metric CRS of the layers.
    boundary
        Study area (``crs``); objects within :data:`MARGIN_M` of it are kept whole.

    Returns
    -------
    barriers : GeoDataFrame
        ``osmid``, ``cause`` (``water`` / ``railway`` / ``expressway`` / ``wall``), ``kind`` (the
        tag value: ``river``, ``rail``, ``trunk``, ``fence``…); lines and water polygons.
    gates : GeoDataFrame
        ``osmid``, ``kind`` (``gate``, ``entrance=main``…); points.
    """
    rules = barrier_rules()
    hw_values = rules.highway_values()
    # barrier ways: closed runs with an area cause are areas, the rest lines with a line cause
    bl = raw.barrier_lines
    first, last = bl.offsets[:-1], bl.offsets[1:] - 1
    closed = (bl.lon[first] == bl.lon[last]) & (bl.lat[first] == bl.lat[last])
    closed &= bl.lengths() >= 4
    as_area = np.zeros(len(bl), dtype=bool)
    as_line = np.zeros(len(bl), dtype=bool)
    causes: list[str] = []
    for i, tags in enumerate(bl.tags):
        if "highway" in tags and (hw_values is None or tags["highway"] in hw_values):
            continue  # an expressway: read below with the highway ways
        c = rules.area_cause(tags)
        if c is not None and closed[i]:
            as_area[i] = True
            continue
        c = rules.line_cause(tags)
        if c is not None:
            as_line[i] = True
            causes.append(c)
    ways = raw.ways
    # no cause rule asks for the other highway values: not a barrier by themselves
    cand = np.arange(len(ways))
    if hw_values is not None:
        hw = tag_column(ways.tags, "highway").tolist()
        cand = cand[np.fromiter((v in hw_values for v in hw), dtype=bool, count=len(hw))]
    # the cause of each distinct set of the tags the rules read (no dict per way)
    way_causes = TagSets(take_tags(ways.tags, cand), frozenset(rules.read_keys)).map(
        rules.line_cause
    )
    on_ways = [i for i, c in zip(cand.tolist(), way_causes, strict=True) if c is not None]
    causes.extend(c for c in way_causes if c is not None)
    line_runs, way_runs = bl.select(as_line), ways.select(np.asarray(on_ways, dtype=np.int64))
    walled = bl.select(as_area)
    area_ids: list[int] = walled.ids.tolist()
    area_tags: list[dict[str, str]] = list(walled.tags)
    area_geoms: list[BaseGeometry] = list(_rings(walled))
    for area_id, _otype, tags, wkb in raw.areas:
        c = rules.area_cause(tags)
        if c is not None:
            area_ids.append(area_id)
            area_tags.append(tags)
            area_geoms.append(shapely.from_wkb(wkb))
    lines = np.concatenate([_lines(line_runs, crs), _lines(way_runs, crs)])
    areas = np.asarray(gpd.GeoSeries(area_geoms, crs="EPSG:4326").to_crs(crs).values, dtype=object)
    if areas.size:
        bad = ~shapely.is_valid(areas)
        areas[bad] = shapely.make_valid(areas[bad])
    geoms = np.concatenate([lines, areas])
    tags_all = [*line_runs.tags, *way_runs.tags, *area_tags]
    all_causes = causes + [str(rules.area_cause(t)) for t in area_tags]
    kinds = np.asarray(
        [_kind(t, c) for t, c in zip(tags_all, all_causes, strict=True)], dtype=object
    )
    osmid = np.concatenate([line_runs.ids, way_runs.ids, np.asarray(area_ids, dtype=np.int64)])
    near = boundary.buffer(MARGIN_M) if not boundary.is_empty else boundary
    shapely.prepare(near)
    keep = shapely.intersects(near, geoms) if geoms.size else np.zeros(0, dtype=bool)
    cause = np.asarray(all_causes, dtype=object)
    geoms, cause, kinds, osmid = geoms[keep], cause[keep], kinds[keep], osmid[keep]
    cause = _fenced_roads(geoms, cause, rules.along_road_m, rules.fenced_road_share)
    out = gpd.GeoDataFrame(
        {"osmid": osmid, "cause": cause, "kind": kinds}, geometry=list(geoms), crs=crs
    )

    g_rows = raw.gate_nodes
    gx, gy = to_metric(crs, [r[1] for r in g_rows], [r[2] for r in g_rows])
    gpts = shapely.points(gx, gy) if g_rows else np.zeros(0, dtype=object)
    g_keep = shapely.intersects(near, gpts) if g_rows else np.zeros(0, dtype=bool)
    gates = gpd.GeoDataFrame(
        {
            "osmid": np.asarray([r[0] for r in g_rows], dtype=np.int64)[g_keep],
            "kind": np.asarray([_gate_kind(r[3]) for r in g_rows], dtype=object)[g_keep],
        },
        geometry=list(np.asarray(gpts, dtype=object)[g_keep]),
        crs=crs,
    )
    return out.reset_index(drop=True), gates.reset_index(drop=True)


#: the key whose value names a barrier of each cause
_KIND_KEYS = {
    "water": ("waterway", "natural", "landuse"),
    "railway": ("railway",),
    "expressway": ("highway",),
    "wall": ("barrier",),
}


def _kind(tags: dict[str, str], cause: str) -> str:
    for k in _KIND_KEYS.get(cause, ()):
        if k in tags:
            return tags[k]
    return ""


def _gate_kind(tags: dict[str, str]) -> str:
    if "barrier" in tags:
        return tags["barrier"]
    return f"entrance={tags.get('entrance', 'yes')}"


def _fenced_roads(
    geoms: NDArray[np.object_], cause: NDArray[np.object_], along_m: float, min_share: float
) -> NDArray[np.object_]:
    """Walls running along an expressway become part of the expressway barrier."""
    walls = np.flatnonzero(cause == "wall")
    roads = geoms[cause == "expressway"]
    if not walls.size or not roads.size:
        return cause
    share = length_share_near(geoms[walls], roads, along_m, at_least=min_share)
    out = cause.copy()
    out[walls[share >= min_share]] = "expressway"
    return out


def empty_barriers(crs: pyproj.CRS) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Empty barrier and gate layers (a city loaded without the barrier pass).

    Parameters
    ----------
    crs
        Their CRS.

    Returns
    -------
    barriers, gates : GeoDataFrame
    """
    b = gpd.GeoDataFrame(
        {k: np.zeros(0, dtype=v) for k, v in BARRIER_COLUMNS.items()}, geometry=[], crs=crs
    )
    g = gpd.GeoDataFrame(
        {k: np.zeros(0, dtype=v) for k, v in GATE_COLUMNS.items()}, geometry=[], crs=crs
    )
    return b, g
