"""The column read of a PBF put together as it streams: tag dicts, way lists and areas.

:func:`geoplan.io.osm_columns.scan` sends the tagged nodes, then every batch's kept ways,
located, then the relations. :class:`Assembly` turns each into what
:class:`geoplan.io.osm.RawOSM` holds as it arrives. With a forked child doing the scan
(:class:`ColumnsInChild`), this process builds the dicts and areas of one batch while the child
reads the next, so the two cores share the read.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geoplan._fork import start_child
from geoplan.io.osm_areas import Area, NodeArrays, closed_way_areas
from geoplan.io.osm_columns import EndPart, NodeColumns, NodeRead, WayBatch, scan
from geoplan.io.osm_raw import WayLists
from geoplan.rules.tag_table import TagTable


@dataclass
class ColumnResult:
    """Everything :class:`geoplan.io.osm.RawOSM` holds from a column read."""

    #: ways with a ``highway`` tag: ids, tags, node counts, node refs and fixed-point (1e-7
    #: degree) x / y, libosmium's undefined coordinate where a node is missing from the file
    ways: WayLists
    #: ways with a barrier key (:data:`geoplan.io.osm.BARRIER_KEYS`), the same way
    barrier_ways: WayLists
    #: tagged nodes with a key geoplan reads, split as :func:`geoplan.io.osm.read_osm` does
    nodes: NodeRead
    #: closed ways and multipolygon relations (:mod:`geoplan.io.osm_areas`), libosmium's order
    areas: list[Area]
    areas_failed: int
    #: public_transport=stop_area relations: (tags, [(member type "n"/"w"/"r", member id)])
    stop_areas: list[tuple[dict[str, str], list[tuple[str, int]]]]


@dataclass
class Assembly:
    """Receives a scan (:class:`geoplan.io.osm_columns.Sink`) and builds its result.

    ``on_ways`` is called with the highway and barrier way lists once every way has come,
    while the scan still assembles the relations.
    """

    on_ways: Callable[[WayLists, WayLists], None] | None = None
    node_read: NodeRead = field(default_factory=NodeRead)
    _ways: list[WayLists] = field(default_factory=list)
    _barriers: list[WayLists] = field(default_factory=list)
    _areas: list[Area] = field(default_factory=list)
    _area_rows: list[NDArray[np.int64]] = field(default_factory=list)

    def nodes(self, cols: NodeColumns) -> None:
        """Tagged nodes, as points and gates.

        Parameters
        ----------
        cols
            The nodes.
        """
        cols.finish(self.node_read)

    def ways(self, batch: WayBatch) -> None:
        """A batch's ways: highway and barrier way lists, closed-way areas.

        Parameters
        ----------
        batch
            The ways.
        """
        # dicts only for barrier ways and areas; the highway ways keep their codes
        # (:class:`~geoplan.rules.tag_table.TagTable`: no dict per way)
        need = np.flatnonzero(batch.barrier | batch.area)
        tags = dict(zip(need.tolist(), batch.tags.take(need).dicts(), strict=True))
        starts = np.concatenate([[0], np.cumsum(batch.lens)])
        ids = batch.ids.tolist()
        arrays = (batch.lens, starts, batch.refs, batch.x, batch.y)
        self._ways.append(_subset(ids, batch.tags, *arrays, batch.highway))
        self._barriers.append(_subset(ids, tags, *arrays, batch.barrier))
        located = NodeArrays(starts, batch.x, batch.y)
        areas, rows = closed_way_areas(located, np.flatnonzero(batch.area), batch.ids, tags)
        self._areas.extend(areas)
        self._area_rows.append(batch.rows[rows])

    def reset(self) -> None:
        """Forget the ways received so far (they come again)."""
        self._ways.clear()
        self._barriers.clear()
        self._areas.clear()
        self._area_rows.clear()

    def ways_done(self) -> None:
        """Every way has come: the way lists joined, and handed to ``on_ways``."""
        self._ways[:] = [_concat(self._ways)]
        self._barriers[:] = [_concat(self._barriers)]
        if self.on_ways is not None:
            self.on_ways(self._ways[0], self._barriers[0])

    def finish(self, end: EndPart) -> ColumnResult:
        """The read, once the scan has ended.

        Parameters
        ----------
        end
            The scan's relations.

        Returns
        -------
        ColumnResult
        """
        # libosmium's order: a relation's area just before the area of the way completing it
        at = np.concatenate([*self._area_rows, end.last_member])
        is_rel = np.zeros(at.shape[0], dtype=bool)
        is_rel[len(self._areas) :] = True
        both = self._areas + end.areas
        areas = [both[i] for i in np.lexsort((~is_rel, at)).tolist()]
        return ColumnResult(
            _concat(self._ways),
            _concat(self._barriers),
            self.node_read,
            areas,
            end.areas_failed,
            end.stop_areas,
        )


def read_columns(
    path: str | Path, *, on_ways: Callable[[WayLists, WayLists], None] | None = None
) -> ColumnResult:
    """Highway ways, barrier ways, tagged nodes, areas and stop-area relations of a PBF file.

    In this process; :class:`ColumnsInChild` does the same with the scan in a forked child.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file (WGS84).
    on_ways
        Called with the highway and barrier way lists before the relations are assembled.

    Returns
    -------
    ColumnResult
    """
    sink = Assembly(on_ways)
    return sink.finish(scan(path, sink))


def _concat(parts: list[WayLists]) -> WayLists:
    """Way lists of consecutive batches as one."""
    out = WayLists()
    tables = [w.tags for w in parts if isinstance(w.tags, TagTable)]
    for w in parts:
        out.ids.extend(w.ids)
        if not isinstance(w.tags, TagTable):
            out.tags.extend(w.tags)
        out.lengths.extend(w.lengths)
    if tables:
        out.tags = TagTable.concat(tables)
    for f in ("refs", "x", "y"):
        arrays = [np.asarray(getattr(w, f), dtype=np.int64) for w in parts]
        setattr(out, f, np.concatenate(arrays) if arrays else np.zeros(0, np.int64))
    return out


def _subset(
    ids: list[int],
    tags: TagTable | Mapping[int, dict[str, str]],
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
        tags.take(rows) if isinstance(tags, TagTable) else [tags[i] for i in sel],
        lens[rows].tolist(),
        refs[pos],
        x[pos],
        y[pos],
    )


#: the pipe a forked child sends its scan through, and the parent's read end (inherited,
#: never pickled; the child closes its copy of the read end)
_PIPE: list[Any] = []


class ColumnsInChild:
    """:func:`geoplan.io.osm_columns.scan` in a forked child, streamed through a pipe.

    The child sends the tagged nodes, then each batch's ways as it reads them; this process
    builds their dicts, way lists and areas meanwhile (:meth:`assemble`).

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
            self._pool, self._fut = start_child(_scan_in_child, str(path))
        finally:
            _PIPE.clear()
            send.close()  # the child's copy is the only writer: its death ends recv()

    def assemble(
        self, *, on_ways: Callable[[WayLists, WayLists], None] | None = None
    ) -> ColumnResult:
        """The read: each message handled as it arrives, then the child's end part.

        Parameters
        ----------
        on_ways
            Called with the highway and barrier way lists while the child assembles the
            relations.

        Returns
        -------
        ColumnResult
        """
        sink = Assembly(on_ways)
        while True:
            try:
                kind, obj = self._recv.recv()
            except EOFError:  # the child died: its future says why
                break
            if kind == "end":
                break
            getattr(sink, kind)(*(() if obj is None else (obj,)))
        end: EndPart = self._fut.result()
        return sink.finish(end)

    def close(self) -> None:
        """Close the pipe (a child still sending stops) and stop the child."""
        self._recv.close()
        self._pool.shutdown(wait=True, cancel_futures=True)


class _PipeSink:
    """In the child: the scan's messages, sent from a thread so the scan never waits.

    Parameters
    ----------
    pipe
        The write end of the pipe to the parent.
    """

    def __init__(self, pipe: Any) -> None:
        self._pipe = pipe
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._send_all, daemon=True)
        self._thread.start()

    def _send_all(self) -> None:
        while True:
            msg = self._queue.get()
            try:
                self._pipe.send(msg)
            except OSError:  # the parent stopped reading (its own error)
                return
            if msg[0] == "end":
                return

    def nodes(self, cols: NodeColumns) -> None:  # numpydoc ignore=GL08
        self._queue.put(("nodes", cols))

    def ways(self, batch: WayBatch) -> None:  # numpydoc ignore=GL08
        self._queue.put(("ways", batch))

    def reset(self) -> None:  # numpydoc ignore=GL08
        self._queue.put(("reset", None))

    def ways_done(self) -> None:  # numpydoc ignore=GL08
        self._queue.put(("ways_done", None))

    def end(self) -> None:
        """Send the end mark and wait until everything is sent."""
        self._queue.put(("end", None))
        self._thread.join()


def _scan_in_child(path: str) -> EndPart:
    """In the forked child: the scan, streamed to the parent; the end part is returned."""
    pipe, parents_end = _PIPE
    # the parent's read end, inherited at the fork: while the child holds it open, a parent
    # that stops reading (its own error) leaves the child blocked on a full pipe forever
    parents_end.close()
    sink = _PipeSink(pipe)
    try:
        return scan(path, sink)
    finally:
        with contextlib.suppress(OSError):
            sink.end()
        pipe.close()
