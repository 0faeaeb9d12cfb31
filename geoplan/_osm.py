"""Low-level OpenStreetMap reading with pyosmium (libosmium, C++).

One pass over the file: libosmium keeps node locations in its own index and assembles
(multi)polygon areas; a C++ key filter drops untagged / irrelevant objects before they reach
Python, so Python only touches the few objects geoplan needs.

Why pyosmium and not pyrosm: pyosmium parses the Chengdu extract in ~0.2 s with <200 MB; pyrosm's
network loader peaked at ~5 GB per million nodes on this kind of machine (see the load issue).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import shapely
from numpy.typing import NDArray

from ._errors import InputFileError

__all__ = ["RawOSM", "read_osm"]

#: keys whose objects geoplan reads (everything else is skipped in C++)
KEYS = (
    "highway",
    "amenity",
    "leisure",
    "landuse",
    "building",
    "shop",
    "public_transport",
    "healthcare",
    "social_facility",
    "office",
    "natural",
)

SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.xml")


@dataclass
class RawWay:
    """A highway way split into runs of nodes whose locations are known."""

    osmid: int
    tags: dict[str, str]
    refs: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]


@dataclass
class RawOSM:
    """What geoplan reads from an OSM file, in WGS84 degrees."""

    path: Path
    ways: list[RawWay] = field(default_factory=list)
    #: tagged nodes: (osmid, lon, lat, tags)
    points: list[tuple[int, float, float, dict[str, str]]] = field(default_factory=list)
    #: areas: (osmid, "way" | "relation", tags, WKB bytes of a MultiPolygon)
    areas: list[tuple[int, str, dict[str, str], bytes]] = field(default_factory=list)
    dangling_refs: int = 0
    ways_without_location: int = 0
    areas_failed: int = 0
    header_bbox: tuple[float, float, float, float] | None = None
    bbox: tuple[float, float, float, float] | None = None


def check_osm_path(path: str | Path) -> Path:
    """Return ``path`` as a Path, or raise :class:`InputFileError` with a fix."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(
            f"{p}: file not found; pass an existing .osm.pbf / .osm / .osm.bz2 file"
        )
    if not p.is_file():
        raise InputFileError(f"{p}: not a file; pass an .osm.pbf / .osm / .osm.bz2 file")
    name = p.name.lower()
    if not any(name.endswith(s) for s in SUFFIXES):
        raise InputFileError(
            f"{p}: unknown OSM file type; use one of {', '.join(SUFFIXES)} "
            "(plan layers go through --layer, not --osm)"
        )
    return p


def _tags(obj: Any) -> dict[str, str]:
    return {t.k: t.v for t in obj.tags}


def read_osm(
    path: str | Path,
    *,
    keep_way: Callable[[dict[str, str]], bool] | None = None,
) -> RawOSM:
    """Read highway ways, tagged nodes and assembled areas from an OSM file.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz`` file, WGS84.
    keep_way
        Predicate on a way's tags deciding whether a ``highway`` way is kept (default: all).

    Notes
    -----
    Node references whose node is missing from the file (clipped extracts) are dropped and
    counted in ``dangling_refs``; a way is split where such a node was, so no straight segment is
    invented across the gap.
    """
    p = check_osm_path(path)
    raw = RawOSM(path=p)
    try:
        header = osmium.io.Reader(str(p)).header()
        box = header.box()
        if box.valid():
            raw.header_bbox = (
                box.bottom_left.lon,
                box.bottom_left.lat,
                box.top_right.lon,
                box.top_right.lat,
            )
    except RuntimeError as exc:  # libosmium raises RuntimeError on corrupt input
        raise InputFileError(f"{p}: cannot read as OSM data ({exc}); check the file") from exc

    wkb = osmium.geom.WKBFactory()
    failed_ways: dict[int, dict[str, str]] = {}
    minx = miny = np.inf
    maxx = maxy = -np.inf
    fp = (
        osmium.FileProcessor(str(p))
        .with_locations()
        .with_areas()
        .with_filter(osmium.filter.KeyFilter(*KEYS))
    )
    try:
        for o in fp:
            obj: Any = o
            if obj.is_way():
                if "highway" not in obj.tags:
                    continue
                tags = _tags(obj)
                if keep_way is not None and not keep_way(tags):
                    continue
                refs: list[int] = []
                lons: list[float] = []
                lats: list[float] = []
                runs: list[tuple[list[int], list[float], list[float]]] = []
                for n in obj.nodes:
                    loc = n.location
                    if loc.valid():
                        refs.append(n.ref)
                        lons.append(loc.lon)
                        lats.append(loc.lat)
                    else:
                        raw.dangling_refs += 1
                        if len(refs) >= 2:
                            runs.append((refs, lons, lats))
                        refs, lons, lats = [], [], []
                if len(refs) >= 2:
                    runs.append((refs, lons, lats))
                if not runs:
                    raw.ways_without_location += 1
                for r, lo, la in runs:
                    lo_a = np.asarray(lo)
                    la_a = np.asarray(la)
                    minx = min(minx, float(lo_a.min()))
                    maxx = max(maxx, float(lo_a.max()))
                    miny = min(miny, float(la_a.min()))
                    maxy = max(maxy, float(la_a.max()))
                    raw.ways.append(RawWay(obj.id, tags, np.asarray(r, dtype=np.int64), lo_a, la_a))
            elif obj.is_node():
                loc = obj.location
                if not loc.valid():
                    continue
                lon, lat = loc.lon, loc.lat
                minx, maxx = min(minx, lon), max(maxx, lon)
                miny, maxy = min(miny, lat), max(maxy, lat)
                raw.points.append((obj.id, lon, lat, _tags(obj)))
            elif obj.is_area():
                tags = _tags(obj)
                if "highway" in tags and len(tags.keys() & set(KEYS)) == 1:
                    continue  # pedestrian squares / closed footways are handled as ways
                try:
                    geom = wkb.create_multipolygon(obj)
                except RuntimeError:
                    # libosmium refuses self-intersecting rings; closed ways are rebuilt below
                    # from their nodes and repaired with make_valid by the caller
                    if obj.from_way():
                        failed_ways[obj.orig_id()] = tags
                    else:
                        raw.areas_failed += 1
                    continue
                kind = "way" if obj.from_way() else "relation"
                raw.areas.append((obj.orig_id(), kind, tags, bytes.fromhex(geom)))
    except RuntimeError as exc:
        raise InputFileError(f"{p}: cannot read as OSM data ({exc}); check the file") from exc
    if failed_ways:
        rebuilt = _closed_way_polygons(p, failed_ways)
        raw.areas.extend(rebuilt)
        raw.areas_failed += len(failed_ways) - len(rebuilt)
    if np.isfinite(minx):
        raw.bbox = (float(minx), float(miny), float(maxx), float(maxy))
    return raw


def _closed_way_polygons(
    p: Path, ways: dict[int, dict[str, str]]
) -> list[tuple[int, str, dict[str, str], bytes]]:
    """Polygons (possibly invalid) of closed ways whose area libosmium could not assemble.

    A second pass reads only these ways (rare: self-intersecting rings); the caller repairs the
    polygons with ``make_valid`` and counts them. Rings with missing nodes are left out.
    """
    out: list[tuple[int, str, dict[str, str], bytes]] = []
    fp = (
        osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.IdFilter(ways.keys()))
    )
    for o in fp:
        obj: Any = o
        if not obj.is_way() or obj.id not in ways:
            continue
        locs = [n.location for n in obj.nodes]
        if len(locs) < 4 or not all(loc.valid() for loc in locs):
            continue
        ring = [(loc.lon, loc.lat) for loc in locs]
        if ring[0] != ring[-1]:
            continue
        poly = shapely.Polygon(ring)
        out.append((obj.id, "way", ways[obj.id], shapely.to_wkb(poly)))
    return out
