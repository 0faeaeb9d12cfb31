"""Low-level OpenStreetMap reading: pyosmium (libosmium, C++), or DuckDB for large PBF files.

With pyosmium, one pass over the file: libosmium keeps node locations in its own index and
assembles (multi)polygon areas; a C++ key filter drops untagged / irrelevant objects before they
reach Python, so Python only touches the few objects geoplan needs. PBF files of 16 MB or more
are read column-wise by DuckDB instead (:mod:`geoplan.io.osm_columns`), their areas built from
its arrays (:mod:`geoplan.io.osm_areas`); the two give the same :class:`RawOSM`.

Why pyosmium and not pyrosm: pyosmium parses the Chengdu extract in ~0.2 s with <200 MB; pyrosm's
network loader peaked at ~5 GB per million nodes on this kind of machine (see the load issue).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import shapely
from numpy.typing import NDArray

from geoplan._errors import InputFileError
from geoplan._fork import fork_ok, start_child
from geoplan.io.osm_files import SUFFIXES, check_osm_path, sniff_format
from geoplan.io.osm_raw import BARRIER_KEYS, KEYS, RawOSM, WayLists
from geoplan.io.way_runs import RawWay, WayRuns
from geoplan.rules.tag_table import take_tags

__all__ = [
    "BARRIER_KEYS",
    "KEYS",
    "SUFFIXES",
    "RawOSM",
    "RawWay",
    "WayLists",
    "WayRuns",
    "check_osm_path",
    "read_osm",
    "sniff_format",
]

_intern = sys.intern


def _tags(obj: Any) -> dict[str, str]:
    """Tags as a dict, read straight from pyosmium's C++ tag list.

    Its Python iterator costs ~20 % of a city load.
    """
    data = getattr(obj, "_pyosmium_data", None)
    if data is None or not hasattr(data, "tags_next"):  # pragma: no cover - other pyosmium
        return {t.k: t.v for t in obj.tags}
    it = data.tags_begin()
    nxt = data.tags_next
    # keys and values interned: a city repeats a few thousand strings millions of times
    # ("building"/"yes"), and the tag dicts were two thirds of a read's memory
    return {_intern(k): _intern(v) for k, v in [nxt(it) for _ in range(data.tags_size())]}


#: libosmium ``Location::valid()``: fixed-point coordinates (1e-7 degree) within range
_MAX_X = 180 * 10_000_000


_MAX_Y = 90 * 10_000_000


def _split_runs(raw: RawOSM, ways: WayLists) -> tuple[float, float, float, float] | None:
    """Split ways into runs of located nodes (at least 2) and append them to ``raw.ways``.

    Returns the bbox (degrees) of the kept runs' nodes, or None if no run is kept.
    """
    if not ways.ids:
        return None
    refs = np.asarray(ways.refs, dtype=np.int64)
    x = np.asarray(ways.x, dtype=np.int64)
    y = np.asarray(ways.y, dtype=np.int64)
    lens = np.asarray(ways.lengths, dtype=np.int64)
    way_of = np.repeat(np.arange(lens.shape[0]), lens)
    valid = (x >= -_MAX_X) & (x <= _MAX_X) & (y >= -_MAX_Y) & (y <= _MAX_Y)
    raw.dangling_refs += int((~valid).sum())
    # a run = maximal stretch of valid nodes within one way
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    brk = np.ones(refs.shape[0], dtype=bool)  # position starts a new stretch
    brk[1:] = ~valid[:-1] | (way_of[1:] != way_of[:-1])
    brk[starts] = True
    run_id = np.cumsum(brk & valid) - 1
    pos = np.flatnonzero(valid)
    rid = run_id[pos]
    if pos.size:
        first = np.ones(pos.shape[0], dtype=bool)
        first[1:] = rid[1:] != rid[:-1]
        r_start = np.flatnonzero(first)
        r_len = np.diff(np.concatenate([r_start, [pos.shape[0]]]))
        keep = r_len >= 2
        r_start, r_len = r_start[keep], r_len[keep]
    else:
        r_start = r_len = np.zeros(0, dtype=np.int64)
    lon = x[pos] / 1e7  # == Location.lon: int32 fixed point / 1e7 in double
    lat = y[pos] / 1e7
    r_way = way_of[pos[r_start]]
    raw.ways_without_location += int(lens.shape[0] - np.unique(r_way).shape[0])
    if not r_start.size:
        return None
    at = np.repeat(r_start, r_len) + _ramp(r_len)  # the kept runs' nodes, run after run
    raw.ways = WayRuns(
        np.asarray(ways.ids, dtype=np.int64)[r_way],
        take_tags(ways.tags, r_way),
        np.concatenate([[0], np.cumsum(r_len)]),
        refs[pos[at]],
        lon[at],
        lat[at],
    )
    return (
        float(raw.ways.lon.min()),
        float(raw.ways.lat.min()),
        float(raw.ways.lon.max()),
        float(raw.ways.lat.max()),
    )


def _ramp(counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """0..c-1 for each c in ``counts``, concatenated."""
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


def _header_bbox(p: Path) -> tuple[float, float, float, float] | None:
    """The file header's bounding box (lon/lat), if it has a valid one."""
    try:
        # entity bits NOTHING: the header only (a plain Reader starts decoding the whole file)
        reader = osmium.io.Reader(str(p), osmium.osm.osm_entity_bits.NOTHING)
        try:
            box = reader.header().box()
        finally:
            reader.close()
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as exc:  # corrupt input
        raise InputFileError(f"{p}: cannot read as OSM data ({exc}); check the file") from exc
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def _has_key(obj: Any, keys: tuple[str, ...]) -> bool:
    """Whether the object has any of ``keys`` (no tag dict built)."""
    data = getattr(obj, "_pyosmium_data", None)
    if data is None or not hasattr(data, "tags_get_value_by_key"):  # pragma: no cover
        t = obj.tags
        return any(k in t for k in keys)
    get = data.tags_get_value_by_key  # pyosmium's C++ lookup, no TagList wrapper
    return any(get(k, None) is not None for k in keys)


def _barrier_lines(bways: WayLists) -> WayRuns:
    """Barrier ways split into runs of located nodes (at least 2), as highway ways are split.

    :func:`_split_runs` makes no line across a missing node; these runs change no count or
    extent of the read.
    """
    tmp = RawOSM(path=Path())
    _split_runs(tmp, bways)
    return tmp.ways


def _gate_test() -> Callable[[dict[str, str]], bool]:
    from geoplan.rules.barriers import barrier_rules

    return barrier_rules().is_gate


def _add_area(obj: Any, wkb: Any, raw: RawOSM, failed_ways: dict[int, dict[str, str]]) -> None:
    """An assembled area as WKB; refused closed ways are kept for a rebuild by the caller."""
    tags = _tags(obj)
    if "highway" in tags and len(tags.keys() & set(KEYS)) == 1:
        return  # pedestrian squares / closed footways are handled as ways
    try:
        geom = wkb.create_multipolygon(obj)
    except RuntimeError:
        # libosmium refuses self-intersecting rings; closed ways are rebuilt below from their
        # nodes and repaired with make_valid by the caller
        if obj.from_way():
            failed_ways[obj.orig_id()] = tags
        else:
            raw.areas_failed += 1
        return
    kind = "way" if obj.from_way() else "relation"
    raw.areas.append((obj.orig_id(), kind, tags, bytes.fromhex(geom)))


def _ways_pass(path: str) -> tuple[WayLists, WayLists]:
    """The highway ways of a file, packed, and its barrier ways.

    Run in a second process by :func:`read_osm` for large files; the node locations are
    indexed in C++ and only highway and barrier ways reach Python.
    """
    ways = WayLists()
    barriers = WayLists()
    fp = (
        osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway", *BARRIER_KEYS))
    )
    for o in fp:
        obj: Any = o
        tags = _tags(obj)
        if _has_key(obj, BARRIER_KEYS):
            barriers.add(obj, tags)
        if "highway" in tags:
            ways.add(obj, tags)
    return ways.packed(), barriers.packed()


#: PBF files at least this large are read column-wise with DuckDB (``reader="auto"``):
#: 1.33× faster at Helsinki 12×12 and 18×18; below it DuckDB's start-up (~0.15 s) dominates
COLUMNS_MIN_BYTES = 16 * 1024 * 1024

#: PBF files at least this large read their highway ways in a second process
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


def _parallel_ok(p: Path) -> bool:
    """Whether a second process may read the ways: a large file, a fork-safe process."""
    return fork_ok() and p.stat().st_size >= PARALLEL_MIN_BYTES and sniff_format(p) == "pbf"


def read_osm(
    path: str | Path,
    *,
    keep_way: Callable[[dict[str, str]], bool] | None = None,
    parallel: bool | None = None,
    reader: str = "auto",
) -> RawOSM:
    """Read highway ways, tagged nodes and assembled areas from an OSM file.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz`` file, WGS84.
    keep_way
        Predicate on a way's tags deciding whether a ``highway`` way is kept (default: all).
    parallel
        Read in two processes — pyosmium: the highway ways in a second process while this one
        reads the rest; DuckDB: the scan in a second process while this one builds the tag
        dicts and areas of what it has read (``None``:
        for PBF files of 16 MB or more, on Linux, when this process is not a daemon and runs
        one thread — a fork is then safe). Same result either way.
    reader
        ``"duckdb"``: a PBF read column-wise with DuckDB (:mod:`geoplan.io.osm_columns`),
        the areas built from its node arrays as libosmium would (:mod:`geoplan.io.osm_areas`);
        ``"pyosmium"``: everything with pyosmium; ``"auto"`` (default): DuckDB for PBF files
        of 16 MB or more when it is installed and ``keep_way`` is not given (smaller files read
        faster without starting DuckDB). Same result either way.

    Returns
    -------
    RawOSM
        Highway ways (runs of located nodes), tagged nodes, assembled areas, stop-area
        relations, barrier ways and gate nodes, in WGS84 degrees, with counts and extents.

    Notes
    -----
    Node references whose node is missing from the file (clipped extracts) are dropped and
    counted in ``dangling_refs``; a way is split where such a node was, so no straight segment is
    invented across the gap.
    """
    p = check_osm_path(path)
    if reader not in ("auto", "duckdb", "pyosmium"):
        raise ValueError(f"reader={reader!r}: use 'auto', 'duckdb' or 'pyosmium'")
    large = p.stat().st_size >= COLUMNS_MIN_BYTES
    if reader == "duckdb" or (reader == "auto" and keep_way is None and large):
        from geoplan.io import osm_columns

        if sniff_format(p) == "pbf" and osm_columns.available():
            return _read_with_columns(p, parallel=parallel)
        if reader == "duckdb":
            raise InputFileError(
                f"{p}: the DuckDB reader needs a .osm.pbf file and the duckdb-ext-spatial "
                "package; use reader='pyosmium'"
            )
    raw = RawOSM(path=p)
    raw.header_bbox = _header_bbox(p)

    wkb = osmium.geom.WKBFactory()
    failed_ways: dict[int, dict[str, str]] = {}
    # highway ways: node refs and fixed-point coordinates of all ways go into flat lists; runs,
    # dangling refs and the bbox are worked out with numpy after the pass (no per-way arrays)
    ways = WayLists()
    bways = WayLists()  # barrier ways, split into runs the same way after the pass
    use_pool = parallel if parallel is not None else _parallel_ok(p)
    use_pool = use_pool and keep_way is None
    pool = fut = None
    fp = osmium.FileProcessor(str(p)).with_locations().with_areas()
    if use_pool:
        # highway ways in a second process (both cores): this pass skips them in C++
        pool, fut = start_child(_ways_pass, str(p))
        fp = fp.with_filter(
            osmium.filter.EntityFilter(osmium.osm.NODE | osmium.osm.RELATION | osmium.osm.AREA)
        )
    fp = fp.with_filter(osmium.filter.KeyFilter(*KEYS, *BARRIER_KEYS))
    skip_node = _unread_node_test()
    is_gate = _gate_test()
    unread_x: Any = array("q")
    unread_y: Any = array("q")
    try:
        for o in fp:
            obj: Any = o
            if obj.is_way():
                _read_way(obj, bways, ways, keep_way)
            elif obj.is_node():
                _read_node(obj, raw, skip_node, is_gate, (unread_x, unread_y))
            else:
                _area_or_relation(obj, wkb, raw, failed_ways)
        if fut is not None:
            ways, bways = fut.result()
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as exc:  # corrupt input, ids
        raise InputFileError(f"{p}: cannot read as OSM data ({exc}); check the file") from exc
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    _finish(raw, p, _split_runs(raw, ways), failed_ways, (unread_x, unread_y))
    raw.barrier_lines = _barrier_lines(bways)
    return raw


def _area_or_relation(
    obj: Any, wkb: Any, raw: RawOSM, failed_ways: dict[int, dict[str, str]]
) -> None:
    """An assembled area (kept unless only barrier keys make it one) or a stop-area relation."""
    if obj.is_area():
        # not an area of barrier keys only (a walled ring, a riverbank)
        if not _has_key(obj, BARRIER_KEYS) or _has_key(obj, KEYS):
            _add_area(obj, wkb, raw, failed_ways)
    elif obj.is_relation() and obj.tags.get("public_transport") == "stop_area":
        members = [(str(m.type), int(m.ref)) for m in obj.members]
        raw.stop_areas.append((_tags(obj), members))


def _read_with_columns(p: Path, *, parallel: bool | None) -> RawOSM:
    """:func:`read_osm` of a PBF, read column-wise by DuckDB (:mod:`geoplan.io.osm_columns`).

    The scan runs in a forked child (when :func:`_parallel_ok`) and streams its batches here,
    where tag dicts and areas are built while it reads on (:mod:`geoplan.io.osm_stream`). Areas
    come from the node arrays (:mod:`geoplan.io.osm_areas`): libosmium no longer decodes the
    file a second time.
    """
    from geoplan.io.osm_stream import ColumnsInChild, read_columns

    raw = RawOSM(path=p)
    raw.header_bbox = _header_bbox(p)
    way_box: list[tuple[float, float, float, float] | None] = []

    def on_ways(ways: WayLists, barriers: WayLists) -> None:
        # runs and barrier lines while the relations are still being assembled
        way_box.append(_split_runs(raw, ways))
        raw.barrier_lines = _barrier_lines(barriers)

    use_pool = parallel if parallel is not None else _parallel_ok(p)
    if use_pool:
        child = ColumnsInChild(p)
        try:
            done = child.assemble(on_ways=on_ways)
        finally:
            child.close()
    else:
        done = read_columns(p, on_ways=on_ways)
    raw.points = done.nodes.points
    raw.gate_nodes = done.nodes.gate_nodes
    raw.areas = done.areas
    raw.areas_failed = done.areas_failed
    raw.stop_areas = done.stop_areas
    _finish(raw, p, way_box[0], {}, (done.nodes.unread_x, done.nodes.unread_y))
    return raw


def _read_way(
    obj: Any, bways: WayLists, ways: WayLists, keep_way: Callable[[dict[str, str]], bool] | None
) -> None:
    """A way of the main pass: a barrier way, and the highway way unless ``keep_way`` says no."""
    if _has_key(obj, BARRIER_KEYS):
        bways.add(obj, _tags(obj))
    if "highway" not in obj.tags:
        return
    tags = _tags(obj)
    if keep_way is None or keep_way(tags):
        ways.add(obj, tags)


def _read_node(
    obj: Any,
    raw: RawOSM,
    skip_node: Callable[[Any], bool],
    is_gate: Callable[[dict[str, str]], bool],
    unread: tuple[Any, Any],
) -> None:
    """A tagged node of the main pass: a gate, a point a rule reads, or only extent."""
    loc = obj.location
    if not loc.valid():
        return
    if _has_key(obj, BARRIER_KEYS):
        tags = _tags(obj)
        if is_gate(tags):
            raw.gate_nodes.append((obj.id, loc.lon, loc.lat, tags))
        if not _has_key(obj, KEYS):
            return  # only barrier keys: no layer rule reads it (nor did the extent before)
    if skip_node(obj):
        # a crossing / street lamp / signal: no rule reads it; only the extent counts
        unread[0].append(loc.x)
        unread[1].append(loc.y)
        return
    raw.points.append((obj.id, loc.lon, loc.lat, _tags(obj)))


def _unread_node_test() -> Callable[[Any], bool]:
    """A test for tagged nodes no layer rule reads (they stay out of ``RawOSM.points``).

    Such a node passes the C++ key filter for its ``highway`` key alone, with a value no rule
    asks for (crossings, street lamps, traffic signals: a third of a European city's tagged
    nodes), and has no other key any rule, the stop-area test or a name search reads. Read from
    pyosmium's C++ tag list without building the tag dict.
    """
    from geoplan.rules import taxonomy as tx

    values = tx.highway_values_read()
    read = (tx.point_keys_read() | set(KEYS) | set(tx.NAME_KEYS)) - {"highway"}
    if values is None:  # a rule reads every highway value: keep every node
        return lambda obj: False

    def test(obj: Any) -> bool:
        data = getattr(obj, "_pyosmium_data", None)
        if data is None or not hasattr(data, "tags_next"):  # pragma: no cover - other pyosmium
            return False
        hw = data.tags_get_value_by_key("highway", None)
        if hw is None or hw in values:
            return False
        it = data.tags_begin()
        nxt = data.tags_next
        return not any(nxt(it)[0] in read for _ in range(data.tags_size()))

    return test


def _finish(
    raw: RawOSM,
    p: Path,
    way_box: tuple[float, float, float, float] | None,
    failed_ways: dict[int, dict[str, str]],
    unread: tuple[Any, Any] | None = None,
) -> None:
    """The closed ways libosmium refused, and the data's bounding box.

    ``way_box``: the bounding box of the ways' runs (:func:`_split_runs`, already in ``raw``).
    ``unread``: fixed-point x / y of the tagged nodes left out of ``raw.points`` (they count in
    the bounding box as before).
    """
    minx = miny = np.inf
    maxx = maxy = -np.inf
    plon = np.fromiter((r[1] for r in raw.points), dtype=float, count=len(raw.points))
    plat = np.fromiter((r[2] for r in raw.points), dtype=float, count=len(raw.points))
    if unread is not None and len(unread[0]):
        # == Location.lon / .lat: int32 fixed point / 1e7 in double
        plon = np.concatenate([plon, np.asarray(unread[0], dtype=np.int64) / 1e7])
        plat = np.concatenate([plat, np.asarray(unread[1], dtype=np.int64) / 1e7])
    if plon.size:
        minx, maxx = float(plon.min()), float(plon.max())
        miny, maxy = float(plat.min()), float(plat.max())
    if way_box is not None:
        minx, miny = min(minx, way_box[0]), min(miny, way_box[1])
        maxx, maxy = max(maxx, way_box[2]), max(maxy, way_box[3])
    if failed_ways:
        rebuilt = _closed_way_polygons(p, failed_ways)
        raw.areas.extend(rebuilt)
        raw.areas_failed += len(failed_ways) - len(rebuilt)
    if np.isfinite(minx):
        raw.bbox = (float(minx), float(miny), float(maxx), float(maxy))


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
