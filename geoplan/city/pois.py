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
from geoplan.io.poi import PoiReport, read_pois
from geoplan.rules import taxonomy as tx

#: POIs of one category closer than this (m) with similar names are one facility (merge mode)
MERGE_M = 30.0
#: name similarity (difflib ratio) above which two close POIs are the same facility
MERGE_NAME_RATIO = 0.6


def with_pois(
    city: City,
    paths: Sequence[str | Path],
    *,
    mode: Literal["replace", "merge"] = "replace",
) -> tuple[City, list[PoiReport]]:
    """The city with facilities from AMap / Baidu exports.

    Parameters
    ----------
    city
        A loaded city (metric CRS).
    paths
        POI export files (:func:`geoplan.io.poi.read_pois`).
    mode
        ``replace``: OSM facilities of the categories the exports cover are dropped (the exports
        are the planner's source of truth for them); ``merge``: both kept, a POI within
        ``MERGE_M`` of an OSM facility of its category with a similar name counted once.

    Returns
    -------
    City, list of PoiReport
        A new City (the input is not modified) and one report per file.
    """
    if mode not in ("replace", "merge"):
        raise LayerError(f"--facilities-mode must be replace or merge, not {mode!r}")
    frames, reports = [], []
    for p in paths:
        g, rep = read_pois(p)
        frames.append(g)
        reports.append(rep)
    pois = pd.concat(frames, ignore_index=True) if frames else gpd.GeoDataFrame()
    if len(pois) == 0:
        return city, reports
    pois = gpd.GeoDataFrame(pois, geometry="geometry", crs=frames[0].crs).to_crs(city.crs)
    cats = tx.categories()
    new = gpd.GeoDataFrame(
        {
            "osmid": -(np.arange(len(pois), dtype=np.int64) + 1),
            "osm_type": "poi",
            "category": pois["category"].to_numpy(),
            "category_zh": [cats[c].label_zh if c in cats else c for c in pois["category"]],
            "name": pois["name"].to_numpy(),
            "school_level_from": "poi",
        },
        geometry=pois.geometry.values,
        crs=city.crs,
    )
    new = clip_layer(new, city.boundary_polygon)
    osm = city.facilities
    if mode == "replace":
        keep = ~osm["category"].isin(set(new["category"]))
        fac = pd.concat([osm.loc[keep], new], ignore_index=True)
    else:
        fac = pd.concat([osm, new.loc[~_duplicates(new, osm)]], ignore_index=True)
    fac = gpd.GeoDataFrame(fac, geometry="geometry", crs=city.crs)
    return dataclasses.replace(city, facilities=fac), reports


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
