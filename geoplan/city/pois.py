"""A city's facilities from POI exports, replacing or merged with the OSM ones."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import LayerError
from geoplan.city.model import City, clip_layer
from geoplan.io import coords
from geoplan.io.poi import PoiReport, read_pois
from geoplan.io.projection import WGS84
from geoplan.rules import taxonomy as tx

#: POIs of one category closer than this (m) with similar names are one facility (merge mode)
MERGE_M = 30.0
#: name similarity (difflib ratio) above which two close POIs are the same facility
MERGE_NAME_RATIO = 0.6


#: a POI file with less than this share of its POIs inside the study area is refused
MIN_INSIDE_SHARE = 0.10

Mode = Literal["auto", "replace", "merge"]
MODES: tuple[str, ...] = ("auto", "replace", "merge")


def with_pois(
    city: City,
    paths: Sequence[str | Path],
    *,
    mode: Mode = "auto",
) -> tuple[City, list[PoiReport]]:
    """The city with facilities from AMap / Baidu exports.

    Parameters
    ----------
    city
        A loaded city (metric CRS).
    paths
        POI export files (:func:`geoplan.io.poi.read_pois`).
    mode
        Per category of the exports: ``auto`` (default) replaces the OSM facilities where the
        exports hold at least as many inside the study area (the fuller source) and merges
        otherwise; ``replace`` always replaces (the exports are the planner's source of truth);
        ``merge`` keeps both, a POI within ``MERGE_M`` of an OSM facility of its category with
        a similar name counted once.

    Returns
    -------
    City, list of PoiReport
        A new City (the input is not modified) whose ``report.notes`` say, per category, OSM n,
        export m and used k (and warn where a replacement lowered a count), and one report per
        file (POIs inside and outside the study area).

    Raises
    ------
    LayerError
        A file with POIs of which fewer than :data:`MIN_INSIDE_SHARE` lie in the study area
        (another city's export, swapped columns or an undeclared coordinate system).
    """
    if mode not in MODES:
        raise LayerError(f"--facilities-mode must be auto, replace or merge, not {mode!r}")
    cats = tx.categories()
    parts = []
    reports = []
    for p in paths:
        g, rep = read_pois(p)
        _check_system(g, city, rep)
        inside = _inside(g.to_crs(city.crs), city, rep)
        parts.append(inside)
        reports.append(rep)
    new = pd.concat(parts, ignore_index=True) if parts else gpd.GeoDataFrame()
    if len(new) == 0:
        return city, reports
    new = gpd.GeoDataFrame(
        {
            "osmid": -(np.arange(len(new), dtype=np.int64) + 1),
            "osm_type": "poi",
            "category": new["category"].to_numpy(),
            "category_zh": [cats[c].label_zh if c in cats else c for c in new["category"]],
            "name": new["name"].to_numpy(),
            "school_level_from": "poi",
        },
        geometry=new.geometry.values,
        crs=city.crs,
    )
    fac, notes = _combine(city.facilities, new, mode)
    report = dataclasses.replace(city.report, notes=[*city.report.notes, *notes])
    return dataclasses.replace(city, facilities=fac, report=report), reports


#: POIs of one file with the same name and category closer than this (m) are one POI listed twice
SAME_POI_M = 5.0


def _once(g: gpd.GeoDataFrame, rep: PoiReport) -> gpd.GeoDataFrame:
    """One row per POI: a POI listed twice is kept once.

    Twice = the same name and category within SAME_POI_M (metric CRS); a sports ground's extra
    size classes (other categories) are not duplicates.
    """
    if len(g) < 2:
        return g
    pts = g.geometry.values
    i, j = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=SAME_POI_M)
    later = j > i
    i, j = i[later], j[later]
    name = g["name"].astype(str).to_numpy()
    cat = g["category"].astype(str).to_numpy()
    same = (name[i] == name[j]) & (cat[i] == cat[j]) & (name[i] != "")
    drop = np.zeros(len(g), dtype=bool)
    drop[j[same]] = True
    rep.duplicates = int(drop.sum())
    return g.loc[~drop]


#: the coordinate systems an export may be in, and how a read POI (WGS84) would move if it were
#: in another one: provider → {system: (to the raw coordinates, from them to WGS84)}
_SYSTEMS = {"amap": "GCJ-02", "baidu": "BD-09"}
_RAW = {"amap": coords.wgs84_to_gcj02, "baidu": coords.wgs84_to_bd09}
_TO_WGS84 = {
    "GCJ-02": coords.gcj02_to_wgs84,
    "BD-09": coords.bd09_to_wgs84,
    "WGS-84": lambda lon, lat: (np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)),
}


def _check_system(g: gpd.GeoDataFrame, city: City, rep: PoiReport) -> None:
    """Refuse an export whose coordinates are not in its provider's system.

    The POIs, read as the provider's system (AMap GCJ-02, Baidu BD-09), are compared with the
    city's OSM facilities: when read as another system (WGS-84, BD-09 / GCJ-02) clearly more of
    them lie within :data:`geoplan.io.offset_check.MATCH_M` of one, the file is in that system
    (a BD-09 file in AMap's layout, a WGS-84 export). Only in China, with enough POIs and OSM
    facilities to compare.
    """
    from geoplan.io.offset_check import MATCH_M, MIN_FEATURES, MIN_SHARE

    osm = city.facilities
    if len(g) < MIN_FEATURES or len(osm) < MIN_FEATURES:
        return
    x, y = g.geometry.x.to_numpy(), g.geometry.y.to_numpy()
    if not coords.in_china(x, y).any():
        return
    raw = _RAW[rep.provider](x, y)
    ref = np.asarray(shapely.point_on_surface(osm.to_crs(WGS84).geometry.values), dtype=object)
    tree = shapely.STRtree(np.asarray(gpd.GeoSeries(ref, crs=WGS84).to_crs(city.crs).values))
    share = {}
    for system, to_wgs in _TO_WGS84.items():
        lon, lat = to_wgs(*raw)
        pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84).to_crs(city.crs).values
        i, _ = tree.query(pts, predicate="dwithin", distance=MATCH_M)
        share[system] = np.unique(i).size / len(pts)
    declared = _SYSTEMS[rep.provider]
    best = max(share, key=lambda k: share[k])
    if best != declared and share[best] >= MIN_SHARE and share[best] >= 2 * share[declared] + 0.1:
        raise LayerError(
            f"{rep.path}: the coordinates look like {best}, not {rep.provider}'s {declared}: "
            f"{share[best]:.0%} of its POIs lie within {MATCH_M:g} m of the city's OSM facilities "
            f"read as {best}, {share[declared]:.0%} read as {declared}; export the POIs with "
            f"{rep.provider}'s own coordinates (or convert the file to {declared})"
        )


def _inside(g: gpd.GeoDataFrame, city: City, rep: PoiReport) -> gpd.GeoDataFrame:
    """The POIs of one file inside the study area; a file with almost none inside is refused."""
    g = _once(g, rep)
    clipped = clip_layer(g, city.boundary_polygon)
    rep.inside, rep.outside = len(clipped), len(g) - len(clipped)
    if len(g) and len(clipped) < MIN_INSIDE_SHARE * len(g):
        raise LayerError(
            f"{rep.path}: only {len(clipped)} of its {len(g)} mapped POIs "
            f"({len(clipped) / len(g):.1%}) lie inside the study area; is it another city's "
            "export, are the longitude / latitude columns swapped, or is the coordinate system "
            "not the provider's (AMap GCJ-02, Baidu BD-09)? Pass the export of this study area"
        )
    return clipped


def _combine(
    osm: gpd.GeoDataFrame, new: gpd.GeoDataFrame, mode: Mode
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """OSM facilities and POIs per category (see :func:`with_pois`), and the notes saying how."""
    osm_n = osm["category"].value_counts()
    new_n = new["category"].value_counts()
    keep_osm = np.ones(len(osm), dtype=bool)
    take_new = np.ones(len(new), dtype=bool)
    dup = _duplicates(new, osm)
    lines, lowered = [], []
    for cat in sorted(new_n.index):
        n_osm, n_new = int(osm_n.get(cat, 0)), int(new_n[cat])
        replace = mode == "replace" or (mode == "auto" and n_new >= n_osm)
        in_cat = (new["category"] == cat).to_numpy()
        if replace:
            keep_osm &= (osm["category"] != cat).to_numpy()
            used, how = n_new, "replaced"
            if n_new < n_osm:
                lowered.append(f"{cat} {n_osm} → {n_new}")
        else:
            take_new &= ~(in_cat & dup)
            used, how = n_osm + int((in_cat & ~dup).sum()), "merged"
        lines.append(f"{cat}: OSM {n_osm}, export {n_new}, used {used} ({how})")
    fac = pd.concat([osm.loc[keep_osm], new.loc[take_new]], ignore_index=True)
    notes = [f"facilities from the POI exports ({mode}): " + "; ".join(lines)]
    if lowered:
        notes.append(
            "warning: replacing with the POI exports lowered facility counts ("
            + ", ".join(lowered)
            + "); use --facilities-mode auto or merge to keep the OSM ones"
        )
    return gpd.GeoDataFrame(fac, geometry="geometry", crs=osm.crs), notes


def _duplicates(new: gpd.GeoDataFrame, osm: gpd.GeoDataFrame) -> np.ndarray:
    """POIs that an OSM facility of the same category within MERGE_M with a similar name has."""
    dup = np.zeros(len(new), dtype=bool)
    if len(osm) == 0 or len(new) == 0:
        return dup
    i, j = shapely.STRtree(osm.geometry.values).query(
        new.geometry.values, predicate="dwithin", distance=MERGE_M
    )
    for a, b in zip(i, j, strict=True):
        if dup[a] or new["category"].iloc[a] != osm["category"].iloc[b]:
            continue
        na, nb = str(new["name"].iloc[a]), str(osm["name"].iloc[b])
        if not na or not nb or difflib.SequenceMatcher(None, na, nb).ratio() >= MERGE_NAME_RATIO:
            dup[a] = True
    return dup
