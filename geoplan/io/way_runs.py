"""Highway ways as runs of located nodes, stored column-wise.

A city read holds up to a million runs. One small object with three array slices per run cost
2.7 s to build at Helsinki 18×18 and the network builder concatenated them straight back;
:class:`WayRuns` keeps the flat node arrays and per-run offsets instead, hands out a
:class:`RawWay` view only where one run is looked at, and lets the walk network and the layers
take whole columns (ids, tags, coordinates) at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import NDArray

from geoplan._ranges import ranges
from geoplan.rules.tag_table import take_tags


@dataclass
class RawWay:
    """A highway way split into runs of nodes whose locations are known."""

    osmid: int
    tags: dict[str, str]
    refs: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]


class WayRuns(Sequence[RawWay]):
    """Runs of highway ways: ids, tags, and every run's nodes one after the other.

    Parameters
    ----------
    ids
        OSM way id of each run (a way cut at a missing node gives several runs).
    tags
        Tags of each run's way: a list of dicts, or a
        :class:`~geoplan.rules.tag_table.TagTable` (the columnar read: no dict per run).
    offsets
        Run ``i`` holds nodes ``offsets[i]:offsets[i + 1]`` (length ``len(ids) + 1``).
    refs, lon, lat
        Node ids and WGS84 degrees of every run's nodes, run after run.
    """

    def __init__(
        self,
        ids: NDArray[np.int64],
        tags: Sequence[dict[str, str]],
        offsets: NDArray[np.int64],
        refs: NDArray[np.int64],
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
    ) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self.tags = tags
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.refs = refs
        self.lon = lon
        self.lat = lat

    @classmethod
    def empty(cls) -> WayRuns:
        """No runs.

        Returns
        -------
        WayRuns
        """
        z = np.zeros(0, dtype=np.int64)
        return cls(z, [], np.zeros(1, dtype=np.int64), z, z.astype(float), z.astype(float))

    @classmethod
    def of(cls, ways: Iterable[RawWay]) -> WayRuns:
        """Runs from :class:`RawWay` objects (an edited network, a test).

        Parameters
        ----------
        ways
            The runs.

        Returns
        -------
        WayRuns
        """
        if isinstance(ways, WayRuns):
            return ways
        ways = list(ways)
        if not ways:
            return cls.empty()
        lens = np.fromiter((w.refs.shape[0] for w in ways), dtype=np.int64, count=len(ways))
        return cls(
            np.fromiter((w.osmid for w in ways), dtype=np.int64, count=len(ways)),
            [w.tags for w in ways],
            np.concatenate([[0], np.cumsum(lens)]),
            np.concatenate([w.refs for w in ways]).astype(np.int64, copy=False),
            np.concatenate([w.lon for w in ways]),
            np.concatenate([w.lat for w in ways]),
        )

    def __len__(self) -> int:
        """Number of runs.

        Returns
        -------
        int
        """
        return int(self.ids.shape[0])

    @overload
    def __getitem__(self, i: int) -> RawWay: ...

    @overload
    def __getitem__(self, i: slice) -> WayRuns: ...

    def __getitem__(self, i: int | slice) -> RawWay | WayRuns:
        """Run ``i`` as a :class:`RawWay` of array views, or a slice of runs.

        Parameters
        ----------
        i
            A run index or a slice.

        Returns
        -------
        RawWay or WayRuns
        """
        if isinstance(i, slice):
            return self.select(np.arange(len(self))[i])
        n = len(self)
        if not -n <= i < n:
            raise IndexError(i)
        i %= n
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return RawWay(int(self.ids[i]), self.tags[i], self.refs[a:b], self.lon[a:b], self.lat[a:b])

    def __iter__(self) -> Iterator[RawWay]:
        """Each run as a :class:`RawWay` of array views.

        Yields
        ------
        RawWay
        """
        off = self.offsets.tolist()
        refs, lon, lat = self.refs, self.lon, self.lat
        for i, (osmid, tags) in enumerate(zip(self.ids.tolist(), self.tags, strict=True)):
            a, b = off[i], off[i + 1]
            yield RawWay(osmid, tags, refs[a:b], lon[a:b], lat[a:b])

    def lengths(self) -> NDArray[np.int64]:
        """Nodes per run.

        Returns
        -------
        ndarray of int64
        """
        return np.diff(self.offsets)

    def run_of_node(self) -> NDArray[np.int64]:
        """The run each node belongs to (length ``len(refs)``).

        Returns
        -------
        ndarray of int64
        """
        return np.repeat(np.arange(len(self)), self.lengths())

    def select(self, keep: NDArray[np.bool_] | NDArray[np.int64] | Sequence[int]) -> WayRuns:
        """The runs where ``keep`` (a boolean mask or run indices, in that order).

        Parameters
        ----------
        keep
            Boolean mask over the runs, or run indices.

        Returns
        -------
        WayRuns
        """
        k = np.asarray(keep)
        rows = np.flatnonzero(k) if k.dtype == bool else k.astype(np.int64)
        lens = self.lengths()[rows]
        pos = ranges(self.offsets[rows], lens)
        return WayRuns(
            self.ids[rows],
            take_tags(self.tags, rows),
            np.concatenate([[0], np.cumsum(lens)]),
            self.refs[pos],
            self.lon[pos],
            self.lat[pos],
        )

    def __eq__(self, other: object) -> bool:
        """Same runs: ids, tags, offsets and node arrays.

        Parameters
        ----------
        other
            Another object.

        Returns
        -------
        bool
        """
        if not isinstance(other, WayRuns):
            return NotImplemented
        return (
            np.array_equal(self.ids, other.ids)
            and list(self.tags) == list(other.tags)
            and np.array_equal(self.offsets, other.offsets)
            and np.array_equal(self.refs, other.refs)
            and np.array_equal(self.lon, other.lon)
            and np.array_equal(self.lat, other.lat)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """Counts of runs and nodes.

        Returns
        -------
        str
        """
        return f"WayRuns({len(self)} runs, {self.refs.shape[0]} nodes)"
