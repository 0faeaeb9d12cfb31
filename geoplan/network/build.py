"""Building the walking network arrays from raw OSM ways (OSMnx-style topology simplification).

A graph node is every OSM node where a walkable way ends or that two or more walkable ways share
(or one way visits twice); the ways are split there into edges carrying their full geometry.
This is the topology ``osmnx.simplify_graph`` produces, built directly without the unsimplified
intermediate graph.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from geoplan.io.projection import to_metric
from geoplan.io.way_runs import RawWay, WayRuns
from geoplan.network.graph import WalkNetwork
from geoplan.rules.tag_table import tag_column

#: mean Earth radius used by OSMnx (``osmnx.distance.EARTH_RADIUS_M``), metres
EARTH_RADIUS_M = 6_371_009.0


def haversine_m(
    lon1: NDArray[np.float64],
    lat1: NDArray[np.float64],
    lon2: NDArray[np.float64],
    lat2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Great-circle distance in metres between WGS84 degree coordinates (vectorised).

    The haversine formula on a sphere of the mean Earth radius OSMnx uses (6,371,009 m).

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        Coordinates of the two ends (degrees, WGS84).

    Returns
    -------
    ndarray of float64
        Distance (m) of each pair.
    """
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    h = np.minimum(1.0, h)
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h)), dtype=np.float64)


def build_walk_network(ways: Sequence[RawWay], crs: pyproj.CRS) -> WalkNetwork:
    """Split walkable ways at shared nodes into an undirected, geometry-carrying edge list.

    Parameters
    ----------
    ways
        Walkable highway ways (runs of located nodes, WGS84 degrees): :class:`WayRuns` as
        read, or :class:`RawWay` objects.
    crs
        Metric CRS of the network's coordinates and edge geometries.

    Returns
    -------
    WalkNetwork
        Nodes where ways meet or end, edges between them with their haversine length (m).
    """
    if not ways:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0, dtype=np.float64)
        return WalkNetwork(
            crs,
            empty_i,
            empty_f,
            empty_f,
            empty_f,
            empty_f,
            empty_i,
            empty_i,
            empty_f,
            np.zeros(0, dtype=object),
            empty_i,
            np.zeros(0, dtype=object),
        )
    runs = WayRuns.of(ways)
    lens = runs.lengths()
    refs, lon, lat = runs.refs, runs.lon, runs.lat
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    ends = starts + lens - 1

    uniq, inv, counts = np.unique(refs, return_inverse=True, return_counts=True)
    is_node = counts[inv] >= 2
    is_node[starts] = True
    is_node[ends] = True

    # graph node index per OSM node that is a graph node
    node_ids = np.unique(refs[is_node])
    node_index = np.full(uniq.shape[0], -1, dtype=np.int64)
    node_index[np.searchsorted(uniq, node_ids)] = np.arange(node_ids.shape[0])
    first_pos = np.zeros(uniq.shape[0], dtype=np.int64)
    first_pos[inv[::-1]] = np.arange(refs.shape[0])[::-1]
    node_pos = first_pos[np.searchsorted(uniq, node_ids)]
    node_lon, node_lat = lon[node_pos], lat[node_pos]

    x_all, y_all = to_metric(crs, lon, lat)
    seg = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    cum = np.concatenate([[0.0], np.cumsum(seg)])

    # edges: between consecutive graph nodes within each way
    way_of = np.repeat(np.arange(len(ways)), lens)
    node_positions = np.flatnonzero(is_node)
    a = node_positions[:-1]
    b = node_positions[1:]
    same_way = way_of[a] == way_of[b]
    a, b = a[same_way], b[same_way]
    edge_len = cum[b] - cum[a]
    edge_u = node_index[inv[a]]
    edge_v = node_index[inv[b]]

    # geometries: vertices a..b inclusive for each edge
    nverts = b - a + 1
    idx = np.repeat(a, nverts) + (
        np.arange(nverts.sum()) - np.repeat(np.cumsum(nverts) - nverts, nverts)
    )
    coords = np.column_stack([x_all[idx], y_all[idx]])
    geoms = shapely.linestrings(coords, indices=np.repeat(np.arange(a.shape[0]), nverts))

    wid = runs.ids
    whw = tag_column(runs.tags, "highway", "")
    nx_, ny_ = to_metric(crs, node_lon, node_lat)
    return WalkNetwork(
        crs=crs,
        node_osmid=node_ids.astype(np.int64),
        x=nx_,
        y=ny_,
        lon=node_lon.astype(np.float64),
        lat=node_lat.astype(np.float64),
        edge_u=edge_u.astype(np.int64),
        edge_v=edge_v.astype(np.int64),
        edge_length_m=edge_len.astype(np.float64),
        edge_geometry=np.asarray(geoms, dtype=object),
        edge_osmid=wid[way_of[a]],
        edge_highway=whw[way_of[a]],
    )
