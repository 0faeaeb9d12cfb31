"""Tag rules that need geometry: school pitches, sports-ground sizes, verges, compound roads.

Each function applies one documented rule of ``taxonomy.yaml`` / ``road_grades.yaml`` to
features in a metric CRS (metres). The tag-only rules are in :mod:`geoplan.rules.taxonomy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.geometry
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geoplan import _threads as threads
from geoplan.rules import taxonomy as tx

Geoms = NDArray[np.object_]


def inside_any(
    geoms: Geoms, polys: Geoms, *, ids: Sequence[Any] = (), poly_ids: Sequence[Any] = ()
) -> NDArray[np.bool_]:
    """Whether each geometry's representative point lies inside one of ``polys``.

    A feature is never "inside itself": pairs with the same id (``ids`` / ``poly_ids``) are
    ignored, so a school polygon tagged as a pitch is not excluded by its own outline.

    Parameters
    ----------
    geoms
        Geometries (metric CRS).
    polys
        Polygons, same CRS.
    ids
        OSM id of each geometry: a feature is never inside itself.
    poly_ids
        OSM id of each polygon.

    Returns
    -------
    ndarray of bool
    """
    out = np.zeros(len(geoms), dtype=bool)
    if not len(geoms) or not len(polys):
        return out
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    tree = shapely.STRtree(np.asarray(polys, dtype=object))
    i, j = tree.query(pts, predicate="within")
    if len(ids) and len(poly_ids):
        a = np.asarray(ids, dtype=object)[i]
        b = np.asarray(poly_ids, dtype=object)[j]
        keep = a != b
        i = i[keep]
    out[i] = True
    return out


def _areas_matching(
    areas: gpd.GeoDataFrame, rules: Sequence[tx.TagRule], sets: tx.TagSets | None = None
) -> gpd.GeoDataFrame:
    """The areas whose tags match one of ``rules`` (``sets``: the areas' :class:`TagSets`)."""
    if areas.empty or not rules:
        return areas.iloc[0:0]
    if sets is None or len(sets) != len(areas) or not tx.rule_keys(rules) <= sets.keys:
        return areas.loc[[tx.any_match(rules, t) for t in areas["tags"]]]
    return areas.loc[sets.mask(lambda t: tx.any_match(rules, t))]


def _ids(df: gpd.GeoDataFrame) -> list[str]:
    return [f"{t}/{i}" for t, i in zip(df["osm_type"], df["osmid"].astype(np.int64), strict=True)]


def drop_within(
    facilities: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, area_sets: tx.TagSets | None = None
) -> gpd.GeoDataFrame:
    """Drop facility rows whose category excludes features inside some areas.

    ``exclude_within`` of a taxonomy category (libraries inside a university, school or college
    are not public libraries). ``facilities`` has ``category``, ``osmid``, ``osm_type``;
    ``areas`` has ``tags``; both in one metric CRS.

    Parameters
    ----------
    facilities
        The facility rows (metric CRS).
    areas
        The areas (``tags``, metric CRS).
    area_sets
        The areas' distinct tag sets (computed when not given).

    Returns
    -------
    GeoDataFrame
        The facilities kept.
    """
    rules = tx.within_exclusions()
    if facilities.empty or not rules:
        return facilities
    keep = np.ones(len(facilities), dtype=bool)
    cat = facilities["category"].to_numpy()
    for key, rs in rules.items():
        rows = np.flatnonzero(cat == key)
        if not rows.size:
            continue
        inside = _areas_matching(areas, rs, area_sets)
        sub = facilities.iloc[rows]
        hit = inside_any(
            sub.geometry.values, inside.geometry.values, ids=_ids(sub), poly_ids=_ids(inside)
        )
        keep[rows[hit]] = False
    return facilities.loc[keep]


def sports_grounds(
    points: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    point_sets: tx.TagSets | None = None,
    area_sets: tx.TagSets | None = None,
) -> gpd.GeoDataFrame:
    """Public sports grounds with their GB 50180-2018 size classes.

    Parameters
    ----------
    points, areas
        Tagged OSM nodes and areas (``osmid``, ``osm_type``, ``tags``), one metric CRS.
    point_sets, area_sets
        Their :class:`~geoplan.rules.taxonomy.TagSets` (the tag rules then run once per
        distinct tag set; the same answer).

    Returns
    -------
    GeoDataFrame
        One row per (feature, class): ``osmid``, ``osm_type``, ``tags``, ``category`` (a size
        class key), ``ground_area_m2`` (area of the ground the feature belongs to: adjoining
        public pitches within ``group_distance_m`` form one ground), geometry.

    Notes
    -----
    School, university and private pitches are left out (``exclude`` / ``exclude_within`` of
    ``sports_grounds`` in ``taxonomy.yaml``). A ground meets its own class and every smaller one;
    a ground of points only (no outline) gets ``point_class``.
    """
    sp = tx.sports_grounds()
    parts = []
    for df, sets in ((points, point_sets), (areas, area_sets)):
        if df.empty:
            continue
        if sets is not None and len(sets) == len(df):
            parts.append(df.loc[sets.mask(sp.is_ground)])
        else:
            parts.append(df.loc[[sp.is_ground(t) for t in df["tags"]]])
    cand = gpd.GeoDataFrame(
        np.concatenate([p.to_numpy() for p in parts]) if parts else None,
        columns=list(areas.columns),
        crs=areas.crs,
    ).set_geometry("geometry", crs=areas.crs)
    cols = ["osmid", "osm_type", "tags", "category", "ground_area_m2", "geometry"]
    if cand.empty:
        return gpd.GeoDataFrame(columns=cols, geometry="geometry", crs=areas.crs)
    schools = _areas_matching(areas, sp.exclude_within, area_sets)
    cand = cand.loc[
        ~inside_any(
            cand.geometry.values, schools.geometry.values, ids=_ids(cand), poly_ids=_ids(schools)
        )
    ].reset_index(drop=True)
    if cand.empty:
        return gpd.GeoDataFrame(columns=cols, geometry="geometry", crs=areas.crs)
    geoms = cand.geometry.values
    area = shapely.area(geoms)
    grown = shapely.buffer(geoms, sp.group_distance_m / 2.0)
    i, j = shapely.STRtree(grown).query(grown, predicate="intersects")
    n = len(cand)
    _, label = connected_components(coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)))
    ground = np.bincount(label, weights=area)[label]
    rows = []
    for k in range(n):
        for cls in sp.classes_of(float(ground[k]) if ground[k] > 0 else None):
            rows.append((int(cand["osmid"].iat[k]), cand["osm_type"].iat[k], k, cls))
    out = gpd.GeoDataFrame(
        {
            "osmid": np.array([r[0] for r in rows], dtype=np.int64),
            "osm_type": [r[1] for r in rows],
            "tags": [cand["tags"].iat[r[2]] for r in rows],
            "category": [r[3] for r in rows],
            "ground_area_m2": ground[[r[2] for r in rows]],
        },
        geometry=geoms[[r[2] for r in rows]],
        crs=areas.crs,
    )
    return out


def verges(green: gpd.GeoDataFrame, roads: gpd.GeoDataFrame) -> NDArray[np.bool_]:
    """Which public-green polygons are road verges or interchange grass (not public green).

    ``green`` has ``leisure`` (the leisure or landuse value), ``name`` (optional) and polygon
    geometries; ``roads`` has ``highway``, ``name`` (optional) and line geometries; one metric
    CRS. The rule and its thresholds are ``green.verges`` of ``taxonomy.yaml``; it applies only to
    green without a name of its own (no name, or a road's name): a named 街头绿地 beside a road
    is public green.

    Parameters
    ----------
    green
        Public-green polygons (``tags``, metric CRS).
    roads
        Road centrelines (``highway``), same CRS.

    Returns
    -------
    ndarray of bool
        Per polygon: a verge (not public green).
    """
    rule = tx.verge_rule()
    out = np.zeros(len(green), dtype=bool)
    if green.empty or roads.empty:
        return out
    kind = green["leisure"].isin(sorted(rule.applies_to)).to_numpy()
    cand = np.flatnonzero(kind & _unnamed(green, roads))
    if not cand.size:
        return out
    hw = roads["highway"].astype(str)
    motor = roads.geometry.values[hw.isin(sorted(rule.road_highways)).to_numpy()]
    links = roads.geometry.values[hw.str.endswith("_link").to_numpy()]
    if not len(motor):
        return out
    motor = np.asarray(motor, dtype=object)
    g_all = np.asarray(green.geometry.values, dtype=object)[cand]
    area = shapely.area(g_all)
    width = 2.0 * area / np.where(area > 0, shapely.length(g_all), 1.0)
    gi, ri = shapely.STRtree(motor).query(g_all, predicate="dwithin", distance=rule.road_distance_m)
    at_link = np.zeros(cand.size, dtype=bool)
    if len(links):
        li, _ = shapely.STRtree(links).query(
            g_all, predicate="dwithin", distance=rule.link_distance_m
        )
        at_link[li] = True
    # near a road, and narrow or at a link; else not a verge whatever its share near roads
    test = (
        (area > 0)
        & (np.bincount(gi, minlength=cand.size) > 0)
        & ((width < rule.max_mean_width_m) | at_link)
    )
    keep = np.flatnonzero(test[gi])
    keep = keep[np.argsort(gi[keep], kind="stable")]  # by green, each green's roads in order
    gi, ri = gi[keep], ri[keep]
    if not gi.size:
        return out
    # each road buffered once (the same polygon each time it is asked for)
    used = np.unique(ri)
    buf = np.empty(motor.shape[0], dtype=object)
    buf[used] = shapely.buffer(motor[used], rule.road_distance_m)
    # the union of each road's buffer (not the buffer of the roads' union: noding many
    # overlapping carriageways first made one band cost up to 0.25 s); the same band up to the
    # buffers' vertices (areas agree to ~1e-6 relative). One row per green, its roads in order
    # and padded with None (union_all skips it), unioned row by row on two threads. Greens near
    # up to 8 roads share one table; the others share one per power of two of their count, so
    # the tables hold at most 8 cells per green or twice its pairs.
    ks = np.flatnonzero(test)
    row = np.searchsorted(ks, gi)  # pairs come sorted by green; every pair's green is tested
    first = np.searchsorted(gi, ks)
    col = np.arange(gi.shape[0]) - first[row]
    count = np.bincount(row, minlength=ks.shape[0])
    width = np.maximum(8, 1 << np.ceil(np.log2(count)).astype(np.int64))
    band = np.empty(ks.shape[0], dtype=object)
    pos = np.zeros(ks.shape[0], dtype=np.int64)
    for w in np.unique(width):
        sel = np.flatnonzero(width == w)
        pos[sel] = np.arange(sel.shape[0])
        m = width[row] == w
        table = np.full((sel.shape[0], int(w)), None, dtype=object)
        table[pos[row[m]], col[m]] = buf[ri[m]]
        band[sel] = threads.rows(lambda t: shapely.union_all(t, axis=1), table)
    inside = threads.rows(shapely.intersection, g_all[ks], band)
    share = shapely.area(inside) / area[ks]
    out[cand[ks]] = share >= rule.min_share_near_road
    return out


def _unnamed(green: gpd.GeoDataFrame, roads: gpd.GeoDataFrame) -> NDArray[np.bool_]:
    """Green without a name of its own: no name, or the name of a road (人民路 on a verge)."""
    if "name" not in green.columns:
        return np.ones(len(green), dtype=bool)
    names = green["name"].fillna("").astype(str).str.strip()
    road_names = set(roads["name"].dropna().astype(str).str.strip()) if "name" in roads else set()
    return ((names == "") | names.isin(road_names)).to_numpy()


def stop_area_members(
    stop_areas: Sequence[tuple[dict[str, str], list[tuple[str, int]]]],
    node_tags: dict[int, dict[str, str]],
) -> set[tuple[str, int]]:
    """Members (``("n" | "w", id)``) of public_transport=stop_area relations that serve buses.

    A stop area serves buses when the relation says ``bus=yes`` or one of its nodes is a
    ``highway=bus_stop`` or a ``public_transport=stop_position`` with ``bus=yes``.

    Parameters
    ----------
    stop_areas
        (tags, members) of each stop-area relation.
    node_tags
        Tags of the member nodes read.

    Returns
    -------
    set of (str, int)
    """
    out: set[tuple[str, int]] = set()
    for tags, members in stop_areas:
        serves = tags.get("bus") == "yes"
        for typ, ref in members:
            t = node_tags.get(ref, {}) if typ == "n" else {}
            want = tx.STOP_AREA_NODE_TAGS
            if t.get("highway") == want["highway"] or (
                t.get("public_transport") == want["public_transport"]
                and t.get("bus") == want["bus"]
            ):
                serves = True
        if serves:
            out.update((typ, ref) for typ, ref in members if typ in ("n", "w"))
    return out


def compound_internal(
    roads: gpd.GeoDataFrame, residential: gpd.GeoDataFrame, *, rule: dict[str, Any]
) -> NDArray[np.bool_]:
    """Which roads are 小区内部道路: inside residential land, private or without a through route.

    GB 50220-95 leaves roads inside residential compounds out of 路网密度. A way of
    ``rule["highways"]`` lying at least ``min_share_inside`` within one residential parcel is
    internal when its ``access`` is one of ``private_access``, or when the connected set of such
    ways inside that parcel meets the rest of the road network (other roads, or the parcel's
    outline) at fewer than ``min_exits`` places (``exit_merge_m`` apart) — a cul-de-sac compound.

    Parameters
    ----------
    roads
        ``highway``, ``access`` and line geometries, metric CRS.
    residential
        Residential land polygons, same CRS.
    rule
        ``compound_internal`` of ``road_grades.yaml``.

    Returns
    -------
    ndarray of bool
        Per road.
    """
    out = np.zeros(len(roads), dtype=bool)
    if roads.empty or residential.empty:
        return out
    geoms = roads.geometry.values
    cand = np.flatnonzero(roads["highway"].isin(rule["highways"]).to_numpy())
    if not cand.size:
        return out
    parcels = residential.geometry.values
    ptree = shapely.STRtree(parcels)
    rtree = shapely.STRtree(geoms)
    length = shapely.length(geoms)
    owner = np.full(len(roads), -1)
    # every (road, parcel) pair at once, in the order a query per road gives them; a road's
    # owner is the first parcel holding enough of it
    ik, ip = ptree.query(np.asarray(geoms[cand], dtype=object), predicate="intersects")
    road = cand[ik]
    inside = shapely.length(
        shapely.intersection(np.asarray(geoms[road], dtype=object), parcels[ip])
    )
    lk = length[road]
    enough = (lk > 0) & (inside / np.where(lk > 0, lk, 1.0) >= float(rule["min_share_inside"]))
    hit = np.flatnonzero(enough)
    first = np.unique(road[hit], return_index=True)[1]  # pairs come grouped by road
    owner[road[hit[first]]] = ip[hit[first]]
    private = roads["access"].isin(rule["private_access"]).to_numpy()
    out[(owner >= 0) & private] = True
    for p in np.unique(owner[owner >= 0]):
        members = np.flatnonzero((owner == p) & ~private)
        if not members.size:
            continue
        sub = geoms[members]
        i, j = shapely.STRtree(sub).query(sub, predicate="dwithin", distance=1.0)
        _, label = connected_components(
            coo_matrix((np.ones(len(i)), (i, j)), shape=(len(sub), len(sub)))
        )
        outline = shapely.boundary(parcels[p])
        for lab in np.unique(label):
            group = members[label == lab]
            net = shapely.union_all(geoms[group])
            others = [
                x for x in rtree.query(net, predicate="intersects") if x not in set(group.tolist())
            ]
            pts = [shapely.intersection(net, geoms[x]) for x in others]
            pts.append(shapely.intersection(net, outline))
            exits = shapely.union_all([g for g in pts if not g.is_empty] or [shapely.Point()])
            n_exits = 0
            if not exits.is_empty:
                merged = shapely.buffer(exits, float(rule["exit_merge_m"]) / 2.0)
                n_exits = len(shapely.get_parts(merged))
            if n_exits < int(rule["min_exits"]):
                out[group] = True
    return out
