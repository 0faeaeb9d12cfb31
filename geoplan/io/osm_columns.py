"""A PBF file read column-wise with DuckDB: nodes, ways and relations as Arrow columns.

DuckDB's spatial extension (``ST_ReadOSM``, shipped in the ``duckdb-ext-spatial`` wheel and loaded
from there — never downloaded) decodes every node, way and relation of a PBF in C++ into Arrow
columns. The tag tests that decide what geoplan reads run on those columns with numpy; way node
references are joined to node locations with sorted ids + ``searchsorted`` (lower memory than
the join in SQL). :func:`scan` sends what it reads on as it goes — the tagged nodes, then each
batch's highway, barrier and candidate area ways, located — so the caller builds tag dicts and
areas (:mod:`geoplan.io.osm_areas`) while the scan goes on (:mod:`geoplan.io.osm_stream`).

Why: the per-object pyosmium loops over ways and tagged nodes were most of a city read (Helsinki
12×12: the ways pass 8.8 s, the node loop 13 s of a profiled main pass), and libosmium's area
assembler decoded the whole file a second time (9 s alone at Helsinki 18×18). XML input stays
with pyosmium (``ST_ReadOSM`` reads PBF only).

The result equals the pyosmium read object for object, in file order
(``tests/io/test_osm_columns.py`` reads the shared cities both ways).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from geoplan._errors import InputFileError
from geoplan._ranges import ranges
from geoplan.io.osm_areas import UNDEFINED, Area, NodeArrays, relation_areas
from geoplan.io.osm_raw import BARRIER_KEYS, KEYS
from geoplan.io.osm_relations import relations
from geoplan.rules.tag_table import TagTable

#: libosmium's undefined coordinate (``Location`` of a node missing from the file)
_UNDEFINED = UNDEFINED

#: libosmium ``Location::valid()`` bounds of fixed-point (1e-7 degree) coordinates
_MAX_X = 180 * 10_000_000
_MAX_Y = 90 * 10_000_000

Point = tuple[int, float, float, dict[str, str]]


@dataclass
class NodeRead:
    """The tagged nodes of a read, as :func:`geoplan.io.osm.read_osm` keeps them."""

    #: nodes a layer rule reads: (osmid, lon, lat, tags), file order
    points: list[Point] = field(default_factory=list)
    #: gate and entrance nodes: (osmid, lon, lat, tags), file order
    gate_nodes: list[Point] = field(default_factory=list)
    #: fixed-point x / y of tagged nodes no rule reads (they count in the data's extent)
    unread_x: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    unread_y: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))


@cache
def extension_dir() -> str | None:
    """The folder holding DuckDB's spatial extension from the ``duckdb-ext-spatial`` wheel.

    Returns
    -------
    str or None
        None when ``duckdb`` or the extension wheel is not installed (geoplan then reads with
        pyosmium alone).
    """
    from importlib.util import find_spec

    # found, not imported: a process that forks the read never loads DuckDB itself (28 MB)
    ext_spec = find_spec("duckdb_ext")
    if find_spec("duckdb") is None or ext_spec is None:
        return None
    for base in ext_spec.submodule_search_locations or ():
        ext = Path(base) / "extensions"
        if any(ext.glob("*/*/spatial.duckdb_extension")):
            return str(ext)
    return None  # pragma: no cover - a wheel without the extension


def available() -> bool:
    """Whether the column read can run here (DuckDB and its spatial extension are installed).

    Returns
    -------
    bool
    """
    return extension_dir() is not None


def _connect() -> Any:
    import duckdb

    con = duckdb.connect(
        config={
            "extension_directory": str(extension_dir()),
            # offline: the extension comes from the wheel, never from the network
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # one thread: with more, ST_ReadOSM returns rows out of file order
            "threads": 1,
            # file order of nodes and ways, as pyosmium yields them
            "preserve_insertion_order": True,
        }
    )
    con.execute("LOAD spatial")
    con.execute("SET enable_progress_bar = false")  # geoplan prints its own progress
    return con


def _rule_lists() -> tuple[list[str], list[str] | None]:
    """(keys whose presence makes a tagged node read, highway values read or None for any)."""
    from geoplan.rules import taxonomy as tx

    values = tx.highway_values_read()
    read = (tx.point_keys_read() | set(KEYS) | set(tx.NAME_KEYS)) - {"highway"}
    return sorted(read), (sorted(values) if values is not None else None)


#: every node (its location joins the ways), every way (a way may be a multipolygon member),
#: and the multipolygon, boundary and stop-area relations; the tags of untagged objects come
#: back null. The tag tests run on the Arrow columns (:func:`_tag_tests`): per-row
#: ``list_has_any(map_keys(tags), …)`` in SQL took twice as long as the scan.
_SQL = """
SELECT kind = 'way' AS is_way, kind = 'relation' AS is_rel, id, lon, lat, refs, ref_types,
       CASE WHEN cardinality(tags) > 0 THEN tags END AS tags
FROM ST_ReadOSM($path)
WHERE kind IN ('node', 'way')
   OR (kind = 'relation'
       AND (tags['type'] IN ('multipolygon', 'boundary')
            OR tags['public_transport'] = 'stop_area'))
"""


def tag_table(tags_col: Any) -> TagTable:
    """Codes of an Arrow MAP column without nulls (cheap to send between processes).

    Parameters
    ----------
    tags_col
        ``pyarrow.MapArray`` of string keys and values.

    Returns
    -------
    TagTable
    """
    off, keys, items = _flat(tags_col)
    kenc = keys.dictionary_encode()  # OSM keys and values are never null
    venc = items.dictionary_encode()
    return TagTable(
        off,
        kenc.indices.to_numpy(zero_copy_only=False),
        venc.indices.to_numpy(zero_copy_only=False),
        kenc.dictionary.to_pylist(),
        venc.dictionary.to_pylist(),
    )


@dataclass
class NodeColumns:
    """Tagged nodes kept (gates, points a rule reads), file order, as arrays."""

    ids: NDArray[np.int64]
    x: NDArray[np.int64]
    y: NDArray[np.int64]
    barrier: NDArray[np.bool_]
    read: NDArray[np.bool_]
    tags: TagTable
    #: fixed-point x / y of tagged nodes no rule reads
    unread_x: NDArray[np.int64]
    unread_y: NDArray[np.int64]

    def finish(self, out: NodeRead | None = None) -> NodeRead:
        """The nodes as :class:`NodeRead` (appended to ``out`` when given).

        Parameters
        ----------
        out
            Nodes read before these (file order), or None.

        Returns
        -------
        NodeRead
        """
        out = out if out is not None else NodeRead()
        out.unread_x = np.concatenate([out.unread_x, self.unread_x])
        out.unread_y = np.concatenate([out.unread_y, self.unread_y])
        _split_nodes(out, self.ids, self.x, self.y, self.barrier, self.read, self.tags.dicts())
        return out


@dataclass
class WayBatch:
    """The ways of one record batch geoplan keeps (highway, barrier, candidate area), located.

    Sent from the scan as soon as its batch is read, so the caller builds areas and tag dicts
    while the scan goes on.
    """

    #: position of each way among all ways of the file (file order)
    rows: NDArray[np.int64]
    ids: NDArray[np.int64]
    lens: NDArray[np.int64]
    #: node refs, one way after the other, and their fixed-point (1e-7 degree) x / y,
    #: libosmium's undefined coordinate where a node is missing from the file
    refs: NDArray[np.int64]
    x: NDArray[np.int64]
    y: NDArray[np.int64]
    highway: NDArray[np.bool_]
    barrier: NDArray[np.bool_]
    #: tagged with an area key, 4 or more node refs (an area if closed)
    area: NDArray[np.bool_]
    tags: TagTable


@dataclass
class EndPart:
    """What the scan knows only at its end: the relations."""

    #: multipolygon / boundary relations with an area key, assembled from their member ways
    #: (:func:`geoplan.io.osm_areas.relation_areas`), file order
    areas: list[Area]
    areas_failed: int
    #: for each area, the position of its last member way among all ways of the file
    last_member: NDArray[np.int64]
    #: public_transport=stop_area relations: (tags, [(member type "n"/"w"/"r", member id)])
    stop_areas: list[tuple[dict[str, str], list[tuple[str, int]]]]


class Sink(Protocol):
    """Where :func:`scan` sends what it reads, in file order."""

    def nodes(self, cols: NodeColumns) -> None:
        """The tagged nodes of one batch.

        Parameters
        ----------
        cols
            The nodes.
        """

    def ways(self, batch: WayBatch) -> None:
        """The kept ways of one batch.

        Parameters
        ----------
        batch
            The ways.
        """

    def reset(self) -> None:
        """Forget the ways sent so far: they come again, all at once (an unsorted file)."""

    def ways_done(self) -> None:
        """Every way has been sent (the relations are assembled next)."""


def scan(path: str | Path, sink: Sink) -> EndPart:
    """Read a PBF with DuckDB and run the tag tests on columns; no per-object Python.

    Every batch's tagged nodes go to ``sink.nodes`` and its kept ways to ``sink.ways``, located
    (in a PBF sorted by type every node precedes the ways), as the batch is read. A node after
    the first way (an unsorted file) makes the scan send ``sink.reset`` and every way again,
    located with all nodes, at its end.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file (WGS84).
    sink
        Receives the nodes and ways as they are read.

    Returns
    -------
    EndPart
        The relations.
    """
    import duckdb
    import pyarrow as pa

    con = _connect()
    parts: list[dict[str, Any]] = []  # what the relations need at the end (way ids and refs)
    loose: list[tuple[Any, ...]] = []  # node locations not in ``index`` yet
    index: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]] | None = None
    n_ways = 0
    in_order = True
    try:
        for q in _batches(con, path):
            q["first_way"] = n_ways
            n_ways += q["way_ids"].shape[0]
            if q["node_ids"].size or q["unread_x"].size:
                sink.nodes(_node_columns([q]))
            if q["nid"].size:
                loose.append((q["nid"], q["nx"], q["ny"]))
                in_order = in_order and index is None
            if index is None and q["way_ids"].size:
                index, loose = _node_index(loose), []
            if index is not None and in_order and q["way_ids"].size:
                sink.ways(_way_batch([q], index))
            parts.append({k: q[k] for k in _KEPT})  # the rest was sent or is not needed
        if not in_order:
            # a node after the ways began (an unsorted file): the ways again, read a second
            # time and located with every node
            index, loose = _node_index([*([index] if index else []), *loose]), []
            sink.reset()
            first = 0
            for q in _batches(con, path):
                q["first_way"] = first
                first += q["way_ids"].shape[0]
                if q["way_ids"].size:
                    sink.ways(_way_batch([q], index))
    except (duckdb.Error, pa.ArrowException, OSError) as exc:  # a corrupt or truncated PBF
        # (DuckDB's IO error comes through Arrow's batch reader as an OSError)
        msg = str(exc).splitlines()[0]
        raise InputFileError(f"{path}: cannot read as OSM data ({msg}); check the file") from exc
    finally:
        con.close()
    sink.ways_done()
    return _end_part(parts, index if index is not None else _node_index(loose))


#: what :func:`scan` keeps of each batch to its end: the relations and their member ways
_KEPT = (
    "rel_key",
    "first_way",
    "way_ids",
    "way_refs",
    "way_lens",
    "rel_ids",
    "rel_tags",
    "rel_refs",
    "rel_types",
)


def _batches(con: Any, path: str | Path) -> Any:
    """The file's record batches, each as :func:`_batch_part`.

    Batches: the whole file is never one Arrow table (the read's memory peak).
    """
    res = con.execute(_SQL, {"path": str(path)})
    for batch in res.fetch_record_batch(BATCH_ROWS):
        yield _batch_part(batch)


def _node_index(
    located: list[tuple[Any, ...]],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Node ids sorted, with their fixed-point x / y, of some (ids, x, y) arrays."""
    if not located:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    nid, nx, ny = (np.concatenate([a[i] for a in located]) for i in range(3))
    if nid.size and not bool(np.all(nid[1:] > nid[:-1])):
        order = np.argsort(nid, kind="stable")
        nid, nx, ny = nid[order], nx[order], ny[order]
    return nid, nx, ny


def _refs(parts: list[dict[str, Any]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Node refs of every way of some batches, flat, and each way's count."""
    if len(parts) == 1:
        return parts[0]["way_refs"], parts[0]["way_lens"]
    refs = np.concatenate([q["way_refs"] for q in parts])
    return refs, np.concatenate([q["way_lens"] for q in parts])


def _way_batch(
    parts: list[dict[str, Any]],
    index: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
) -> WayBatch:
    """The kept ways of some consecutive batches, located."""
    import pyarrow as pa

    refs, lens = _refs(parts)
    hw = np.concatenate([q["way_highway"] for q in parts])
    bar = np.concatenate([q["way_barrier"] for q in parts])
    area = np.concatenate([q["way_area"] for q in parts])
    rows = np.flatnonzero(hw | bar | area)
    starts = np.concatenate([[0], np.cumsum(lens)])
    refs = refs[ranges(starts[rows], lens[rows])]
    x, y = _locate(refs, *index)
    return WayBatch(
        rows=rows + parts[0]["first_way"],
        ids=np.concatenate([q["way_ids"] for q in parts])[rows],
        lens=lens[rows],
        refs=refs,
        x=x,
        y=y,
        highway=hw[rows],
        barrier=bar[rows],
        area=area[rows],
        tags=tag_table(pa.concat_arrays([q["way_tags"] for q in parts])),
    )


def _end_part(
    parts: list[dict[str, Any]],
    index: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
) -> EndPart:
    """Relations: areas assembled from their member ways, and stop areas."""
    way_ids = np.concatenate([q["way_ids"] for q in parts]) if parts else np.zeros(0, np.int64)
    rels = relations(parts, way_ids)
    found = rels.members >= 0
    member_rows, slot = np.unique(rels.members[found], return_inverse=True)
    members = np.full(rels.members.shape[0], -1, dtype=np.int64)
    members[found] = slot.ravel()
    if member_rows.size:
        refs, lens = _refs(parts)
        starts = np.concatenate([[0], np.cumsum(lens)])
        refs = refs[ranges(starts[member_rows], lens[member_rows])]
        x, y = _locate(refs, *index)
        offsets = np.concatenate([[0], np.cumsum(lens[member_rows])])
    else:
        x = y = np.zeros(0, np.int64)
        offsets = np.zeros(1, np.int64)
    areas, failed, last = relation_areas(
        NodeArrays(offsets, x, y), rels.ids, rels.tags, rels.offsets, members
    )
    return EndPart(areas, failed, member_rows[last], rels.stop_areas)


def _map_type() -> Any:
    import pyarrow as pa

    return pa.map_(pa.string(), pa.string())


def _node_columns(parts: list[dict[str, Any]]) -> NodeColumns:
    """The kept tagged nodes of some batches, concatenated."""
    import pyarrow as pa

    def cat(name: str, dtype: Any = np.int64) -> Any:
        return np.concatenate([q[name] for q in parts]) if parts else np.zeros(0, dtype)

    tags = [q["node_tags"] for q in parts]
    return NodeColumns(
        ids=cat("node_ids"),
        x=cat("node_x"),
        y=cat("node_y"),
        barrier=cat("node_barrier", bool),
        read=cat("node_read", bool),
        tags=tag_table(pa.concat_arrays(tags) if tags else pa.array([], type=_map_type())),
        unread_x=cat("unread_x"),
        unread_y=cat("unread_y"),
    )


#: rows per DuckDB record batch (nodes and ways; a batch's Arrow columns are freed once read)
BATCH_ROWS = 250_000


def _batch_part(batch: Any) -> dict[str, Any]:
    """One record batch: node locations, tag tests, and the rows kept with their tags."""
    import pyarrow.compute as pc

    is_way = batch.column("is_way").to_numpy(zero_copy_only=False).astype(bool)
    is_rel = batch.column("is_rel").to_numpy(zero_copy_only=False).astype(bool)
    tags_col = batch.column("tags")
    hw, bar, key, skip, area = _tag_tests(tags_col)
    node_rows = np.flatnonzero(~is_way & ~is_rel)
    way_rows = np.flatnonzero(is_way)
    rel_rows = np.flatnonzero(is_rel)
    ids = batch.column("id").to_numpy()
    lon = batch.column("lon").to_numpy(zero_copy_only=False)[node_rows]
    lat = batch.column("lat").to_numpy(zero_copy_only=False)[node_rows]
    # == libosmium's fixed point: PBF coordinates are integer multiples of 1e-7 degree
    nx = np.rint(lon * 1e7).astype(np.int64)
    ny = np.rint(lat * 1e7).astype(np.int64)
    b, k, s = bar[node_rows], key[node_rows], skip[node_rows]
    valid = (np.abs(nx) <= _MAX_X) & (np.abs(ny) <= _MAX_Y)
    unread = valid & k & s
    kept = np.flatnonzero(valid & (b | (k & ~s)))
    # every way's node refs (a multipolygon member is known only once its relation is read)
    refs_col = batch.column("refs").take(way_rows)
    n_refs = pc.list_value_length(refs_col).to_numpy(zero_copy_only=False).astype(np.int64)
    way_refs = pc.list_flatten(refs_col).to_numpy(zero_copy_only=False).astype(np.int64)
    # a closed way can be an area from 4 node references on (libosmium's test)
    way_area = area[way_rows] & (n_refs >= 4)
    way_tagged = hw[way_rows] | bar[way_rows] | way_area
    return {
        "nid": ids[node_rows],
        "nx": nx,
        "ny": ny,
        "way_ids": ids[way_rows],
        "way_refs": way_refs,
        "way_lens": n_refs,
        "way_highway": hw[way_rows],
        "way_barrier": bar[way_rows],
        "way_area": way_area,
        "way_tags": tags_col.take(way_rows[way_tagged]),
        "rel_ids": ids[rel_rows],
        # a key geoplan reads (an area key, public_transport): the only relations looked at
        "rel_key": key[rel_rows],
        "rel_tags": tags_col.take(rel_rows),
        "rel_refs": batch.column("refs").take(rel_rows),
        "rel_types": batch.column("ref_types").take(rel_rows),
        "node_ids": ids[node_rows[kept]],
        "node_x": nx[kept],
        "node_y": ny[kept],
        "node_barrier": b[kept],
        "node_read": k[kept] & ~s[kept],
        "node_tags": tags_col.take(node_rows[kept]),
        "unread_x": nx[unread],
        "unread_y": ny[unread],
    }


def _flat(tags_col: Any) -> tuple[NDArray[np.int64], Any, Any]:
    """Offsets from 0 and the keys / values of a MAP array's rows (slices respected)."""
    off = tags_col.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    base, n = int(off[0]), int(off[-1] - off[0])
    # .keys / .items are the whole child arrays, also for a sliced MapArray
    return off - base, tags_col.keys.slice(base, n), tags_col.items.slice(base, n)


def _tag_tests(
    tags_col: Any,
) -> tuple[
    NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]
]:
    """Per row: ``highway``; a barrier key; a key read; an unread node; an area key.

    In order: has ``highway``; a barrier key; a key geoplan reads; is a tagged node no rule
    reads (:func:`geoplan.io.osm._unread_node_test` on columns: a ``highway`` value no rule
    asks for and no other key a rule, the stop-area test or a name search reads); would be an
    area geoplan reads if it were a closed way (:func:`geoplan.io.osm._add_area`'s test: a key
    geoplan reads other than ``highway`` alone; libosmium's: not ``area=no``).
    """
    read, values = _rule_lists()
    n = len(tags_col)
    off, keys, items = _flat(tags_col)
    kenc = keys.dictionary_encode()
    kdict = np.array(kenc.dictionary.to_pylist(), dtype=object)
    kidx = kenc.indices.to_numpy(zero_copy_only=False)
    venc = items.dictionary_encode()
    vdict = np.array(venc.dictionary.to_pylist(), dtype=object)
    vidx = venc.indices.to_numpy(zero_copy_only=False)
    # one bit per test an entry can pass, set per distinct key (and value), then OR-ed per row
    # in one pass (was a cumulative sum per test)
    is_hw = kdict == "highway"
    kbits = (
        is_hw * _HW
        | np.isin(kdict, BARRIER_KEYS) * _BAR
        | np.isin(kdict, KEYS) * _KEY
        | (np.isin(kdict, KEYS) & ~is_hw) * _OTHER_KEY
        | np.isin(kdict, read) * _READ
    ).astype(np.uint8)
    bits = kbits[kidx]
    bits[(kdict == "area")[kidx] & (vdict == "no")[vidx]] |= _AREA_NO
    if values is not None:
        bits[is_hw[kidx] & ~np.isin(vdict, values)[vidx]] |= _HW_UNREAD
    row = np.zeros(n, dtype=np.uint8)
    filled = np.flatnonzero(off[1:] > off[:-1])
    if filled.size:
        row[filled] = np.bitwise_or.reduceat(bits, off[:-1][filled])
    hw = (row & _HW) > 0
    key = (row & _KEY) > 0
    # an area key other than ``highway`` alone, not ``area=no``
    area = key & ~(hw & ((row & _OTHER_KEY) == 0)) & ((row & _AREA_NO) == 0)
    if values is None:
        skip = np.zeros(n, dtype=bool)
    else:
        skip = ((row & _HW_UNREAD) > 0) & ((row & _READ) == 0)
    return hw, (row & _BAR) > 0, key, skip, area


#: the bits of :func:`_tag_tests`: ``highway``; a barrier key; a key geoplan reads; one other
#: than ``highway``; a key a rule reads on nodes; ``area=no``; a ``highway`` value no rule reads
_HW, _BAR, _KEY, _OTHER_KEY, _READ, _AREA_NO, _HW_UNREAD = (1 << i for i in range(7))


def _locate(
    refs: NDArray[np.int64], nid: NDArray[np.int64], nx: NDArray[np.int64], ny: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Fixed-point x / y of each node reference; libosmium's undefined value where missing.

    ``nid`` sorted (:func:`_node_index`).
    """
    x = np.full(refs.shape[0], _UNDEFINED, dtype=np.int64)
    y = np.full(refs.shape[0], _UNDEFINED, dtype=np.int64)
    if nid.size and refs.size:
        pos = np.minimum(np.searchsorted(nid, refs), nid.shape[0] - 1)
        found = nid[pos] == refs
        x[found] = nx[pos[found]]
        y[found] = ny[pos[found]]
    return x, y


def _split_nodes(
    out: NodeRead,
    nid: NDArray[np.int64],
    nx: NDArray[np.int64],
    ny: NDArray[np.int64],
    bar: NDArray[np.bool_],
    read: NDArray[np.bool_],
    tags: list[dict[str, str]],
) -> None:
    """Tagged nodes (file order) into gates and points a rule reads."""
    from geoplan.rules.barriers import barrier_rules

    is_gate = barrier_rules().is_gate
    lon = (nx / 1e7).tolist()  # == Location.lon: int32 fixed point / 1e7 in double
    lat = (ny / 1e7).tolist()
    rows = zip(nid.tolist(), lon, lat, tags, bar.tolist(), read.tolist(), strict=True)
    for i, x, y, t, b, r in rows:
        if b and is_gate(t):
            out.gate_nodes.append((i, x, y, t))
        if r:
            out.points.append((i, x, y, t))
