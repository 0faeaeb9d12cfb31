"""Facility sources kept per feature, as runs of rows of the batches they were computed in.

The access cache keeps the sources of each polygon and line feature apart (a scenario that moves
one park attaches that park alone; park size tiers share the parks they have in common). A
city's check computes them for about 170 k features at once. Kept as four array views and a
tuple per feature, the bookkeeping alone was ~90 MB at Helsinki 18×18 (about 520 bytes of
Python objects per feature) on top of the rows, and gathering a layer concatenated four small
arrays per feature. Here a batch keeps its rows in four arrays sorted by feature, and each
feature is three integers (batch, first row, end row) in arrays of their own; a layer's rows are
gathered batch by batch with one index array each, in the order of its features.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from numpy.typing import NDArray

from geoplan._ranges import ranges

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: the four row arrays of a feature's sources: edge, t0, t1, offset (m)
Rows = tuple[I64, F64, F64, F64]


class FeatureStore:
    """Sources of features by key: each feature's rows are a run of one batch's arrays."""

    _number: dict[Hashable, int]
    _batches: list[Rows]
    #: per feature number: its batch, its first row and the row after its last
    _batch: I64
    _start: I64
    _stop: I64

    def __init__(self) -> None:
        self.clear()

    def __len__(self) -> int:
        """Number of features kept.

        Returns
        -------
        int
        """
        return len(self._number)

    def __contains__(self, key: object) -> bool:
        """Whether the sources of feature ``key`` are kept.

        Parameters
        ----------
        key
            The feature's key.

        Returns
        -------
        bool
        """
        return key in self._number

    def clear(self) -> None:
        """Forget every feature."""
        self._number = {}
        self._batches = []
        self._batch = np.zeros(0, dtype=np.int64)
        self._start = np.zeros(0, dtype=np.int64)
        self._stop = np.zeros(0, dtype=np.int64)

    def add(self, keys: Sequence[Hashable], rows: Rows, owner: I64) -> None:
        """Keep one batch: the rows of ``keys[i]`` are those whose ``owner`` is ``i``.

        Parameters
        ----------
        keys
            One key per feature of the batch (a key already kept is kept again, as computed now).
        rows
            ``(edge, t0, t1, offset_m)`` of the batch's sources, one row per source.
        owner
            Per row, the position of its feature in ``keys``.
        """
        order = np.argsort(owner, kind="stable")
        bounds = np.searchsorted(owner[order], np.arange(len(keys) + 1))
        b = len(self._batches)
        edge = np.asarray(rows[0], dtype=np.int64)[order]
        t0, t1, off = (np.asarray(r, dtype=np.float64)[order] for r in rows[1:])
        self._batches.append((edge, t0, t1, off))
        first = self._batch.shape[0]
        self._batch = np.concatenate([self._batch, np.full(len(keys), b, dtype=np.int64)])
        self._start = np.concatenate([self._start, bounds[:-1].astype(np.int64)])
        self._stop = np.concatenate([self._stop, bounds[1:].astype(np.int64)])
        for i, k in enumerate(keys):
            self._number[k] = first + i

    def get(self, key: Hashable) -> Rows:
        """The rows of one feature (views of its batch's arrays).

        Parameters
        ----------
        key
            The feature's key.

        Returns
        -------
        tuple
            ``(edge, t0, t1, offset_m)``.
        """
        i = self._number[key]
        a, z = int(self._start[i]), int(self._stop[i])
        batch = self._batches[int(self._batch[i])]
        return batch[0][a:z], batch[1][a:z], batch[2][a:z], batch[3][a:z]

    def gather(self, keys: Sequence[Hashable]) -> tuple[Rows, I64]:
        """The rows of ``keys``, one feature after the other, and each row's feature position.

        Parameters
        ----------
        keys
            Keys of kept features (repeats allowed).

        Returns
        -------
        rows : tuple
            ``(edge, t0, t1, offset_m)``, the rows of ``keys[0]`` first.
        owner : ndarray of int64
            Per row, the position in ``keys`` of its feature.
        """
        num = np.fromiter((self._number[k] for k in keys), dtype=np.int64, count=len(keys))
        start, count = self._start[num], self._stop[num] - self._start[num]
        batch = self._batch[num]
        at = np.cumsum(count) - count
        total = int(count.sum())
        out: Rows = (
            np.empty(total, dtype=np.int64),
            np.empty(total),
            np.empty(total),
            np.empty(total),
        )
        for b in np.unique(batch):
            sel = np.flatnonzero(batch == b)
            src = ranges(start[sel], count[sel])
            dst = ranges(at[sel], count[sel])
            for o, col in zip(out, self._batches[int(b)], strict=True):
                o[dst] = col[src]
        owner = np.repeat(np.arange(len(keys), dtype=np.int64), count)
        return out, owner
