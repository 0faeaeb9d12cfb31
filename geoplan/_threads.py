"""Both cores for row-wise GEOS work: shapely's vectorised functions release the GIL.

``shapely.intersection(a, b)`` or ``STRtree.query(geoms, predicate=…)`` over many rows runs
in C without the GIL, so the rows cut in chunks run on threads side by side. The answer is the
one of a single call: each row's result does not depend on the others, chunks are joined in
row order (a query's indices shifted back to the whole array's rows). Nothing may be changed
while the threads run (no ``shapely.prepare``): a prepared geometry shared by the rows is used
once before (GEOS builds its indexes lazily).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

#: rows below which one call is cheaper than the threads
MIN_ROWS = 2048
#: chunks per thread: rows differ in cost, smaller chunks keep both threads busy
CHUNKS_PER_THREAD = 4


def _slices(n: int, workers: int) -> list[slice]:
    k = min(workers * CHUNKS_PER_THREAD, max(1, n // (MIN_ROWS // 2)))
    b = np.linspace(0, n, k + 1).astype(np.int64)
    return [slice(int(a), int(c)) for a, c in itertools.pairwise(b) if c > a]


def _workers() -> int:
    return min(2, os.cpu_count() or 1)


def _chunked(fn: Callable[[slice], Any], n: int) -> list[tuple[slice, Any]] | None:
    """``fn`` over chunks of ``range(n)`` on threads, with each chunk (None: too few rows)."""
    workers = _workers()
    if n < MIN_ROWS or workers < 2:
        return None
    cuts = _slices(n, workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(zip(cuts, pool.map(fn, cuts), strict=True))


def rows(fn: Callable[..., Any], *arrays: Any) -> Any:
    """``fn(*arrays)`` for a row-wise function, its rows cut in chunks run on threads.

    Parameters
    ----------
    fn
        A function of arrays of equal length returning one value per row (``shapely.length``,
        ``shapely.intersection``…); it must release the GIL to gain.
    *arrays
        Its arguments (numpy arrays, same length).

    Returns
    -------
    ndarray
        ``fn(*arrays)``.
    """
    done = _chunked(lambda s: fn(*(a[s] for a in arrays)), len(arrays[0]))
    if done is None:
        return fn(*arrays)
    return np.concatenate([d for _, d in done])


def query(tree: shapely.STRtree, geoms: NDArray[np.object_], **kwargs: Any) -> NDArray[np.int64]:
    """``tree.query(geoms, **kwargs)`` with ``geoms`` cut in chunks run on threads.

    Parameters
    ----------
    tree
        The tree.
    geoms
        Query geometries (an array).
    **kwargs
        ``predicate``, ``distance`` as for :meth:`shapely.STRtree.query`.

    Returns
    -------
    ndarray
        ``(2, k)`` pairs (query row, tree row), in the order of one call.
    """
    done = _chunked(lambda s: np.asarray(tree.query(geoms[s], **kwargs)), geoms.shape[0])
    if done is None:
        return np.asarray(tree.query(geoms, **kwargs))
    for s, d in done:
        d[0] += s.start
    return np.concatenate([d for _, d in done], axis=1)
