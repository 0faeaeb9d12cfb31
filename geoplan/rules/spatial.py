"""Tag rules that need geometry: school pitches, sports-ground sizes, verges, compound roads.

Each function applies one documented rule of ``taxonomy.yaml`` / ``road_grades.yaml`` to
features in a metric CRS (metres). The tag-only rules are in :mod:`geoplan.rules.taxonomy`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.geometry
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from geoplan._lines import F64, points_along
from geoplan._raster import cut_to, outline_polygons, tiles_touched
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
    bounds = np.searchsorted(gi, np.arange(cand.size + 1))  # pairs come sorted by green
    for k in np.flatnonzero(test):
        near = ri[bounds[k] : bounds[k + 1]]
        # the union of each road's buffer (not the buffer of the roads' union: noding many
        # overlapping carriageways first made one band cost up to 0.25 s); the same band up to
        # the buffers' vertices (areas agree to ~1e-6 relative)
        band = shapely.union_all(buf[near])
        share = float(shapely.area(shapely.intersection(g_all[k], band))) / float(area[k])
        out[cand[k]] = share >= rule.min_share_near_road
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


#: content-keyed memo of derived built-up areas (a scenario's plan city shares its baseline's)
_BUILT_UP: dict[str, BaseGeometry] = {}


def _reach_m(rule: tx.BuiltUpRule) -> float:
    """How far (m) a cell's verdict depends on land around it: window, closing, a cell margin."""
    return rule.street_window_m / 2 + rule.close_m + 2 * rule.cell_m


def _separate_groups(boundary: BaseGeometry, reach_m: float) -> list[BaseGeometry]:
    """The boundary's parts grouped so that groups lie more than ``reach_m`` apart."""
    parts = shapely.get_parts(boundary)
    if parts.shape[0] < 2:
        return [boundary]
    b = shapely.bounds(parts)
    boxes = shapely.box(b[:, 0] - reach_m, b[:, 1] - reach_m, b[:, 2] + reach_m, b[:, 3] + reach_m)
    i, j = shapely.STRtree(boxes).query(boxes, predicate="intersects")
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = parts.shape[0]
    _, lab = connected_components(coo_matrix((np.ones(i.size), (i, j)), shape=(n, n)))
    if lab.max() == 0:
        return [boundary]
    return [shapely.multipolygons(parts[lab == k]) for k in range(int(lab.max()) + 1)]


def _data_groups(
    ug: NDArray[np.object_], rg: NDArray[np.object_], boundary: BaseGeometry, reach_m: float
) -> list[BaseGeometry]:
    """The study area near the data, grouped so that groups lie farther apart than any verdict.

    A cell can only be built-up within ``reach_m`` of urban land or a street: the window, the
    closing and a cell margin (:func:`_reach_m`). On a coarse grid (cells of ``4 · reach_m``,
    at least 1 km) the cells each geometry's bounding box touches are marked, grown by one cell,
    and split into connected parts (8-neighbours); each part, cut to ``boundary``, is a group.
    Data of two groups lie at least two coarse cells (8 reaches) apart, so each group's raster
    gives the cells the raster of the whole would. One group: ``[boundary]`` itself; no data:
    no group.
    """
    from rasterio import features
    from rasterio.transform import Affine
    from scipy import ndimage

    geoms = np.concatenate([ug, rg]) if ug.size or rg.size else np.zeros(0, dtype=object)
    b = shapely.bounds(geoms) if geoms.size else np.zeros((0, 4))
    b = b[~np.isnan(b).any(axis=1)]
    if not b.shape[0]:
        return []
    g = max(4.0 * reach_m, 1000.0)
    x0, y0, x1, y1 = boundary.bounds
    nx = int(np.ceil((x1 - x0) / g)) + 1
    ny = int(np.ceil((y1 - y0) / g)) + 1
    occupied = tiles_touched(b, origin=(x0, y0), tile_m=g, shape=(ny, nx), grow=1)
    lab, n = ndimage.label(occupied, structure=np.ones((3, 3), dtype=bool))
    if n <= 1:
        return [boundary]
    to_map = Affine(g, 0.0, x0, 0.0, g, y0)  # row r spans y0 + r·g … y0 + (r + 1)·g
    parts: dict[int, list[BaseGeometry]] = {}
    for geom, v in features.shapes(lab.astype(np.int32), mask=occupied, transform=to_map):
        parts.setdefault(int(v), []).append(shapely.geometry.shape(geom))
    groups = [shapely.intersection(shapely.union_all(p), boundary) for p in parts.values()]
    return [grp for grp in groups if not grp.is_empty]


def _window_sum(a: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """Sum of ``a`` over the k×k window ``[i - k//2, i - k//2 + k)`` of each cell (0 outside)."""
    lo = k // 2
    hi = k - lo
    p = np.pad(a, ((lo + 1, hi), (lo + 1, hi)))
    s = p.cumsum(axis=0).cumsum(axis=1)
    ny, nx = a.shape
    return s[k : k + ny, k : k + nx] - s[:ny, k : k + nx] - s[k : k + ny, :nx] + s[:ny, :nx]


def _built_up_in(
    ug: NDArray[np.object_],
    rg: NDArray[np.object_],
    boundary: BaseGeometry,
    rule: tx.BuiltUpRule,
    extent: tuple[float, float, float, float] | None = None,
) -> BaseGeometry:
    """:func:`built_up_area` cut to ``boundary``, rasterised over ``extent``.

    ``extent`` defaults to the boundary's bounds; cells are on the lattice of multiples of
    ``rule.cell_m`` whatever the extent.
    """
    from rasterio import features
    from rasterio.transform import from_origin
    from scipy import ndimage

    c = rule.cell_m
    minx, miny, maxx, maxy = extent or boundary.bounds
    x0, y1 = np.floor(minx / c) * c, np.ceil(maxy / c) * c
    nx = int(np.ceil((maxx - x0) / c))
    ny = int(np.ceil((y1 - miny) / c))
    tr = from_origin(x0, y1, c, c)
    mask = np.zeros((ny, nx), dtype=bool)
    if ug.size:
        mask |= features.rasterize(
            ((g, 1) for g in geojson_polygons(ug)), out_shape=(ny, nx), transform=tr, dtype="uint8"
        ).astype(bool)
    if rg.size:
        sx, sy, _ = _line_samples(rg, step_m=5.0)
        col = np.floor((sx - x0) / c).astype(np.int64)
        row = np.floor((y1 - sy) / c).astype(np.int64)
        ok = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        count = np.zeros((ny, nx), dtype=np.int64)
        np.add.at(count, (row[ok], col[ok]), 1)
        k = max(1, round(rule.street_window_m / c))
        # street length in the k×k window of each cell (the window of ndimage.uniform_filter:
        # k // 2 before, the rest after), by integer sums: exact, so a cell at the threshold
        # gets the same verdict whatever the raster's extent
        win = _window_sum(count, k)
        mask |= win * 5.0 * 1000.0 >= rule.street_density_km_km2 * (k * c) ** 2
    r = max(1, round(rule.close_m / c))
    disk = np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) <= r
    closed = ndimage.binary_closing(np.pad(mask, r), structure=disk)[r:-r, r:-r]
    lab, n = ndimage.label(closed)
    if n:
        sizes = np.bincount(lab.ravel()) * c * c
        keep = sizes >= rule.min_part_m2
        keep[0] = False
        closed = keep[lab]
    feats = [
        g for g, v in features.shapes(closed.astype("uint8"), mask=closed, transform=tr) if v == 1
    ]
    if not feats:
        return shapely.Polygon()
    # the outlines of separate runs of cells have disjoint interiors: no union needed, each cut
    # to the boundary only where it crosses it (the same ground as the union cut to it)
    return cut_to(outline_polygons(feats), boundary)


def built_up_area(
    urban_land: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    boundary: BaseGeometry,
    rule: tx.BuiltUpRule | None = None,
) -> BaseGeometry:
    """The built-up area (建成区) derived from OSM, cut to ``boundary`` (metric CRS).

    On a ``rule.cell_m`` grid, a cell is built-up when urban land (land uses of 城市建设用地,
    public green, building footprints: ``urban_land``) covers its centre, or when the streets
    around it are urban-dense: at least ``rule.street_density_km_km2`` km of road per km² in a
    ``rule.street_window_m`` square window (OSM in China maps streets far more completely than
    land use). The mask is closed by ``rule.close_m`` (narrow gaps and streets between blocks are
    built-up land), parts under ``rule.min_part_m2`` are dropped, and the cells become polygons
    intersected with the study area. Empty when nothing urban is mapped. The rule lives in
    ``taxonomy.yaml`` (``built_up``).

    Parameters
    ----------
    urban_land
        Urban land-use areas and building footprints (metric CRS).
    roads
        Road centrelines, same CRS.
    boundary
        Study area, same CRS.
    rule
        The derivation's parameters (default: ``taxonomy.yaml``'s ``built_up``).

    Returns
    -------
    BaseGeometry
        (Multi)polygon in the same CRS.
    """
    import hashlib

    rule = rule or tx.built_up_rule()
    ug = np.asarray(urban_land.geometry.values, dtype=object)
    rg = np.asarray(roads.geometry.values, dtype=object)
    h = hashlib.sha1(usedforsecurity=False)
    for arr in (ug, rg):
        h.update(b"".join(shapely.to_wkb(arr)) if arr.size else b"-")
    h.update(shapely.to_wkb(boundary))
    h.update(repr(rule).encode())
    key = h.hexdigest()
    hit = _BUILT_UP.get(key)
    if hit is not None:
        return hit
    reach = _reach_m(rule)
    # far-apart parts of the study area, then far-apart clusters of data within each (a sparse
    # extract, a region of towns): memory and time follow the area near the data
    groups = [
        grp
        for part in _separate_groups(boundary, reach)
        for grp in _data_groups(ug, rg, part, reach)
    ]
    if not groups:
        out = shapely.Polygon()  # nothing urban mapped
    elif len(groups) == 1 and groups[0] is boundary:
        out = _built_up_in(ug, rg, boundary, rule)
    else:
        # far-apart parts of the study area (beyond the street window and the closing) are
        # rasterised one group at a time: the same cells on the same lattice, memory and time
        # proportional to the area covered instead of the parts' bounding box
        # each group's raster reaches as far around it as a verdict depends on (urban land may
        # run past the study area), within the raster of the whole
        tu = shapely.STRtree(ug) if ug.size else None
        tr_ = shapely.STRtree(rg) if rg.size else None
        gx0, gy0, gx1, gy1 = boundary.bounds
        pieces = []
        for grp in groups:
            bx0, by0, bx1, by1 = grp.bounds
            ext = (
                max(gx0, bx0 - reach),
                max(gy0, by0 - reach),
                min(gx1, bx1 + reach),
                min(gy1, by1 + reach),
            )
            box = shapely.box(*ext)
            sel_u = ug[tu.query(box)] if tu is not None else ug
            sel_r = rg[tr_.query(box)] if tr_ is not None else rg
            pieces.append(_built_up_in(sel_u, sel_r, grp, rule, ext))
        pieces = [p for p in pieces if not p.is_empty]
        # groups lie farther apart than any verdict reaches: their parts never meet
        parts = shapely.get_parts(np.asarray(pieces, dtype=object)) if pieces else []
        if not len(parts):
            out = shapely.Polygon()
        elif shapely.is_valid(mp := shapely.multipolygons(parts)):
            out = mp
        else:
            out = shapely.union_all(pieces)
    if len(_BUILT_UP) > 64:
        _BUILT_UP.clear()
    _BUILT_UP[key] = out
    return out


def geojson_polygons(geoms: NDArray[np.object_]) -> list[dict[str, Any]]:
    """The polygons of ``geoms`` as GeoJSON-like dicts, coordinates listed by numpy.

    What ``__geo_interface__`` gives (the same rings, the same float coordinates), without a
    Python tuple per vertex: the input of ``rasterio.features.rasterize`` for large layers.

    Parameters
    ----------
    geoms
        Geometries (polygons are kept).

    Returns
    -------
    list of dict
        GeoJSON ``Polygon`` mappings.
    """
    polys = shapely.get_parts(geoms)
    polys = polys[(shapely.get_type_id(polys) == 3) & ~shapely.is_empty(polys)]
    if not polys.size:
        return []
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    xy = shapely.get_coordinates(rings).tolist()  # one list call for every vertex
    ends = np.cumsum(shapely.get_num_coordinates(rings)).tolist()
    coords = [xy[a:b] for a, b in itertools.pairwise([0, *ends])]
    first = np.searchsorted(ring_poly, np.arange(polys.size + 1)).tolist()
    return [{"type": "Polygon", "coordinates": coords[a:b]} for a, b in itertools.pairwise(first)]


def _line_samples(lines: NDArray[np.object_], step_m: float) -> tuple[F64, F64, Any]:
    """Points every ``step_m`` along lines (cell midpoints of each step): x, y, line part.

    The points of ``shapely.line_interpolate_point(…, normalized=True)``, computed in numpy
    (:func:`geoplan._lines.points_along`, bit for bit the same) without a Point per sample.
    """
    parts = shapely.get_parts(lines)
    lengths = shapely.length(parts)
    counts = np.maximum(1, np.round(lengths / step_m).astype(np.int64))
    rep = np.repeat(np.arange(parts.shape[0]), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    x, y = points_along(parts, rep, (k + 0.5) / counts[rep] * lengths[rep])
    return x, y, rep
