"""Highway ways, barrier ways and tagged nodes of a PBF file, read column-wise with DuckDB.

DuckDB's spatial extension (``ST_ReadOSM``, shipped in the ``duckdb-ext-spatial`` wheel and loaded
from there — never downloaded) decodes every node and way of a PBF in C++ into Arrow columns.
The tag tests that decide what geoplan reads run in SQL, on columns: only the highway and
barrier ways and the tagged nodes a rule reads come back with their tags. Way node references
are joined to node locations in numpy (sorted ids + ``searchsorted``; lower memory than the join
in SQL). Python then builds one tag dict per kept object and nothing per node reference.

Why: the per-object pyosmium loops over ways and tagged nodes were most of a city read (Helsinki
12×12: the ways pass 8.8 s, the node loop 13 s of a profiled main pass); this read takes a few
seconds for both. Multipolygon areas and stop-area relations stay with pyosmium (libosmium's
area assembler), which now sees no node and no way in Python (:func:`geoplan.io.osm.read_osm`).
XML input stays with pyosmium (``ST_ReadOSM`` reads PBF only).

The result equals the pyosmium read object for object, in file order (``tests/io/test_osm.py``
reads the shared cities both ways).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geoplan._errors import InputFileError
from geoplan._fork import die_with_parent, submit_started
from geoplan.io.osm_raw import BARRIER_KEYS, KEYS, WayLists

#: libosmium's undefined coordinate (``Location`` of a node missing from the file)
_UNDEFINED = 2_147_483_647

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


#: every node (its location joins the ways) and the highway and barrier ways; the tags of
#: untagged nodes come back null. The tag tests run on the Arrow columns (:func:`_tag_tests`):
#: per-row ``list_has_any(map_keys(tags), …)`` in SQL took twice as long as the scan.
_SQL = """
SELECT kind = 'way' AS is_way, id, lon, lat, refs,
       CASE WHEN cardinality(tags) > 0 THEN tags END AS tags
FROM ST_ReadOSM($path)
WHERE kind = 'node'
   OR (kind = 'way' AND (map_contains(tags, 'highway') OR list_has_any(map_keys(tags), $bar)))
"""


def read_columns(path: str | Path) -> tuple[WayLists, WayLists, NodeRead]:
    """Highway ways, barrier ways and tagged nodes of a PBF file.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file (WGS84).

    Returns
    -------
    ways : WayLists
        Ways with a ``highway`` tag: ids, tags, node counts, node refs and fixed-point (1e-7
        degree) x / y, libosmium's undefined coordinate where a node is missing from the file.
    barrier_ways : WayLists
        Ways with a barrier key (:data:`geoplan.io.osm.BARRIER_KEYS`), the same way.
    nodes : NodeRead
        Tagged nodes with a key geoplan reads, split as :func:`geoplan.io.osm.read_osm` does.
    """
    return fetch_columns(path).finish()


@dataclass
class TagColumns:
    """Tags of some rows as integer codes: cheap to send between processes.

    Row ``i`` has the pairs ``offsets[i]:offsets[i + 1]`` of ``key_codes`` / ``value_codes``,
    codes into ``keys`` / ``values``.
    """

    offsets: NDArray[np.int64]
    key_codes: NDArray[np.int64]
    value_codes: NDArray[np.int64]
    keys: list[str]
    values: list[str]

    @classmethod
    def of(cls, tags_col: Any) -> TagColumns:
        """Codes of an Arrow MAP column without nulls.

        Parameters
        ----------
        tags_col
            ``pyarrow.MapArray`` of string keys and values.

        Returns
        -------
        TagColumns
        """
        off, keys, items = _flat(tags_col)
        kenc = keys.dictionary_encode()  # OSM keys and values are never null
        venc = items.dictionary_encode()
        return cls(
            off,
            kenc.indices.to_numpy(zero_copy_only=False).astype(np.int64),
            venc.indices.to_numpy(zero_copy_only=False).astype(np.int64),
            kenc.dictionary.to_pylist(),
            venc.dictionary.to_pylist(),
        )

    def dicts(self) -> list[dict[str, str]]:
        """One tag dict per row; each distinct key and value one interned str.

        Returns
        -------
        list of dict
        """
        k = np.array([sys.intern(s) for s in self.keys], dtype=object)
        v = np.array([sys.intern(s) for s in self.values], dtype=object)
        keys = k[self.key_codes].tolist()
        vals = v[self.value_codes].tolist()
        off = self.offsets.tolist()
        return [dict(zip(keys[a:b], vals[a:b], strict=True)) for a, b in pairwise(off)]


@dataclass
class NodeColumns:
    """Tagged nodes kept (gates, points a rule reads), file order, as arrays."""

    ids: NDArray[np.int64]
    x: NDArray[np.int64]
    y: NDArray[np.int64]
    barrier: NDArray[np.bool_]
    read: NDArray[np.bool_]
    tags: TagColumns
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
class ColumnRead:
    """What :func:`fetch_columns` reads, as arrays (sent whole from a forked child)."""

    way_ids: NDArray[np.int64]
    way_lens: NDArray[np.int64]
    #: node refs of all ways, one after the other, and their fixed-point x / y
    way_refs: NDArray[np.int64]
    way_x: NDArray[np.int64]
    way_y: NDArray[np.int64]
    way_highway: NDArray[np.bool_]
    way_barrier: NDArray[np.bool_]
    way_tags: TagColumns
    #: the tagged nodes not sent ahead (all of them unless ``send_nodes`` was given)
    nodes: NodeColumns

    def finish(self, nodes: NodeRead | None = None) -> tuple[WayLists, WayLists, NodeRead]:
        """Highway ways, barrier ways and tagged nodes as :func:`read_columns` returns them.

        Parameters
        ----------
        nodes
            The nodes sent ahead, already finished (they come first in the file).

        Returns
        -------
        tuple of WayLists, WayLists, NodeRead
        """
        ids = self.way_ids.tolist()
        tags = self.way_tags.dicts()
        starts = np.concatenate([[0], np.cumsum(self.way_lens)])
        arrays = (self.way_lens, starts, self.way_refs, self.way_x, self.way_y)
        ways = _subset(ids, tags, *arrays, self.way_highway)
        barriers = _subset(ids, tags, *arrays, self.way_barrier)
        return ways, barriers, self.nodes.finish(nodes)


def fetch_columns(
    path: str | Path,
    *,
    send_nodes: Callable[[NodeColumns], None] | None = None,
) -> ColumnRead:
    """Read a PBF with DuckDB and run the tag tests on columns; no per-object Python.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file (WGS84).
    send_nodes
        Called once with the tagged nodes read before the first way (in a PBF sorted by type,
        all of them), so the caller can turn them into dicts while the ways are read; the
        result then holds only the nodes after it.

    Returns
    -------
    ColumnRead
    """
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    con = _connect()
    parts: list[dict[str, Any]] = []
    ahead = 0  # parts whose tagged nodes went ahead through send_nodes
    try:
        # record batches: the whole file is never one Arrow table (the read's memory peak)
        res = con.execute(_SQL, {"path": str(path), "bar": list(BARRIER_KEYS)})
        for batch in res.fetch_record_batch(BATCH_ROWS):
            parts.append(_batch_part(batch))
            if send_nodes is not None and not ahead and parts[-1]["way_ids"].size:
                ahead = len(parts)
                send_nodes(_node_columns(parts))
    except duckdb.Error as exc:  # a corrupt or truncated PBF
        msg = str(exc).splitlines()[0]
        raise InputFileError(f"{path}: cannot read as OSM data ({msg}); check the file") from exc
    finally:
        con.close()

    def cat(name: str) -> Any:
        return np.concatenate([q[name] for q in parts]) if parts else np.zeros(0, np.int64)

    def cat_arrow(name: str, typ: Any) -> Any:
        arrays = [q[name] for q in parts]
        return pa.concat_arrays(arrays) if arrays else pa.array([], type=typ)

    refs_col = cat_arrow("way_refs", pa.list_(pa.int64()))
    lens = pc.list_value_length(refs_col).to_numpy(zero_copy_only=False).astype(np.int64)
    refs = pc.list_flatten(refs_col).to_numpy(zero_copy_only=False).astype(np.int64)
    del refs_col
    x, y = _locate(refs, cat("nid"), cat("nx"), cat("ny"))
    return ColumnRead(
        way_ids=cat("way_ids"),
        way_lens=lens,
        way_refs=refs,
        way_x=x,
        way_y=y,
        way_highway=cat("way_highway"),
        way_barrier=cat("way_barrier"),
        way_tags=TagColumns.of(cat_arrow("way_tags", _map_type())),
        nodes=_node_columns(parts[ahead:]),
    )


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
        tags=TagColumns.of(pa.concat_arrays(tags) if tags else pa.array([], type=_map_type())),
        unread_x=cat("unread_x"),
        unread_y=cat("unread_y"),
    )


#: rows per DuckDB record batch (nodes and ways; a batch's Arrow columns are freed once read)
BATCH_ROWS = 1_000_000


def _batch_part(batch: Any) -> dict[str, Any]:
    """One record batch: node locations, tag tests, and the rows kept with their tags."""
    is_way = batch.column("is_way").to_numpy(zero_copy_only=False).astype(bool)
    tags_col = batch.column("tags")
    hw, bar, key, skip = _tag_tests(tags_col)
    node_rows = np.flatnonzero(~is_way)
    way_rows = np.flatnonzero(is_way)
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
    return {
        "nid": ids[node_rows],
        "nx": nx,
        "ny": ny,
        "way_ids": ids[way_rows],
        "way_refs": batch.column("refs").take(way_rows),
        "way_highway": hw[way_rows],
        "way_barrier": bar[way_rows],
        "way_tags": tags_col.take(way_rows),
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
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Per row: has ``highway``; a barrier key; a key geoplan reads; a tagged node no rule reads.

    The last is :func:`geoplan.io.osm._unread_node_test` on columns: a ``highway`` value no
    rule asks for and no other key a rule, the stop-area test or a name search reads.
    """
    read, values = _rule_lists()
    n = len(tags_col)
    off, keys, items = _flat(tags_col)
    kenc = keys.dictionary_encode()
    kdict = np.array(kenc.dictionary.to_pylist(), dtype=object)
    kidx = kenc.indices.to_numpy(zero_copy_only=False)

    def any_per_row(entry: NDArray[np.bool_]) -> NDArray[np.bool_]:
        cum = np.concatenate([[0], np.cumsum(entry, dtype=np.int64)])
        return np.asarray(cum[off[1:]] - cum[off[:-1]] > 0)

    def has(keys: list[str] | tuple[str, ...]) -> NDArray[np.bool_]:
        return any_per_row(np.isin(kdict, list(keys))[kidx])

    hw_entry = np.isin(kdict, ["highway"])[kidx]
    hw = any_per_row(hw_entry)
    bar = has(BARRIER_KEYS)
    key = has(KEYS)
    if values is None:
        return hw, bar, key, np.zeros(n, dtype=bool)
    venc = items.dictionary_encode()
    vread = np.isin(np.array(venc.dictionary.to_pylist(), dtype=object), values)
    hw_unread_value = hw_entry & ~vread[venc.indices.to_numpy(zero_copy_only=False)]
    skip = any_per_row(hw_unread_value) & ~has(read)
    return hw, bar, key, skip


def _locate(
    refs: NDArray[np.int64], nid: NDArray[np.int64], nx: NDArray[np.int64], ny: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Fixed-point x / y of each node reference; libosmium's undefined value where missing."""
    if nid.size and not bool(np.all(nid[1:] > nid[:-1])):
        order = np.argsort(nid, kind="stable")
        nid, nx, ny = nid[order], nx[order], ny[order]
    x = np.full(refs.shape[0], _UNDEFINED, dtype=np.int64)
    y = np.full(refs.shape[0], _UNDEFINED, dtype=np.int64)
    if nid.size and refs.size:
        pos = np.minimum(np.searchsorted(nid, refs), nid.shape[0] - 1)
        found = nid[pos] == refs
        x[found] = nx[pos[found]]
        y[found] = ny[pos[found]]
    return x, y


def _subset(
    ids: list[int],
    tags: list[dict[str, str]],
    lens: NDArray[np.int64],
    starts: NDArray[np.int64],
    refs: NDArray[np.int64],
    x: NDArray[np.int64],
    y: NDArray[np.int64],
    keep: NDArray[np.bool_],
) -> WayLists:
    """The ways where ``keep``, as :class:`WayLists` with packed arrays."""
    rows = np.flatnonzero(keep)
    pos = np.repeat(starts[rows], lens[rows]) + (
        np.arange(int(lens[rows].sum())) - np.repeat(np.cumsum(lens[rows]) - lens[rows], lens[rows])
    )
    sel = rows.tolist()
    return WayLists(
        [ids[i] for i in sel],
        [tags[i] for i in sel],
        lens[rows].tolist(),
        refs[pos],
        x[pos],
        y[pos],
    )


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


#: the pipe a forked child sends its tagged nodes ahead through, and the parent's read end
#: (inherited, never pickled; the child closes its copy of the read end)
_PIPE: list[Any] = []


class ColumnsInChild:
    """:func:`fetch_columns` in a forked child, its tagged nodes sent ahead through a pipe.

    The parent turns the nodes into dicts (:meth:`nodes`) while the child still reads the ways
    (in a PBF sorted by type every node comes first), then takes the rest (:meth:`result`).

    Parameters
    ----------
    path
        An ``.osm.pbf`` file.
    """

    def __init__(self, path: str | Path) -> None:
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        _PIPE[:] = [send, self._recv]
        try:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=ctx,
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
            self._fut = submit_started(self._pool, ctx, _fetch_in_child, str(path))
        finally:
            _PIPE.clear()
            send.close()  # the child's copy is the only writer: its death ends recv()

    def nodes(self) -> NodeRead | None:
        """The tagged nodes sent ahead, as :class:`NodeRead`; None when none were.

        Returns
        -------
        NodeRead or None
        """
        try:
            got = self._recv.recv()
        except EOFError:  # the child died: result() says why
            return None
        return got.finish() if got is not None else None

    def result(self) -> ColumnRead:
        """The rest of the read (the ways, and any node after the first way).

        Returns
        -------
        ColumnRead
        """
        result: ColumnRead = self._fut.result()
        return result

    def close(self) -> None:
        """Close the pipe (a child still sending stops) and stop the child."""
        self._recv.close()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _fetch_in_child(path: str) -> ColumnRead:
    """In the forked child: :func:`fetch_columns`, the nodes sent from a thread meanwhile."""
    pipe, parents_end = _PIPE
    # the parent's read end, inherited at the fork: while the child holds it open, a parent
    # that stops reading (its own error) leaves the child blocked on a full pipe forever
    parents_end.close()
    senders: list[threading.Thread] = []

    def send_quietly(obj: NodeColumns | None) -> None:
        with contextlib.suppress(OSError):  # the parent stopped reading (its own error)
            pipe.send(obj)

    def send(nodes: NodeColumns) -> None:
        # the parent reads once its own pass is done: a thread waits on the pipe, not the read
        t = threading.Thread(target=send_quietly, args=(nodes,), daemon=True)
        t.start()
        senders.append(t)

    try:
        return fetch_columns(path, send_nodes=send)
    finally:
        if senders:
            senders[0].join()
        else:
            send_quietly(None)
        pipe.close()
