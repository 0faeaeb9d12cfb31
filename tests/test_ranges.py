"""Runs of consecutive indices, against a loop over each run."""

from __future__ import annotations

import numpy as np

from geoplan._ranges import ranges


def test_runs_concatenated_in_order() -> None:
    starts, lens = np.array([5, 0, 9, 2]), np.array([3, 0, 1, 2])
    assert ranges(starts, lens).tolist() == [5, 6, 7, 9, 2, 3]
    rng = np.random.default_rng(1)
    s, n = rng.integers(0, 1000, 200), rng.integers(0, 6, 200)
    want = [i for a, k in zip(s.tolist(), n.tolist(), strict=True) for i in range(a, a + k)]
    assert ranges(s, n).tolist() == want
    assert ranges(np.zeros(0, np.int64), np.zeros(0, np.int64)).dtype == np.int64
