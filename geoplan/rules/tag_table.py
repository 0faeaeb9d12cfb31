"""Tags of many features as integer codes, read as one dict per feature only where asked.

A city read holds a tag set per highway way (837k at Helsinki 18×18). One dict per way cost
~340 MB that stayed resident after the read (the dicts were freed, but Python's small-object
arenas they lived in were pinned by the objects built beside them) and a Python loop per way
wherever a rule looked at them. :class:`TagTable` keeps the codes DuckDB's dictionary encoding
gives (one ``int32`` key code and value code per tag) and answers the questions the rules ask
column-wise: one key's value per feature (:meth:`TagTable.column`), the features grouped by the
tags some rules read (:meth:`TagTable.distinct_sets`, behind
:class:`geoplan.rules.tags.TagSets`), a subset (:meth:`TagTable.take`). Indexing or iterating
gives the same dicts as before, built when read.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from typing import overload

import numpy as np
from numpy.typing import NDArray

from geoplan._ranges import ranges

#: rows turned into dicts at a time when iterating
_CHUNK = 65_536


class TagTable(Sequence[dict[str, str]]):
    """One tag set per row, as codes into a key list and a value list.

    Row ``i`` holds the tags ``offsets[i]:offsets[i + 1]`` of ``key_codes`` / ``value_codes``,
    in the order they were read.

    Parameters
    ----------
    offsets
        Length ``n + 1``, from 0.
    key_codes, value_codes
        Codes into ``keys`` / ``values``, one per tag.
    keys, values
        The distinct keys and values.
    """

    def __init__(
        self,
        offsets: NDArray[np.integer],
        key_codes: NDArray[np.integer],
        value_codes: NDArray[np.integer],
        keys: list[str],
        values: list[str],
    ) -> None:
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.key_codes = np.asarray(key_codes, dtype=np.int32)
        self.value_codes = np.asarray(value_codes, dtype=np.int32)
        self.keys = [sys.intern(k) for k in keys]
        self.values = list(values)

    @classmethod
    def of_dicts(cls, tags: Iterable[dict[str, str]]) -> TagTable:
        """The table of some tag dicts (a test, an edited network).

        Parameters
        ----------
        tags
            One dict per row.

        Returns
        -------
        TagTable
        """
        kidx: dict[str, int] = {}
        vidx: dict[str, int] = {}
        kc: list[int] = []
        vc: list[int] = []
        lens: list[int] = []
        for t in tags:
            lens.append(len(t))
            for k, v in t.items():
                kc.append(kidx.setdefault(k, len(kidx)))
                vc.append(vidx.setdefault(v, len(vidx)))
        off = np.concatenate([[0], np.cumsum(np.asarray(lens, dtype=np.int64))])
        return cls(off, np.asarray(kc), np.asarray(vc), list(kidx), list(vidx))

    @classmethod
    def concat(cls, parts: Sequence[TagTable]) -> TagTable:
        """Rows of ``parts`` one after the other, on one key list and one value list.

        Parameters
        ----------
        parts
            Tables with their own key and value lists (one per read batch).

        Returns
        -------
        TagTable
        """
        if len(parts) == 1:
            return parts[0]
        kidx: dict[str, int] = {}
        vidx: dict[str, int] = {}
        offs, kcs, vcs = [np.zeros(1, dtype=np.int64)], [], []
        base = 0
        for p in parts:
            kmap = np.fromiter(
                (kidx.setdefault(k, len(kidx)) for k in p.keys), np.int32, len(p.keys)
            )
            vmap = np.fromiter(
                (vidx.setdefault(v, len(vidx)) for v in p.values), np.int32, len(p.values)
            )
            kcs.append(kmap[p.key_codes] if kmap.size else p.key_codes)
            vcs.append(vmap[p.value_codes] if vmap.size else p.value_codes)
            offs.append(p.offsets[1:] + base)
            base += int(p.offsets[-1])
        return cls(
            np.concatenate(offs),
            np.concatenate(kcs) if kcs else np.zeros(0, np.int32),
            np.concatenate(vcs) if vcs else np.zeros(0, np.int32),
            list(kidx),
            list(vidx),
        )

    def __len__(self) -> int:
        """Number of rows.

        Returns
        -------
        int
        """
        return int(self.offsets.shape[0] - 1)

    @overload
    def __getitem__(self, i: int) -> dict[str, str]: ...

    @overload
    def __getitem__(self, i: slice) -> TagTable: ...

    def __getitem__(self, i: int | slice) -> dict[str, str] | TagTable:
        """Row ``i``'s tags as a dict, or a slice of rows.

        Parameters
        ----------
        i
            A row or a slice.

        Returns
        -------
        dict or TagTable
        """
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        n = len(self)
        if not -n <= i < n:
            raise IndexError(i)
        i %= n
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        keys, values = self.keys, self.values
        return {
            keys[k]: values[v]
            for k, v in zip(
                self.key_codes[a:b].tolist(), self.value_codes[a:b].tolist(), strict=True
            )
        }

    def __iter__(self) -> Iterator[dict[str, str]]:
        """Each row's tags as a dict (built when reached).

        Yields
        ------
        dict of str to str
        """
        for a in range(0, len(self), _CHUNK):
            yield from self.take(np.arange(a, min(a + _CHUNK, len(self)))).dicts()

    def dicts(self) -> list[dict[str, str]]:
        """Every row's tags as a dict (each key one interned str).

        Returns
        -------
        list of dict
        """
        k = np.array(self.keys, dtype=object)
        v = np.array(self.values, dtype=object)
        keys = k[self.key_codes].tolist()
        vals = v[self.value_codes].tolist()
        off = self.offsets.tolist()
        return [dict(zip(keys[a:b], vals[a:b], strict=True)) for a, b in pairwise(off)]

    def take(self, rows: NDArray[np.integer] | Sequence[int]) -> TagTable:
        """The rows ``rows`` (indices, in that order), on the same key and value lists.

        Parameters
        ----------
        rows
            Row indices.

        Returns
        -------
        TagTable
        """
        r = np.asarray(rows, dtype=np.int64)
        lens = np.diff(self.offsets)[r]
        pos = ranges(self.offsets[r], lens)
        out = TagTable.__new__(TagTable)
        out.offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        out.key_codes = self.key_codes[pos]
        out.value_codes = self.value_codes[pos]
        out.keys, out.values = self.keys, self.values
        return out

    def column(self, key: str, default: str | None = None) -> NDArray[np.object_]:
        """Every row's value of ``key``, ``default`` where the row has no such tag.

        Parameters
        ----------
        key
            A tag key.
        default
            The value of rows without the tag.

        Returns
        -------
        ndarray of object
        """
        out = np.full(len(self), default, dtype=object)
        if key not in self.keys:
            return out
        at = np.flatnonzero(self.key_codes == self.keys.index(key))
        rows = np.searchsorted(self.offsets, at, side="right") - 1
        out[rows] = np.array(self.values, dtype=object)[self.value_codes[at]]
        return out

    def distinct_sets(self, keys: frozenset[str]) -> tuple[list[dict[str, str]], NDArray[np.int64]]:
        """The distinct combinations of the tags in ``keys``, and each row's combination.

        Rows are grouped by a 64-bit sum of random numbers, one per (key, value) pair, then
        checked exactly: a row is in a group only if it has as many pairs as the group's first
        row and each of them is one of that row's (pairs in a row have distinct keys). Rows a
        collision put in the wrong group (never seen; about n² / 2⁶⁴) are grouped apart.

        Parameters
        ----------
        keys
            The keys that count.

        Returns
        -------
        distinct : list of dict
            Each combination's tags, numbered by the first row that has it.
        inverse : ndarray of int64
            Each row's combination.
        """
        n = len(self)
        kk = np.array([i for i, k in enumerate(self.keys) if k in keys], dtype=np.int32)
        at = np.flatnonzero(np.isin(self.key_codes, kk))
        row = np.searchsorted(self.offsets, at, side="right") - 1  # ascending
        nv = np.int64(max(len(self.values), 1))
        pair = self.key_codes[at].astype(np.int64) * nv + self.value_codes[at]
        uniq, pid = np.unique(pair, return_inverse=True)
        pid = pid.reshape(-1)
        rnd = _pair_numbers(uniq.shape[0])
        count = np.bincount(row, minlength=n)
        start = np.concatenate([[0], np.cumsum(count)])
        # per-row sums of the pairs' numbers (wrapping): differences of one running sum
        csum = np.concatenate([np.zeros(1, np.uint64), np.cumsum(rnd[pid], dtype=np.uint64)])
        rhash = csum[start[1:]] - csum[start[:-1]]
        group = _first_numbered(rhash, count)
        # exact check: every pair of a row among its group's first row's pairs
        first = _first_rows(group)
        g_of = group[row]
        ref = first[group]
        same_count = count == count[ref]
        ref_entries = np.flatnonzero(first[g_of] == row)  # the first rows' own entries
        ref_keys = np.sort(g_of[ref_entries].astype(np.int64) * uniq.shape[0] + pid[ref_entries])
        key = g_of.astype(np.int64) * uniq.shape[0] + pid
        pos = np.minimum(np.searchsorted(ref_keys, key), max(ref_keys.shape[0] - 1, 0))
        ok_entry = ref_keys[pos] == key if ref_keys.size else np.zeros(key.shape, bool)
        bad = ~same_count
        bad[row[~ok_entry]] = True
        if bad.any():  # a hash collision: those rows grouped by their pairs themselves
            group = self._regroup(group, bad, row, pid)
            first = _first_rows(group)
        keys_l, values_l = self.keys, self.values
        kc, vc = self.key_codes.tolist(), self.value_codes.tolist()
        distinct = []
        for r in first.tolist():
            sel = at[start[r] : start[r + 1]].tolist()
            distinct.append({keys_l[kc[e]]: values_l[vc[e]] for e in sel})
        return distinct, group

    @staticmethod
    def _regroup(
        group: NDArray[np.int64],
        bad: NDArray[np.bool_],
        row: NDArray[np.int64],
        pid: NDArray[np.int64],
    ) -> NDArray[np.int64]:
        """Groups again with the rows in ``bad`` keyed by their sorted pairs (exact)."""
        sig: list[tuple[int, ...]] = [()] * group.shape[0]
        for r in np.flatnonzero(bad).tolist():
            sig[r] = tuple(sorted(pid[row == r].tolist()))
        index: dict[tuple[int, tuple[int, ...]], int] = {}
        out = np.empty_like(group)
        for r, (g, b) in enumerate(zip(group.tolist(), bad.tolist(), strict=True)):
            k = (-1, sig[r]) if b else (g, ())
            out[r] = index.setdefault(k, len(index))
        return out

    def __eq__(self, other: object) -> bool:
        """The same tags row for row (another table or a sequence of dicts).

        Parameters
        ----------
        other
            Another object.

        Returns
        -------
        bool
        """
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """Counts of rows and tags.

        Returns
        -------
        str
        """
        return f"TagTable({len(self)} rows, {self.key_codes.shape[0]} tags)"


def _pair_numbers(n: int) -> NDArray[np.uint64]:
    """``n`` random 64-bit numbers (fixed seed), one per distinct (key, value) pair."""
    return np.random.default_rng(0x7A65).integers(
        0, np.iinfo(np.uint64).max, n, dtype=np.uint64, endpoint=True
    )


def _first_numbered(values: NDArray[np.uint64], count: NDArray[np.int64]) -> NDArray[np.int64]:
    """Group ids of equal (value, count) rows, numbered by the first row of each group."""
    _, first, inv = np.unique(
        values ^ count.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15),
        return_index=True,
        return_inverse=True,
    )
    number = np.empty(first.shape[0], dtype=np.int64)
    number[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
    return number[inv.reshape(-1)]


def _first_rows(group: NDArray[np.int64]) -> NDArray[np.int64]:
    """The first row of each group (groups numbered 0.. by first row)."""
    # numbered by first row: a group's first row is where the running maximum steps up
    seen = np.maximum.accumulate(np.concatenate([[-1], group]))
    return np.flatnonzero(seen[1:] > seen[:-1]).astype(np.int64)


def take_tags(
    tags: Sequence[dict[str, str]], rows: NDArray[np.integer]
) -> Sequence[dict[str, str]]:
    """The tags of ``rows``: a table's rows as a table, a list's as a list.

    Parameters
    ----------
    tags
        A :class:`TagTable` or a list of dicts.
    rows
        Row indices.

    Returns
    -------
    TagTable or list of dict
    """
    if isinstance(tags, TagTable):
        return tags.take(rows)
    return [tags[i] for i in np.asarray(rows, dtype=np.int64).tolist()]


def tag_column(
    tags: Sequence[dict[str, str]], key: str, default: str | None = None
) -> NDArray[np.object_]:
    """Every row's value of ``key`` (``default`` where missing), for a table or a list of dicts.

    Parameters
    ----------
    tags
        A :class:`TagTable` or a list of dicts.
    key
        A tag key.
    default
        The value of rows without the tag.

    Returns
    -------
    ndarray of object
    """
    if isinstance(tags, TagTable):
        return tags.column(key, default)
    out = np.empty(len(tags), dtype=object)
    out[:] = [t.get(key, default) for t in tags]
    return out
