"""What a plan scenario adds, as a target counts it: distinct features, area, named ones.

``count_added`` counts the distinct features of a kind a scenario adds (中原区 "续建、新建道路5条":
a road drawn in five pieces is one road — pieces sharing a name, or joined end to end without
one, are merged); ``area_added`` sums their area (m², 中原区 "新增绿地100万平方米"). Both honour a
target's ``area`` (老城区: only what lies in the polygon of that name) and ``names`` (丰华街,
振中路: only features whose name contains one of them, each name counted once).
Layers are the scenario's change log, in the city's metric CRS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from geoplan.scenario.changes import ChangeLog
from geoplan.scoring.counts import GREEN_KINDS, named_area, needs_area_note
from geoplan.scoring.sheet_model import Target

#: change-log layer of each kind that is not a facility category
_LAYER = {"bus_stop": "bus_stops", "road": "roads", **{k: "parks" for k in GREEN_KINDS}}


def added_features(log: ChangeLog, target: Target) -> gpd.GeoDataFrame | None:
    """The added features of the target's ``kind`` in the study area, within its area bounds.

    Parameters
    ----------
    log
        The scenario's change log.
    target
        A ``count_added`` / ``area_added`` target (``kind``, ``min_area_m2``, ``max_area_m2``).

    Returns
    -------
    GeoDataFrame or None
        The features (metric CRS); ``None`` when the scenario adds none of that layer.
    """
    kind = str(dict(target.params).get("kind", ""))
    g = log.inside().added.get(_LAYER.get(kind, "facilities"))
    if g is None or len(g) == 0:
        return None
    keep = np.ones(len(g), dtype=bool)
    if kind in GREEN_KINDS:
        area = g["area_m2"].to_numpy(dtype=float)
        keep &= (area >= target.number("min_area_m2", -math.inf)) & (
            area < target.number("max_area_m2", math.inf)
        )
        if kind == "park":
            keep &= (g["green_kind"] == "park").to_numpy()
    elif kind not in _LAYER:
        keep &= (g["category"] == kind).to_numpy()
    return g.loc[keep]


def _in(g: gpd.GeoDataFrame, where: BaseGeometry) -> gpd.GeoDataFrame:
    """The features whose point on surface lies in ``where`` (lines: their midpoint)."""
    if not len(g):
        return g
    geoms = np.asarray(g.geometry.values, dtype=object)
    line = shapely.get_type_id(geoms) == 1
    pts = shapely.point_on_surface(geoms)
    if line.any():
        pts[line] = shapely.line_interpolate_point(geoms[line], 0.5, normalized=True)
    shapely.prepare(where)
    return g.loc[np.asarray(shapely.intersects(where, pts), dtype=bool)]


def distinct_count(g: gpd.GeoDataFrame, *, join_m: float = 1.0) -> int:
    """Number of distinct features among added ones.

    Pieces sharing a name are one; unnamed lines joined end to end (within ``join_m``) are one;
    everything else counts once each.

    Parameters
    ----------
    g
        Added features (metric CRS); ``name`` column optional.
    join_m
        Distance (m) within which two unnamed line ends are one joint.

    Returns
    -------
    int
        The count.
    """
    if not len(g):
        return 0
    names = (
        g["name"].fillna("").astype(str).str.strip().to_numpy()
        if "name" in g.columns
        else np.full(len(g), "", dtype=object)
    )
    named = names != ""
    n = len(set(names[named]))
    rest = np.asarray(g.geometry.values[~named], dtype=object)
    if rest.size == 0:
        return n
    if not (shapely.get_type_id(rest) == 1).all():
        return n + int(rest.size)  # points / polygons: each one
    tree = shapely.STRtree(rest)
    i, j = tree.query(rest, predicate="dwithin", distance=join_m)
    graph = coo_matrix((np.ones(i.size), (i, j)), shape=(rest.size, rest.size))
    return n + int(connected_components(graph, directed=False)[0])


def _named(g: gpd.GeoDataFrame, names: Sequence[str]) -> tuple[int, list[str]]:
    """How many of ``names`` are added, and which are missing.

    A name is added when an added feature's name contains it; each feature answers for one
    name only, longest names first (市中医院伊滨医院 is not also 伊滨医院).
    """
    have: list[str] = g["name"].fillna("").astype(str).tolist() if "name" in g.columns else []
    free = [True] * len(have)
    found: set[str] = set()
    for n in sorted(names, key=len, reverse=True):
        for i, h in enumerate(have):
            if free[i] and n in h:
                free[i] = False
                found.add(n)
                break
    return len(found), [n for n in names if n not in found]


def added_measure(
    log: ChangeLog, target: Target, areas: Sequence[gpd.GeoDataFrame | None] = ()
) -> tuple[float | None, str]:
    """The figure of a ``count_added`` (distinct features) or ``area_added`` (m²) target.

    Parameters
    ----------
    log
        The scenario's change log.
    target
        The target (``kind``; optional ``names``, area bounds and ``area``).
    areas
        Layers naming parts of the study area (``--areas``, units) for a target's ``area``.

    Returns
    -------
    tuple
        ``(value, note)``; value ``None`` (no data) when the target's named area is not given.
    """
    g = added_features(log, target)
    if target.area:
        where, found = named_area(target.area, *areas)
        if where is None:
            return None, needs_area_note(target.area)
        if g is not None:
            g = _in(g, where)
        scope = f" in {target.area} ({found})"
    else:
        scope = " in the study area"
    if g is None:
        g = gpd.GeoDataFrame({"name": []}, geometry=[])
    names = target.names()
    if names:
        n, missing = _named(g, names)
        note = f"{n} of the {len(names)} named features added{scope}"
        return float(n), note + (f"; not added: {'、'.join(missing)}" if missing else "")
    if target.indicator == "area_added":
        area = float(shapely.union_all(np.asarray(g.geometry.values, dtype=object)).area)
        return area, f"area of the {len(g)} features added{scope} (overlaps once), m²"
    n = distinct_count(g)
    return float(n), f"{n} distinct features added{scope} ({len(g)} drawn)"
