"""The walking network as arrays: nodes, undirected edges, CSR adjacency, networkx export.

The hot path (nearest-facility distances) runs on :meth:`WalkNetwork.csr`, a symmetric
``scipy.sparse.csr_matrix`` of edge lengths in metres for ``scipy.sparse.csgraph``. The networkx
export (:meth:`WalkNetwork.to_networkx`) is an OSMnx-compatible ``MultiDiGraph`` for interop and
for independent reference computations in tests; it is not used for analysis.

Edges are stored once, undirected (walking ignores ``oneway``): ``edge_u[i] – edge_v[i]`` with
length ``edge_length_m[i]`` (metres, sum of haversine distances between the OSM nodes of the way
segment, as OSMnx computes ``length``) and a metric ``LineString`` geometry in the network CRS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components


@dataclass(eq=False)
class WalkNetwork:
    """A walkable street network in a metric CRS.

    Attributes
    ----------
    crs : pyproj.CRS
        Metric CRS of ``x``/``y`` and of edge geometries.
    node_osmid : ndarray of int64, shape (n,)
        OSM node id of each graph node (negative ids for nodes geoplan added, e.g. scenario roads).
    x, y : ndarray of float64, shape (n,)
        Node coordinates in ``crs`` (metres).
    lon, lat : ndarray of float64, shape (n,)
        Node coordinates in WGS84 degrees.
    edge_u, edge_v : ndarray of int64, shape (m,)
        Node indices (0..n-1) of each undirected edge.
    edge_length_m : ndarray of float64, shape (m,)
        Walking length of each edge in metres.
    edge_geometry : ndarray of shapely.LineString, shape (m,)
        Edge geometry in ``crs``, running from node ``edge_u`` to node ``edge_v``.
    edge_osmid : ndarray of int64, shape (m,)
        OSM way id the edge comes from.
    edge_highway : ndarray of object, shape (m,)
        OSM ``highway`` value of that way.
    """

    crs: pyproj.CRS
    node_osmid: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_geometry: NDArray[np.object_]
    edge_osmid: NDArray[np.int64]
    edge_highway: NDArray[np.object_]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes.

        Returns
        -------
        int
        """
        return int(self.x.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges (one per street segment; the graph is undirected for walking).

        Returns
        -------
        int
        """
        return int(self.edge_u.shape[0])

    @property
    def total_length_km(self) -> float:
        """Total edge length (km).

        Returns
        -------
        float
        """
        return float(self.edge_length_m.sum() / 1000.0)

    @cached_property
    def csr(self) -> sp.csr_matrix:
        """Symmetric CSR adjacency of edge lengths (m), for ``scipy.sparse.csgraph``.

        Parallel edges keep their shortest length. Explicit zero lengths are kept as edges (csgraph
        treats explicit zeros in sparse input as edges).

        Returns
        -------
        scipy.sparse.csr_matrix
            (n, n), float64 lengths (m).
        """
        n = self.n_nodes
        u = np.concatenate([self.edge_u, self.edge_v])
        v = np.concatenate([self.edge_v, self.edge_u])
        w = np.concatenate([self.edge_length_m, self.edge_length_m])
        # keep the minimum weight per (u, v): sort by weight descending so the last write wins
        order = np.lexsort((-w, v, u))
        u, v, w = u[order], v[order], w[order]
        key = u * n + v
        last = np.ones(key.shape[0], dtype=bool)
        last[:-1] = key[1:] != key[:-1]
        m = sp.csr_matrix((w[last], (u[last], v[last])), shape=(n, n))
        m.sort_indices()
        return m

    @cached_property
    def component_labels(self) -> NDArray[np.int32]:
        """Connected-component label of every node (0 = largest component).

        Returns
        -------
        ndarray of int32
            One label per node.
        """
        _, labels = connected_components(self.csr, directed=False)
        counts = np.bincount(labels)
        rank = np.empty_like(counts)
        rank[np.argsort(-counts, kind="stable")] = np.arange(counts.shape[0])
        return rank[labels].astype(np.int32)

    @property
    def n_components(self) -> int:
        """Number of connected components (islands included).

        Returns
        -------
        int
        """
        return int(self.component_labels.max() + 1) if self.n_nodes else 0

    def component_sizes(self) -> NDArray[np.int64]:
        """Nodes per connected component, largest first.

        Returns
        -------
        ndarray of int64
            Nodes per component label.
        """
        return np.bincount(self.component_labels).astype(np.int64)

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Nodes as a GeoDataFrame (index = node index, ``osmid``, ``component``).

        Returns
        -------
        GeoDataFrame
            Points in ``crs``.
        """
        return gpd.GeoDataFrame(
            {"osmid": self.node_osmid, "component": self.component_labels},
            geometry=gpd.points_from_xy(self.x, self.y),
            crs=self.crs,
        )

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame (``u``, ``v``, ``osmid``, ``highway``, ``length_m``).

        Returns
        -------
        GeoDataFrame
            LineStrings in ``crs``.
        """
        return gpd.GeoDataFrame(
            {
                "u": self.edge_u,
                "v": self.edge_v,
                "osmid": self.edge_osmid,
                "highway": self.edge_highway,
                "length_m": self.edge_length_m,
            },
            geometry=gpd.GeoSeries(self.edge_geometry, crs=self.crs),
            crs=self.crs,
        )

    def to_networkx(self) -> nx.MultiDiGraph:
        """OSMnx-compatible ``MultiDiGraph`` (both directions of each edge, keys 0..k).

        Node ids are the node indices; node attributes ``x``, ``y`` (metric, ``graph["crs"]``),
        ``lon``, ``lat`` and ``osmid``; edge attributes ``osmid``, ``highway``, ``length``
        (metres, as OSMnx names it) and ``geometry``. ``graph["crs"]`` is the metric CRS.

        Returns
        -------
        networkx.MultiDiGraph
        """
        g = nx.MultiDiGraph(crs=self.crs.to_string(), simplified=True)
        g.add_nodes_from(
            (int(i), {"x": float(x), "y": float(y), "lon": lo, "lat": la, "osmid": int(o)})
            for i, (x, y, lo, la, o) in enumerate(
                zip(self.x, self.y, self.lon, self.lat, self.node_osmid, strict=True)
            )
        )
        for u, v, length, geom, osmid, hw in zip(
            self.edge_u.tolist(),
            self.edge_v.tolist(),
            self.edge_length_m.tolist(),
            self.edge_geometry,
            self.edge_osmid.tolist(),
            self.edge_highway,
            strict=True,
        ):
            attrs = {"osmid": osmid, "highway": hw, "length": length, "oneway": False}
            g.add_edge(u, v, geometry=geom, reversed=False, **attrs)
            g.add_edge(v, u, geometry=shapely.reverse(geom), reversed=True, **attrs)
        return g

    def select_edges(self, mask: NDArray[np.bool_]) -> WalkNetwork:
        """A new network with the edges where ``mask`` is true and the nodes they use.

        Parameters
        ----------
        mask
            One flag per edge: keep it.

        Returns
        -------
        WalkNetwork
            Nodes renumbered in their old order.
        """
        eu, ev = self.edge_u[mask], self.edge_v[mask]
        used = np.unique(np.concatenate([eu, ev]))
        remap = np.full(self.n_nodes, -1, dtype=np.int64)
        remap[used] = np.arange(used.shape[0])
        return WalkNetwork(
            crs=self.crs,
            node_osmid=self.node_osmid[used],
            x=self.x[used],
            y=self.y[used],
            lon=self.lon[used],
            lat=self.lat[used],
            edge_u=remap[eu],
            edge_v=remap[ev],
            edge_length_m=self.edge_length_m[mask],
            edge_geometry=self.edge_geometry[mask],
            edge_osmid=self.edge_osmid[mask],
            edge_highway=self.edge_highway[mask],
            meta={k: v for k, v in self.meta.items() if not k.startswith("_")},
        )

    def summary(self) -> pd.Series:
        """Nodes, edges, km and components as a Series.

        Returns
        -------
        pandas.Series
        """
        sizes = self.component_sizes()
        return pd.Series(
            {
                "nodes": self.n_nodes,
                "edges": self.n_edges,
                "length_km": round(self.total_length_km, 3),
                "components": self.n_components,
                "largest_component_nodes": int(sizes[0]) if sizes.size else 0,
            }
        )
