"""The pipeline an analyst writes by hand, beside geoplan on the same file (issue 13, peers).

OSMnx + networkx + GeoPandas doing the life-circle work geoplan's check does:

1. load: the PBF written as XML by pyosmium (OSMnx reads XML, not PBF; references to nodes
   missing from the extract dropped, which OSMnx refuses) and ``osmnx.graph_from_xml``, projected
   to geoplan's metric CRS;
2. access for every life-circle category: facilities and homes snapped to their nearest graph node
   (``osmnx.distance.nearest_nodes``; polygons at their centroid), one
   ``networkx.multi_source_dijkstra_path_length`` per category with ``cutoff`` = the level's
   radius;
3. buffer shares: GeoPandas buffers (``quad_segs=16``, as geoplan) unioned, intersected with the
   residential land, area share.

The peer is given geoplan's facility, home and residential layers (tag classification is not what
is compared), which favours it. Its figures are compared with geoplan's: buffer shares should agree
to ~0 pp (same definition); network shares differ by the method (node snapping from centroids
against geoplan's edge attachment), reported as the mean and largest difference in pp.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

#: OSMnx's "walk" network_type filter (osmnx._overpass._get_network_filter), applied to the XML
_NOT_WALK = {
    "abandoned",
    "bus_guideway",
    "construction",
    "cycleway",
    "motor",
    "no",
    "planned",
    "platform",
    "proposed",
    "raceway",
    "razed",
    "motorway",
    "motorway_link",
}


def _walkable(tags: dict[str, str]) -> bool:
    hw = tags.get("highway")
    return (
        hw is not None
        and hw not in _NOT_WALK
        and tags.get("area") != "yes"
        and tags.get("foot") != "no"
        and tags.get("service") != "private"
        and tags.get("access") != "private"
    )


def _to_xml(src: str, dst: Path) -> None:
    """The walkable ways of the file as OSM XML for OSMnx (OSMnx's walk filter; graph_from_xml
    does not filter), without references to nodes missing from the extract.

    OSMnx refuses ways with missing nodes ("possibly due to input data clipping issue"); an
    analyst drops those references first — here with pyosmium, counted in the peer's load time.
    """
    import osmium

    used: set[int] = set()
    o: Any
    for o in osmium.FileProcessor(src, osmium.osm.WAY):
        if _walkable(dict(o.tags)):
            used.update(n.ref for n in o.nodes)
    w = osmium.SimpleWriter(str(dst))
    try:
        for o in osmium.FileProcessor(src).with_locations():
            if o.is_node():
                if o.id in used:
                    w.add_node(o)
            elif o.is_way() and _walkable(dict(o.tags)):
                refs = [n.ref for n in o.nodes if n.location.valid()]
                if len(refs) >= 2:
                    w.add_way(o.replace(nodes=refs))
    finally:
        w.close()


def stage_peers(path: str, boundary: Any) -> dict[str, Any]:
    import geopandas as gpd
    import networkx as nx
    import osmnx as ox
    import shapely

    from geoplan.city import load_city
    from geoplan.indicators.coverage import category_geometries, residential_land
    from geoplan.rules.life_circles import load_life_circles
    from geoplan.scoring.check import check_city

    t0 = time.perf_counter()
    city = load_city(path, boundary=boundary, progress=False)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = check_city(city)
    t_check = time.perf_counter() - t0
    geo = {"load": t_load, "check": t_check}

    lc = load_life_circles()
    m = res.measures
    rows = m[(m.indicator == "life_circle") & m.measure.str.contains(":")]
    # (level, category) -> radius, and the categories that also satisfy it (the standard's 或)
    wanted: dict[tuple[str, str], tuple[float, list[str]]] = {}
    for meas in rows.measure.unique():
        level, cat = meas.split(":", 1)
        lev = lc.levels[level]
        wanted[(level, cat)] = (float(lev.radius_m), [cat, *lev.alternatives.get(cat, ())])
    peer: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "city.osm"
        t0 = time.perf_counter()
        _to_xml(path, xml)
        G = ox.graph_from_xml(xml, bidirectional=True, simplify=True, retain_all=True)
        G = ox.project_graph(G, to_crs=city.crs)
        peer["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    geoms = category_geometries(city.facilities, bus_stops=city.bus_stops, parks=city.parks)
    homes = res.homes
    hp = homes.geometry.representative_point()
    home_node = np.asarray(ox.distance.nearest_nodes(G, hp.x.to_numpy(), hp.y.to_numpy()))
    net_share: dict[str, float] = {}

    def of(cats: list[str]) -> gpd.GeoSeries:
        parts = [geoms[c] for c in cats if c in geoms and len(geoms[c])]
        return gpd.GeoSeries(np.concatenate(parts) if parts else [], crs=city.crs)

    for (level, cat), (radius, cats) in wanted.items():
        f = of(cats)
        if f.empty:
            continue
        c = f.centroid
        src = set(np.asarray(ox.distance.nearest_nodes(G, c.x.to_numpy(), c.y.to_numpy())))
        d = nx.multi_source_dijkstra_path_length(G, src, cutoff=radius, weight="length")
        covered = np.fromiter((n in d for n in home_node), dtype=bool, count=home_node.size)
        net_share[f"{level}:{cat}"] = float(covered.mean()) if covered.size else float("nan")
    peer["access"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    land = gpd.GeoSeries([residential_land(city.residential)], crs=city.crs)
    land_area = float(land.area.sum())
    buf_share: dict[str, float] = {}
    for (level, cat), (radius, cats) in wanted.items():
        f = of(cats)
        if f.empty or land_area == 0:
            continue
        cover = gpd.GeoSeries([f.buffer(radius, quad_segs=16).union_all()], crs=city.crs)
        buf_share[f"{level}:{cat}"] = float(cover.intersection(land).area.sum()) / land_area
    peer["buffers"] = time.perf_counter() - t0

    def geoplan_value(meas: str, method: str, basis: str) -> float:
        v = rows[(rows.measure == meas) & (rows.method == method) & (rows.basis == basis)]
        return float(v.value.iloc[0]) if len(v) else float("nan")

    per_cat = {
        k: {
            "buffer_peer": buf_share.get(k),
            "buffer_geoplan": geoplan_value(k, "buffer", "residential_area"),
            "network_peer": v,
            "network_geoplan": geoplan_value(k, "network", "homes"),
        }
        for k, v in net_share.items()
    }
    d_buf = [abs(v - geoplan_value(k, "buffer", "residential_area")) for k, v in buf_share.items()]
    d_net = [abs(v - geoplan_value(k, "network", "homes")) for k, v in net_share.items()]
    d_buf = [x for x in d_buf if np.isfinite(x)]
    d_net = [x for x in d_net if np.isfinite(x)]
    return {
        "graph_nodes": city.network.n_nodes,
        "peer_graph_nodes": G.number_of_nodes(),
        "homes": len(homes),
        "categories": len(net_share),
        "geoplan_s": geo,
        "peer_s": peer,
        "buffer_max_diff_pp": 100 * max(d_buf, default=0.0),
        "network_mean_diff_pp": 100 * float(np.mean(d_net)) if d_net else None,
        "network_max_diff_pp": 100 * max(d_net, default=0.0),
        "per_category": per_cat,
        "shapely": shapely.__version__,
        "osmnx": ox.__version__,
    }
