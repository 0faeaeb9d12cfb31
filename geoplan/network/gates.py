"""Reaching fenced parks at their entrances, and leaving gated compounds (小区) by their gates.

The buffer method and an outline-reached park both let a pedestrian enter a park anywhere on its
edge. Where a park has mapped entrances it is reached at those instead:

- gates and entrances (:mod:`geoplan.io.barriers`: ``barrier=gate``…, ``entrance=*``) within
  ``gate_outline_m`` of its outline;
- the places where a walkable way crosses its outline (a footway or a street entering it).

Such a park's access geometry becomes a MultiPoint of those places, which
:func:`geoplan.network.access.facility_sources` attaches to their nearest edge; a park without
any keeps its polygon (reached along its whole outline, as before).

A home inside a gated compound — a residential parcel walled along most of its outline in OSM
(:func:`compounds_from_osm`), or a 小区 outline from an AMap / Baidu AOI export with its 出入口
(:func:`geoplan.io.compounds.read_compounds`) — walks straight to one of the compound's entrances
and on along the network, not through the wall to the nearest street (:func:`through_gates`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from geoplan._lines import length_share_near
from geoplan._memo import IdentityMemo
from geoplan.io.compounds import Compounds
from geoplan.network.access import EdgeAttachment, attach_xy, edge_tree
from geoplan.network.graph import WalkNetwork
from geoplan.rules.barriers import barrier_rules

_MEMO = IdentityMemo(maxsize=16)


def entrance_points(
    polys: NDArray[np.object_],
    net: WalkNetwork,
    gates: gpd.GeoDataFrame | None,
    *,
    gate_outline_m: float,
) -> list[NDArray[np.float64]]:
    """The entrances of each polygon: gates near its outline and walk crossings of it.

    Parameters
    ----------
    polys
        Polygons (metric CRS of ``net``).
    net
        Walk network.
    gates
        Gate and entrance points (same CRS), or ``None``.
    gate_outline_m
        A gate belongs to a polygon when it lies within this distance (m) of its outline.

    Returns
    -------
    list of ndarray
        Per polygon, an (k, 2) array of entrance coordinates (m), ``k = 0`` when it has none.
    """
    n = polys.shape[0]
    out: list[list[NDArray[np.float64]]] = [[] for _ in range(n)]
    if n == 0:
        return []
    outlines = shapely.boundary(polys)
    if net.n_edges:
        ip, ie = edge_tree(net).query(outlines, predicate="intersects")
        if ip.size:
            inter = shapely.intersection(net.edge_geometry[ie], outlines[ip])
            xy, k = shapely.get_coordinates(inter, return_index=True)
            for p, c in zip(ip[k].tolist(), xy, strict=True):
                out[p].append(c[None, :])
    if gates is not None and len(gates):
        gpts = np.asarray(gates.geometry.values, dtype=object)
        ig, ip = shapely.STRtree(outlines).query(gpts, predicate="dwithin", distance=gate_outline_m)
        gxy = shapely.get_coordinates(gpts[ig])
        for p, c in zip(ip.tolist(), gxy, strict=True):
            out[p].append(c[None, :])
    return [np.unique(np.concatenate(o), axis=0) if o else np.zeros((0, 2)) for o in out]


def entrance_reach(
    parks: gpd.GeoDataFrame,
    net: WalkNetwork,
    gates: gpd.GeoDataFrame | None,
    *,
    gate_outline_m: float,
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Access geometries: a MultiPoint of its entrances for a polygon that has any, else itself.

    Memoised by the identity of the layer, network and gates (a check asks for each park set).

    Parameters
    ----------
    parks
        Polygons (metric CRS of ``net``).
    net
        Walk network.
    gates
        Gate and entrance points, or ``None``.
    gate_outline_m
        Gate-to-outline distance (m).

    Returns
    -------
    geoms : ndarray of geometry
        Per polygon, the geometry the network reaches it at.
    has_entrances : ndarray of bool
        Per polygon, whether it is reached at entrances.
    """
    polys = np.asarray(parks.geometry.values, dtype=object)

    def compute() -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
        pts = entrance_points(polys, net, gates, gate_outline_m=gate_outline_m)
        has = np.array([p.shape[0] > 0 for p in pts], dtype=bool)
        geoms = polys.copy()
        for i in np.flatnonzero(has):
            geoms[i] = shapely.multipoints(pts[i])
        return geoms, has

    return _MEMO.get(f"entrances:{gate_outline_m}", (parks, net, gates), compute)


# --------------------------------------------------------------------------------------------
# gated compounds (小区)


def walled_share(
    parcels: NDArray[np.object_],
    walls: NDArray[np.object_],
    *,
    outline_m: float,
    at_least: float = 0.0,
) -> NDArray[np.float64]:
    """Share (0–1) of each parcel's outline with a wall or fence within ``outline_m``.

    Parameters
    ----------
    parcels
        Residential parcels (metric CRS).
    walls
        Wall and fence lines (same CRS).
    outline_m
        Tolerance (m) between a mapped wall and the parcel outline.
    at_least
        The share the caller compares with: exact where a parcel can reach it, else a value
        below it (:func:`geoplan._lines.length_share_near`).

    Returns
    -------
    ndarray of float
    """
    if not parcels.size or not walls.size:
        return np.zeros(parcels.shape[0])
    rings = np.asarray(shapely.boundary(parcels), dtype=object)
    return length_share_near(rings, walls, outline_m, at_least=at_least)


def compounds_from_osm(
    residential: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None,
    gates: gpd.GeoDataFrame | None,
    net: WalkNetwork,
) -> Compounds:
    """Gated compounds mapped in OSM: walled residential parcels and their entrances.

    A parcel is walled when walls or fences (``cause == "wall"``) run along at least
    ``min_wall_share`` of its outline (``geoplan/data/barriers.yaml``); its entrances are the
    gates within ``gate_outline_m`` of the outline and the walkable ways crossing it.

    Parameters
    ----------
    residential
        ``landuse=residential`` parcels (metric CRS).
    barriers, gates
        The city's barrier and gate layers (``None``: none mapped).
    net
        Walk network.

    Returns
    -------
    Compounds
        Walled parcels with entrances; the others are counted.
    """
    rules = barrier_rules()
    parcels = np.asarray(residential.geometry.values, dtype=object)
    empty = Compounds(np.zeros(0, dtype=object), (), "osm")
    if barriers is None or not len(barriers) or not parcels.size:
        return empty
    walls = np.asarray(barriers.geometry.values[barriers["cause"].to_numpy() == "wall"], object)
    share = walled_share(parcels, walls, outline_m=rules.outline_m, at_least=rules.min_wall_share)
    walled = parcels[share >= rules.min_wall_share]
    if not walled.size:
        return empty
    ent = entrance_points(walled, net, gates, gate_outline_m=rules.gate_outline_m)
    has = np.array([e.shape[0] > 0 for e in ent], dtype=bool)
    return Compounds(
        walled[has], tuple(e for e, h in zip(ent, has, strict=True) if h), "osm", int((~has).sum())
    )


@dataclass(frozen=True)
class GateModel:
    """Which homes reach the street only through their compound's entrances.

    Attributes
    ----------
    entrances
        Every entrance attached to its nearest edge (``owner`` = entrance index).
    pair_home, pair_entrance, pair_m
        Each (home, entrance of its compound) pair and the straight walk (m) between them.
    blocked
        Homes inside a compound whose own nearest street lies outside it: their direct
        attachment is not a way out.
    n_homes, n_compounds
        Homes inside a compound, compounds holding homes.
    """

    entrances: EdgeAttachment
    pair_home: NDArray[np.int64]
    pair_entrance: NDArray[np.int64]
    pair_m: NDArray[np.float64]
    blocked: NDArray[np.int64]
    n_homes: int
    n_compounds: int


def gate_model(
    compounds: Compounds, homes_xy: NDArray[np.float64], homes: EdgeAttachment, net: WalkNetwork
) -> GateModel | None:
    """The gate model of ``homes`` in ``compounds`` (``None`` when no home is inside one).

    Parameters
    ----------
    compounds
        Gated compounds.
    homes_xy
        (n, 2) home coordinates (m).
    homes
        The homes' nearest-edge attachments (``owner`` = home row).
    net
        Walk network.

    Returns
    -------
    GateModel or None
    """
    if not len(compounds) or not homes_xy.shape[0]:
        return None
    pts = shapely.points(homes_xy)
    ih, ic = shapely.STRtree(compounds.polygons).query(pts, predicate="within")
    if not ih.size:
        return None
    first = np.unique(ih, return_index=True)[1]  # a home in overlapping compounds: the first
    ih, ic = ih[first], ic[first]
    offsets = np.cumsum([0] + [e.shape[0] for e in compounds.entrances])
    exy = np.concatenate(compounds.entrances)
    att = attach_xy(net, exy[:, 0], exy[:, 1], owner=np.arange(exy.shape[0], dtype=np.int64))
    counts = np.diff(offsets)[ic]
    pair_home = np.repeat(ih, counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_entrance = np.repeat(offsets[ic], counts) + k
    d = homes_xy[pair_home] - exy[pair_entrance]
    # a home whose own nearest street runs inside its compound (an internal road) keeps it
    row = np.full(homes_xy.shape[0], -1, dtype=np.int64)
    row[homes.owner] = np.arange(len(homes))
    r = row[ih]
    ok = r >= 0
    own = np.zeros(ih.shape[0], dtype=bool)
    if ok.any():
        e, t = homes.edge[r[ok]], homes.t0[r[ok]]
        p = shapely.line_interpolate_point(net.edge_geometry[e], t, normalized=True)
        inside = shapely.buffer(compounds.polygons[ic[ok]], 1.0, quad_segs=2)
        own[ok] = shapely.within(p, inside)
    return GateModel(
        att,
        pair_home.astype(np.int64),
        pair_entrance.astype(np.int64),
        np.hypot(d[:, 0], d[:, 1]),
        ih[~own].astype(np.int64),
        int(ih.shape[0]),
        int(np.unique(ic).shape[0]),
    )


def through_gates(
    home_m: NDArray[np.float64],
    entrance_m: NDArray[np.float64],
    model: GateModel,
    *,
    limit_m: float,
) -> NDArray[np.float64]:
    """Walking distances of homes with the compounds' gates in the way.

    A home inside a compound walks straight to one of its entrances and on along the network
    (``|h − g| + d(g)``), or leaves by its own nearest street when that runs inside the
    compound; other homes keep ``home_m``.

    Parameters
    ----------
    home_m
        Distance (m) from each home by its nearest-edge attachment.
    entrance_m
        Distance (m) from each entrance (``model.entrances`` order) to the same sources.
    model
        The gate model.
    limit_m
        The search limit (m): farther is ``inf``.

    Returns
    -------
    ndarray of float
    """
    out = home_m.copy()
    out[model.blocked] = np.inf
    e_m = np.full(int(model.pair_entrance.max(initial=-1)) + 1, np.inf)
    e_m[model.entrances.owner] = entrance_m
    np.minimum.at(out, model.pair_home, model.pair_m + e_m[model.pair_entrance])
    out[out > limit_m] = np.inf
    return out


def compound_notes(c: Compounds | None, mode: str, gm: GateModel | None) -> list[str]:
    """What the gate model did: compounds, entrances, gated homes, walled parcels left as is.

    Parameters
    ----------
    c
        The city's compounds.
    mode
        ``gates`` or ``edges`` (the check's ``compounds`` option).
    gm
        The gate model of the homes, if any.

    Returns
    -------
    list of str
        Lines for the check's notes.
    """
    if c is None or (not len(c) and not c.walled_without_entrances):
        return []
    if mode != "gates":
        return [
            f"{len(c)} gated compounds ignored (--compounds edges): homes walk to the nearest "
            "street"
        ]
    homes = 0 if gm is None else gm.n_homes
    out = [
        f"gated compounds ({c.source}): {len(c)} with {c.n_entrances} entrances; {homes} homes "
        "inside walk out through an entrance"
    ]
    if c.walled_without_entrances:
        out.append(
            f"{c.walled_without_entrances} walled compounds have no mapped entrance: their homes "
            "walk to the nearest street"
        )
    return out
