"""Runs of consecutive indices as one array: the gather behind every "rows of these runs"."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def ranges(starts: NDArray[np.integer], lens: NDArray[np.integer]) -> NDArray[np.int64]:
    """``starts[i] .. starts[i] + lens[i] - 1`` for each ``i``, concatenated.

    Parameters
    ----------
    starts
        First index of each run.
    lens
        Length of each run (0 allowed).

    Returns
    -------
    ndarray of int64
    """
    s = np.asarray(starts, dtype=np.int64)
    n = np.asarray(lens, dtype=np.int64)
    return np.repeat(s, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
