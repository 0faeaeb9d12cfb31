"""Maximal covering: greedy (fast default) and exact (HiGHS through :func:`scipy.optimize.milp`).

The problem is a sparse 0/1 matrix ``A`` (candidate × demand: candidate j covers demand i),
demand weights ``w`` (m² of land, homes or residents) of what is not yet covered, and either the
weight ``need`` to cover with as few sites as possible (partial set cover) or a number of sites
``p`` covering as much weight as possible (MCLP, Church & ReVelle 1974).

HiGHS is reached through SciPy (already a dependency; ``scipy.optimize.milp`` wraps the HiGHS
branch-and-cut solver); spopt's MCLP builds the same model through PuLP, which would add the PySAL
stack for a model of three constraints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class Solution:
    """Chosen candidates in order, with the weight each adds (greedy order for exact ones too)."""

    chosen: I64
    gains: F64
    covered_weight: float
    optimal: bool | None = None
    status: str = ""


def greedy(A: sp.csr_matrix, w: F64, *, need: float = np.inf, max_sites: int = 100_000) -> Solution:
    """Add the candidate covering the most uncovered weight until ``need`` is covered.

    Ties go to the lowest candidate index. Stops when nothing more can be gained or after
    ``max_sites``. Lazy evaluation (Minoux 1978): a candidate's gain only falls as others are
    chosen, so a gain computed earlier bounds it and only the head of the list is re-scored; the
    result is the plain greedy's.

    Parameters
    ----------
    A
        Candidate × point coverage.
    w
        Weight of each point.
    need
        Weight to cover.
    max_sites
        Stop after this many sites.

    Returns
    -------
    Solution
    """
    A = sp.csr_matrix(A)
    left = np.asarray(w, dtype=float).copy()
    bound = np.asarray(A @ left, dtype=float).ravel()
    fresh = np.zeros(A.shape[0], dtype=np.int64)  # step at which bound[j] was computed
    step = 0
    chosen: list[int] = []
    gains: list[float] = []
    covered = 0.0
    tol = 1e-9 * max(1.0, float(np.sum(left)))
    while covered < need - tol and len(chosen) < max_sites and A.shape[0]:
        j = int(np.argmax(bound))
        if bound[j] <= tol:
            break
        if fresh[j] != step:
            row = A.indices[A.indptr[j] : A.indptr[j + 1]]
            bound[j] = float(left[row].sum())
            fresh[j] = step
            continue
        row = A.indices[A.indptr[j] : A.indptr[j + 1]]
        g = float(bound[j])
        left[row] = 0.0
        chosen.append(j)
        gains.append(g)
        covered += g
        bound[j] = -1.0
        step += 1
    return Solution(np.asarray(chosen, dtype=np.int64), np.asarray(gains, dtype=float), covered)


def _reduced(A: sp.csr_matrix, w: F64) -> tuple[sp.csr_matrix, F64, I64]:
    """Drop demand of zero weight or that no candidate covers, and candidates covering nothing."""
    A = sp.csr_matrix(A)
    cols = np.flatnonzero((np.asarray(A.sum(axis=0)).ravel() > 0) & (w > 0))
    A = A[:, cols]
    rows = np.flatnonzero(np.diff(A.indptr) > 0)
    return sp.csr_matrix(A[rows]), w[cols], rows


def _order(A: sp.csr_matrix, w: F64, picked: I64) -> tuple[I64, F64]:
    """Chosen candidates in greedy order of marginal weight (a readable ranking of a set)."""
    sub = greedy(A[picked], w)
    rest = np.setdiff1d(np.arange(picked.size), sub.chosen)
    order = np.concatenate([sub.chosen, rest])
    return picked[order], np.concatenate([sub.gains, np.zeros(rest.size)])


def exact_min_sites(
    A: sp.csr_matrix, w: F64, *, need: float, time_limit_s: float = 60.0
) -> Solution:
    """Fewest candidates covering at least ``need`` weight (partial set cover), by HiGHS.

    min Σ x_j  s.t.  y_i ≤ Σ_j A_ji x_j,  Σ w_i y_i ≥ need,  x binary,  0 ≤ y ≤ 1.

    Parameters
    ----------
    A
        Candidate × point coverage.
    w
        Weight of each point.
    need
        Weight to cover.
    time_limit_s
        HiGHS time limit (s).

    Returns
    -------
    Solution
    """
    Ar, wr, rows = _reduced(A, np.asarray(w, dtype=float))
    nc, nd = Ar.shape
    if need <= 0:
        return Solution(np.zeros(0, np.int64), np.zeros(0), 0.0, True, "nothing to cover")
    if wr.sum() < need * (1 - 1e-12):
        return Solution(np.zeros(0, np.int64), np.zeros(0), 0.0, None, "infeasible")
    c = np.concatenate([np.ones(nc), np.zeros(nd)])
    cover = sp.hstack([-Ar.T, sp.identity(nd)]).tocsr()  # y_i - Σ A x ≤ 0
    # weights scaled to the need (m² in the millions upset HiGHS's tolerances: it reported
    # 156 sites "optimal" on Chengdu where 100 suffice); y binary is as fast and more robust
    total = sp.csr_matrix(np.concatenate([np.zeros(nc), wr / need])[None, :])
    cons = [
        LinearConstraint(cover, -np.inf, 0.0),
        LinearConstraint(total, 1.0 - 1e-9, np.inf),
    ]
    integrality = np.ones(nc + nd)
    res = milp(
        c,
        constraints=cons,
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit_s, "disp": False},
    )
    if res.x is None:
        return Solution(np.zeros(0, np.int64), np.zeros(0), 0.0, None, res.message)
    picked = rows[np.flatnonzero(res.x[:nc] > 0.5)]
    chosen, gains = _order(sp.csr_matrix(A), np.asarray(w, dtype=float), picked)
    ok = float(gains.sum()) >= need * (1 - 1e-6)
    if not ok:  # never hand on a solution that does not cover what was asked
        return Solution(
            np.zeros(0, np.int64), np.zeros(0), 0.0, None, "solver returned an infeasible set"
        )
    return Solution(chosen, gains, float(gains.sum()), res.status == 0, res.message)


def exact_max_cover(A: sp.csr_matrix, w: F64, *, p: int, time_limit_s: float = 60.0) -> Solution:
    """The ``p`` candidates covering the most weight (MCLP), by HiGHS.

    max Σ w_i y_i  s.t.  y_i ≤ Σ_j A_ji x_j,  Σ x_j ≤ p,  x binary,  0 ≤ y ≤ 1.

    Parameters
    ----------
    A
        Candidate × point coverage.
    w
        Weight of each point.
    p
        Number of sites.
    time_limit_s
        HiGHS time limit (s).

    Returns
    -------
    Solution
    """
    Ar, wr, rows = _reduced(A, np.asarray(w, dtype=float))
    nc, nd = Ar.shape
    if p <= 0 or nc == 0:
        return Solution(np.zeros(0, np.int64), np.zeros(0), 0.0, True, "nothing to choose")
    c = np.concatenate([np.zeros(nc), -wr / wr.sum()])
    cover = sp.hstack([-Ar.T, sp.identity(nd)]).tocsr()
    count = sp.csr_matrix(np.concatenate([np.ones(nc), np.zeros(nd)])[None, :])
    res = milp(
        c,
        constraints=[LinearConstraint(cover, -np.inf, 0.0), LinearConstraint(count, 0, p)],
        integrality=np.ones(nc + nd),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit_s, "disp": False},
    )
    if res.x is None:
        return Solution(np.zeros(0, np.int64), np.zeros(0), 0.0, None, res.message)
    picked = rows[np.flatnonzero(res.x[:nc] > 0.5)]
    chosen, gains = _order(sp.csr_matrix(A), np.asarray(w, dtype=float), picked)
    return Solution(chosen, gains, float(gains.sum()), res.status == 0, res.message)
